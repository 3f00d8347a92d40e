"""Evaluation metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval.answers import sentence_support, unsupported_law_citations
from eval.baseline import chunk_text
from eval.drafting import fact_coverage, pii_leaks
from eval.metrics import (
    bootstrap_ci,
    conclusion_polarity,
    groundedness,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    spearman,
    token_f1,
)
from eval.textmatch import (
    GoldPassage,
    containment,
    location_matches,
    passage_relevant,
    source_matches,
)

# results 1..4: only the 2nd is relevant to gold 0, only the 4th to gold 1
RANKING = [set(), {0}, set(), {1}]


def test_recall_any_and_all():
    assert recall_at_k(RANKING, 2, 1) == 0.0
    assert recall_at_k(RANKING, 2, 2) == 1.0           # any gold in the top 2
    assert recall_at_k(RANKING, 2, 2, "all") == 0.5    # one of two gold passages
    assert recall_at_k(RANKING, 2, 5, "all") == 1.0
    assert recall_at_k([], 1, 5) == 0.0


def test_mrr():
    assert mrr_at_k(RANKING, 10) == 0.5
    assert mrr_at_k([set(), set()], 10) == 0.0
    assert mrr_at_k([set()] * 10 + [{0}], 10) == 0.0   # rank 11 is outside @10


def test_ndcg_by_hand():
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; two relevant results retrieved → IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKING, 2, 10) == pytest.approx(expected)
    assert ndcg_at_k(RANKING, 2, 10) == pytest.approx(0.65094, abs=1e-4)
    assert ndcg_at_k([{0}], 1, 10) == 1.0
    assert ndcg_at_k([set()], 1, 10) == 0.0


def test_bootstrap_interval():
    point, lo, hi = bootstrap_ci([1.0] * 20)
    assert (point, lo, hi) == (1.0, 1.0, 1.0)
    point, lo, hi = bootstrap_ci([0.0, 1.0] * 20)
    assert point == 0.5 and 0.3 < lo < 0.5 < hi < 0.7
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def test_bootstrap_of_a_pair_statistic():
    data = np.array([[1, 1], [2, 2], [3, 3], [4, 4.0]])
    point, lo, hi = bootstrap_ci(data, stat=lambda a: float(a[:, 0].sum()), n=50)
    assert point == 10.0 and 4.0 <= lo <= hi <= 16.0


@pytest.mark.parametrize("text, expected", [
    ("이 사안의 경우, 서류 등의 보완을 요구할 수 있습니다.", "positive"),
    ("조정위원회를 서면으로 개최하여 조정할 수 없습니다.", "negative"),
    ("행정사의 업무에 포함되지 않습니다.", "negative"),
    ("난민인정자라 하더라도 인감신고를 할 수 없는 것은 아닙니다.", "positive"),
    ("학원법령에 규정되어 있지 않은 서류를 반드시 제출하도록 요구할 수 있는 것은 아닙니다.", "negative"),
    ("기관장은 보완을 요구하지 않고 설립증을 교부할 수 있습니다.", "positive"),
    ("가. 질의 가에 대해\n\n산입할 수 있습니다.\n\n나. 질의 나에 대해\n\n산입할 수 없습니다.", "mixed"),
    ("가. 질의 가에 대해\n\n해당합니다.\n\n나. 질의 나에 대해\n\n해당합니다.", "positive"),
    ("", None),
    ("관련 조문을 찾았습니다만 [1]", None),
    ("진상을 규명하기 위하여 특별조사위원회를 둔다.", None),       # quoted statute text is no verdict
    ("네, 신청할 수 있어요.", "positive"),
])
def test_conclusion_polarity(text, expected):
    assert conclusion_polarity(text) == expected


def test_token_f1_by_hand():
    # 2 tokens in common; precision 2/3, recall 2/4 → F1 = 4/7
    assert token_f1(["a", "b", "c"], ["a", "b", "d", "e"]) == pytest.approx(4 / 7)
    assert token_f1([], ["a"]) == 0.0
    assert token_f1(["x"], ["y"]) == 0.0


def test_groundedness_and_support():
    pairs = [(["민원", "처리"], ["민원", "처리", "기간"]), (["과태료"], ["민원"])]
    assert groundedness(pairs) == 0.5
    assert math.isnan(groundedness([]))


def test_sentence_support_uses_the_cited_passage():
    def terms(texts):
        return [t.replace(".", "").split() for t in texts]

    passages = {1: "민원 처리 기간 14일", 2: "전혀 다른 내용"}
    # sentence 1 cites [1] and is supported; sentence 2 cites [2] which does not contain its words
    answer = "민원 처리 기간 14일. [1]\n과태료 부과 기준 [2]"
    assert sentence_support(answer, passages, terms) == 0.5
    # an uncited sentence counts as unsupported
    assert sentence_support("민원 처리 기간 14일", passages, terms) == 0.0


def test_spearman_with_ties():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks x = 1, 2.5, 2.5, 4: cov 4.5 / sqrt(4.5 · 5)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(22.5))


def test_containment_ignores_spacing_and_markup():
    assert containment("민원 처리기간", "**민원처리 기간**은 14일") == 1.0
    assert containment("정보공개 청구", "과태료 부과") == 0.0
    # a passage wholly inside a long gold excerpt counts fully (denominator = the shorter side)
    assert containment("가나다라마바사아자차카타파하", "다라마바") == 1.0


def test_locations():
    assert location_matches("제10조", "제9조, 제10조")
    assert not location_matches("제10조", "제10조의2")
    assert location_matches("제10조의2", "제10조의2")
    assert location_matches("p.3", "3쪽, 4쪽")
    assert not location_matches("p.3", "13쪽")
    assert location_matches("", "anything")


def test_sources_and_relevance():
    assert source_matches("korean-laws-admin/행정절차법_법률.md", "/x/corpus/korean-laws-admin/행정절차법_법률.md")
    assert not source_matches("korean-laws-admin/행정절차법_법률.md", "/x/other/행정절차법_법률.md.bak")
    gold = GoldPassage("korean-laws-admin/행정절차법_법률.md", "제43조", "40일(자치법규는 20일) 이상으로 한다")
    assert passage_relevant(gold, "korean-laws-admin/행정절차법_법률.md", "제43조", "무관한 텍스트")
    text = "제43조(예고기간) 입법예고기간은 예고할 때 정하되, 특별한 사정이 없으면 40일(자치법규는 20일) 이상으로 한다."
    assert passage_relevant(gold, "samples/laws/행정절차법_법률.md", "", text)      # by overlap, any file
    assert not passage_relevant(gold, "korean-laws-admin/행정절차법_법률.md", "제44조", "의견제출 및 처리에 관한 규정")
    assert not passage_relevant(gold, "elsewhere.md", "", "40일 이상")              # too short to count by overlap


def test_baseline_chunks_carry_their_location():
    text = "<!-- page 1 -->\n" + "가" * 600 + "\n<!-- page 2 -->\n" + "나" * 100
    chunks = chunk_text(text, 500)
    assert [loc for _, loc in chunks] == ["1쪽", "1쪽, 2쪽"]
    law = "##### 제5조 (목적)\n본문\n##### 제5조 (정의)\n본문"
    assert chunk_text(law, 500)[0][1] == "제5조, 제5조의2"


def test_unsupported_law_citations():
    answer = "「민원 처리에 관한 법률」 제10조 및 제22조제2항에 따라 처리합니다."
    assert unsupported_law_citations(answer, ["제10조(불필요한 서류 요구의 금지) ① …"]) == 1
    assert unsupported_law_citations(answer, ["제10조 …", "제22조(민원문서의 보완ㆍ취하 등)"]) == 0
    assert unsupported_law_citations("조문 인용 없음", []) == 0


def test_fact_coverage_and_pii():
    assert fact_coverage("총수입 97.2조원, 총지출 127.1조원", ["97.2조", "127.1조", "29.9조", "36.2조"]) == 0.5
    assert pii_leaks("연락처 010-2345-6789 로 회신", ["010-2345-6789", "850312-1234567"]) == ["010-2345-6789"]
    assert pii_leaks("연락처 [전화번호]", ["010-2345-6789"]) == []


def test_judge_verdict_parsing():
    from eval.judge import parse_verdict

    assert parse_verdict("예") == 1.0
    assert parse_verdict(" 네, 같습니다") == 1.0
    assert parse_verdict("아니오") == 0.0
    assert math.isnan(parse_verdict("잘 모르겠습니다"))


def test_report_explains_a_conclusion_accuracy_of_zero_when_no_answer_stated_a_conclusion():
    from eval.markdown import answer_lines

    def row(config, stated):
        return {"config": config, "group": "all", "answers_with_unsupported_citation": 0,
                "conclusion_accuracy": {"mean": 0.0, "lo": 0.0, "hi": 0.0},
                "conclusion_stated": {"mean": stated, "lo": stated, "hi": stated}}

    report = {"configs": [{"name": "default"}, {"name": "llm"}], "answers": [row("default", 0.0), row("llm", 0.4)]}
    text = "\n".join(answer_lines(report))
    assert "default: 결론 일치 0은" in text and "llm: 결론 일치" not in text


def test_parallel_articles_are_not_repeated_facts_but_a_restated_figure_is():
    from eval.summaries import repeated_facts

    outline = ("○ 제19조(행정심판) 청구 후 20일이 경과하도록 정보공개 결정이 없는 때에는 행정심판을 청구할 수 있음\n"
               "○ 제20조(행정소송) 청구 후 20일이 경과하도록 정보공개 결정이 없는 때에는 행정소송을 제기할 수 있음")
    assert repeated_facts(outline) == []
    report = ("○ 총수입은 97.2조원으로 전년 대비 7.2조원 증가\n"
              "○ 2월 총수입은 97.2조원으로 전년 대비 7.2조원 늘어남")
    assert repeated_facts(report) == ["7.2조원, 97.2조원"]
    same_article = ("○ 제14조(질의민원의 처리기간) 질의민원은 14일 이내에 처리하여야 함\n"
                    "○ 제14조(질의민원의 처리기간) 질의민원은 14일 이내에 처리하여야 함")
    assert len(repeated_facts(same_article)) == 1
