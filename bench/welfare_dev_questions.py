"""Hand-written welfare questions (colloquial, as citizens ask) -> Recall@5 per retrieval mode.

    assistant ingest ../shared/corpus/welfare-services-2023/docs --index welfare
    python bench/welfare_dev_questions.py welfare
"""
import sys

from assistant.config import Settings
from assistant.retrieve.search import open_retriever

Q = [
 ("집에 LPG 가스통 쓰는데 금속배관으로 바꿔주는 지원 있나요", "LPG용기_사용가구_시설개선"),
 ("갑자기 실직해서 생계가 막막한데 긴급하게 생활비 지원 받을수 있나요", "긴급복지_지원제도"),
 ("겨울 난방비 때문에 걱정인데 에너지 바우처 신청 어떻게 해요", "에너지바우처"),
 ("전세 보증금 대출 저금리로 받을 수 있는 정부 상품 있나요 무주택 세대주", "버팀목"),
 ("빚이 너무 많아서 채무조정 받고 싶은데 신용회복 어디서 하나요", "채무조정"),
 ("기초생활수급자 전기요금 할인 되나요?", "기초생활수급자를_위한_요금감면제도"),
 ("지붕이 슬레이트인데 철거비용 지원해주나요", "슬레이트_처리_지원"),
 ("아이 운동 강좌 수강료 바우처 있어요?", "스포츠강좌이용권"),
 ("첫 집 살때 주택구입자금 대출 금리 낮은거", "디딤돌대출"),
 ("문화누리카드 잔액 합칠 수 있나요", "통합문화이용권"),
]
s = Settings(index_name=sys.argv[1] if len(sys.argv) > 1 else "welfare")
r = open_retriever(s)
for mode in ("bm25", "dense", "hybrid"):
    hits5 = 0
    for q, gold in Q:
        hits = r.search(q, k=5, mode=mode)
        ok = any(gold in h.source for h in hits)
        hits5 += ok
        if mode == "hybrid":
            print(("OK " if ok else "MISS"), q, "→", [h.source.rsplit("/",1)[-1][:30] for h in hits[:3]])
    print(mode, "Recall@5 =", hits5 / len(Q))
