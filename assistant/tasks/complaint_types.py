"""민원 종류 분류 (「민원 처리에 관한 법률」 제2조제1호) and the statutory processing period of each kind.

Kinds, as the law defines them (법률 제18742호, 시행 2022-07-12):
- 제2조제1호가목1) 법정민원: 관계법령등에서 정한 요건에 따라 인가ㆍ허가ㆍ승인ㆍ특허ㆍ면허 등을 신청하거나
  장부ㆍ대장 등에 등록ㆍ등재를 신청 또는 신고하거나 특정한 사실 또는 법률관계에 관한 확인 또는 증명을 신청하는 민원
- 가목2) 질의민원: 법령ㆍ제도ㆍ절차 등 행정업무에 관하여 행정기관의 설명이나 해석을 요구하는 민원
- 가목3) 건의민원: 행정제도 및 운영의 개선을 요구하는 민원
- 가목4) 기타민원: (위 민원 외에) 단순한 행정절차 또는 형식요건 등에 대한 상담ㆍ설명을 요구하거나 일상생활에서 발생하는
  불편사항에 대하여 알리는 등 행정기관에 특정한 행위를 요구하는 민원
- 나목 고충민원: 「부패방지 및 국민권익위원회의 설치와 운영에 관한 법률」 제2조제5호에 따른 고충민원 (위법ㆍ부당하거나
  소극적인 처분 및 불합리한 행정제도로 권리를 침해하거나 불편ㆍ부담을 주는 사항)

Periods (시행령, 대통령령 제36296호, 시행 2026-05-06): 질의 제14조, 건의 제15조, 기타 제16조, 고충 제17조; 법정민원은
법 제17조제1항에 따라 민원의 종류별로 미리 정하여 공표 (민원처리기준표, 법 제36조제1항), so there is no single statutory
figure: ``DEFAULT_STATUTORY_DAYS`` is a placeholder and callers should pass the 기준표 value.

The classifier is a transparent cue scorer: every cue that fires adds its weight to one kind and a Korean reason.
Ties are broken by ``TIE_BREAK`` (고충 > 법정 > 건의 > 질의 > 기타): the more specific, more consequential reading
first; 기타민원 is last because the law defines it as the residual kind ("… 외에"). With no cue at all the result
is 기타민원.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

KINDS = ("법정민원", "질의민원", "건의민원", "기타민원", "고충민원")
TIE_BREAK = ("고충민원", "법정민원", "건의민원", "질의민원", "기타민원")

_LAW = "「민원 처리에 관한 법률」"
_DECREE = "「민원 처리에 관한 법률 시행령」"
LEGAL_BASIS = {
    "법정민원": f"{_LAW} 제2조제1호가목1)",
    "질의민원": f"{_LAW} 제2조제1호가목2)",
    "건의민원": f"{_LAW} 제2조제1호가목3)",
    "기타민원": f"{_LAW} 제2조제1호가목4)",
    "고충민원": f"{_LAW} 제2조제1호나목 (「부패방지 및 국민권익위원회의 설치와 운영에 관한 법률」 제2조제5호)",
}
LABELS = {
    "법정민원": "법정민원(인허가·등록·신고·증명 신청)",
    "질의민원": "질의민원(설명·해석 요구)",
    "건의민원": "건의민원(제도·운영 개선 요구)",
    "기타민원": "기타민원(단순 상담·생활 불편 알림)",
    "고충민원": "고충민원(위법·부당한 처분 등으로 인한 권익 침해)",
}

# Placeholder for 법정민원 when the 민원처리기준표 value is not given. NOT a legal figure (see module docstring);
# 7 days matches the shortest fixed period the 시행령 sets for written 민원 (제14조제2호, 제17조제1항).
DEFAULT_STATUTORY_DAYS = 7

def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# (kind, weight, pattern, reason). Weights: 4 = the request itself, 3 = strong content cue, 2 = form cue, 1 = topic.
# Only the first hit of each cue counts, so one word repeated ten times does not outweigh the rest.
_CUE_TABLE: list[tuple[str, int, str, str]] = [
    # 법정민원: 인허가·등록·신고를 신청/제출, 증명서 발급 요청, 장부 신고(전입·출생·영업 …)
    ("법정민원", 4, "인허가·등록·신고를 신청함",
     _alt("허가", "인가", "승인", "특허", "면허", "등록", "등재", "신고", "지정", "인증")
     + r"\s?(?:을|를|서를?|신청서를?)?\s?" + _alt("신청", "제출", "접수")
     + r"\s?" + _alt("합니다", "하오니", "드립니다", "하고자", "하려", "하니", "코자")),
    ("법정민원", 4, "사실·법률관계의 확인·증명서 발급을 요청함",
     _alt("증명서", "확인서", "등본", "초본", "증명원", "인감증명", "대장") + r"[가-힣0-9 ]{0,8}?(?:을|를)?\s?"
     + _alt("재?발급", "교부", "열람") + _alt("해", "받", "을", "를", r"\s?신청", r"\s?요청", r"\s?부탁", "하여")),
    ("법정민원", 4, "장부·대장에 등록·신고함",
     _alt("전입", "출생", "사망", "혼인", "이혼", "영업", "폐업", "휴업", "개업", "사업자", "정정")
     + r"\s?(?:신고|등록)\s?" + _alt("합니다", "하려", "하고자", r"를\s?하", "서")),
    ("법정민원", 4, "정보공개를 청구함",
     r"(?:공개|열람|사본)\s?(?:을|를)?\s?청구" + _alt("합니다", "하오니", "드립니다", "하고자", "하려")),
    ("법정민원", 1, "인허가·증명 관련 용어가 있음",
     _alt("허가", "인가", "승인", "면허", "등록", "신고서", "신청서", "증명서", "발급")),
    # 질의민원: 해석·설명 요구, 가능 여부·해당 여부를 묻는 표현 (내용), 질문형 어미 (형식)
    ("질의민원", 3, "법령·제도의 해석을 요구함", r"해석|질의" + _alt("합니다", "드립니다", "드려", "를")),
    ("질의민원", 3, "궁금한 점을 문의함",
     r"궁금|여쭙|여쭈|문의" + _alt("합니다", "드립니다", "드려", "를", "하고")),
    ("질의민원", 3, "가능·해당 여부를 물음",
     _alt("가능한", "해당하는", "해당되는", "적용되는", "적용대상인", "대상인", "맞는", "되는")
     + r"지(?:요|\s|를|에|\s?여부|[?？.,])|가능\s?여부"),
    ("질의민원", 3, "무엇이 되는지·가능한지 답변을 구함",
     r"[가-힣]지[,]?\s?(?:도\s?)?" + _alt("답변", "알려", "궁금", "문의", "여쭙", "알고 싶", "안내")),
    ("질의민원", 2, "질문형 문장임",
     _alt("인지요", "는지요", "은지요", "나요", "가요", "까요", "니까", "습니까") + r"\s*[?？]?|[?？]"
     + r"|알려\s?주|설명(?:해|을)\s?주"),
    # 건의민원: 제도·운영 개선 요구
    ("건의민원", 4, "개선을 건의·제안함",
     r"건의" + _alt("합니다", "드립니다", "드려", "사항", "하고자", "를")
     + r"|제안" + _alt("합니다", "드립니다", "하고자", "을")),
    ("건의민원", 3, "제도·운영의 개선을 요구함",
     r"개선" + _alt("해", "을", "이", "방안", "되었으면", "하여", "요청") + r"|바꿔\s?주|바꾸어\s?주"
     + r"|" + _alt("개정", "도입", "신설", "확대", "폐지", "완화") + _alt("해", "을", "를", "이", "하여", "되었으면")),
    ("건의민원", 3, "시설·제도를 새로 마련해 달라고 요구함",
     _alt("설치", "신설", "확충", "증설", "마련", "만들어", "늘려") + r"\s?(?:해|하여)?\s?주"
     + _alt("셨으면", "시기", "세요", "십시오")),
    ("건의민원", 1, "바람을 표현함", r"(?:했|하|되|생겼|주셨)으면\s?좋겠|필요하다고 생각"),
    # 고충민원: 위법·부당한 처분, 권익 침해, 불이익, 억울함, 소극 행정
    ("고충민원", 4, "위법·부당한 처분이나 권익 침해를 주장함",
     r"위법(?:한|하게|하다|이)|부당" + _alt("한", "하게", "하다", "하여", "합니다")
     + r"|권[익리]\s?(?:[을를이가]\s?)?침해|고충"),
    ("고충민원", 4, "불이익·억울함을 호소함",
     r"억울|불이익|납득(?:할 수 없|이 안|하기 어렵)|부작위|소극\s?행정|차별(?:을|받|대우)"),
    ("고충민원", 2, "처분의 취소·시정을 요구함",
     _alt("처분", "과태료", "과징금", "부과", "단속", "거부", "반려") + r"[가-힣]{0,3}\s?(?:을|를)?\s?"
     + _alt("취소", "철회", "시정", "재검토")),
    ("고충민원", 2, "불합리하거나 소극적인 행정을 지적함", r"불합리|과도(?:한|하게)|방치(?:하|되|된)|묵살"),
    ("고충민원", 4, "처분·요구의 절차나 근거에 하자가 있다고 주장함",
     r"(?:통지|기회|설명|안내)[가-힣]{0,2}\s?(?:아무런\s)?(?:없었|받지 못|주지 않)|법에도 없는|근거(?:도)? 없이"),
    # 기타민원: 단순 절차·형식요건 상담, 생활 불편 알림
    ("기타민원", 4, "단순 절차·형식요건을 묻는 상담임",
     r"운영\s?시간|근무\s?시간|위치(?:가|를|는)|어디(?:에|서|로)|몇\s?시|"
     + _alt("준비물", "서식", "양식", "창구", "전화번호")
     + r"|주차장(?:은|이|을)?\s?" + _alt("몇", "어디", "이용", "운영", "위치")),
    ("기타민원", 2, "이용 시간·요일을 물음",
     r"몇\s?시까지|이용\s?시간|" + _alt("주말", "토요일", "공휴일") + r"에도\s?(?:이용|주차|운영|방문)"),
    ("기타민원", 4, "일상생활의 불편사항을 알림",
     _alt("고장", "파손", "가로등", "신호등", "보도블[록럭]", "포트홀", "파여", "쓰레기", "악취", "소음", "누수")
     + r"|불법\s?주차|" + _alt("깨져", "꺼져", "막혀", "망가")),
    ("기타민원", 2, "불편·상담을 요청함", r"불편(?:합니다|해요|을|하|이)|상담(?:을|받|하고|요청)"),
]
_CUES = [(k, w, re.compile(p), r) for k, w, r, p in _CUE_TABLE]
# "건축법에", "「주택법」": a Hangul word ending in 법, but not 방법·불법·위법 … (ordinary words).
_LAW_TOPIC = re.compile(
    r"법률|법령|시행령|시행규칙|조례|고시|훈령|예규|제\d+조|「[^」]*법[^」]*」"
    r"|[가-힣](?<![방불문편수위적합탈비요기화입사])법(?:상|에|의|을|이|에서|에는|\s|[.,?]|$)"
)


@dataclass(frozen=True)
class Period:
    """The statutory processing period of a kind of 민원."""

    kind: str
    days: int  # 0 = ‘즉시’
    article: str  # where the figure comes from
    working_days: bool = True  # 공휴일·토요일 불산입 (법 제19조제1항·제2항)
    immediate_hours: int | None = None  # ‘즉시’ → 3근무시간 (시행령 제19조)
    is_default: bool = False  # True when DEFAULT_STATUTORY_DAYS stood in for the 민원처리기준표
    note: str = ""

    @property
    def counting(self) -> str:
        """법 제19조: 5일 이하 → "hours" (1일 = 8근무시간), 6일 이상 → "days" (첫날 산입); ‘즉시’ → "hours"."""
        return "hours" if self.days <= 5 else "days"


@dataclass(frozen=True)
class Classification:
    kind: str
    label: str
    reasons: list[str]
    legal_basis: str
    period: Period
    scores: dict[str, int] = field(default_factory=dict)


def processing_period(kind: str, *, days: int | None = None, law_question: bool = False) -> Period:
    """Statutory period for ``kind``.

    ``days``: the period from the 민원처리기준표 for a 법정민원 (법 제17조제1항), or the period an agency set for its
    기타민원 (시행령 제16조제3항). The decree fixes the other kinds, so ``days`` is refused for them.
    ``law_question``: a 질의민원 asking about 법령 (14일, 제14조제1호) rather than 제도·절차 (7일, 제14조제2호).
    """
    if kind not in KINDS:
        raise ValueError(f"알 수 없는 민원 종류입니다: {kind!r} (가능한 값: {', '.join(KINDS)})")
    if days is not None:
        if kind not in ("법정민원", "기타민원"):
            raise ValueError(f"{kind}의 처리기간은 시행령이 정하므로 days로 바꿀 수 없습니다.")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"처리기간(days)은 0 이상의 정수여야 합니다: {days!r}")
    if kind == "법정민원":
        if days is not None:
            return Period(kind, days, f"{_LAW} 제17조제1항 (민원처리기준표에 따른 값)")
        return Period(
            kind, DEFAULT_STATUTORY_DAYS, f"{_LAW} 제17조제1항·제36조제1항 (민원별로 정함)", is_default=True,
            note="법정민원의 처리기간은 민원처리기준표에서 확인해야 합니다. 7일은 임시 기본값입니다.",
        )
    if kind == "질의민원":
        if law_question:
            note = "법령에 관하여 설명이나 해석을 요구하는 질의민원: 14일 이내"
            return Period(kind, 14, f"{_DECREE} 제14조제1호", note=note)
        note = "제도ㆍ절차 등 법령 외의 사항에 관하여 설명이나 해석을 요구하는 질의민원: 7일 이내"
        return Period(kind, 7, f"{_DECREE} 제14조제2호", note=note)
    if kind == "건의민원":
        return Period(kind, 14, f"{_DECREE} 제15조", note="특별한 사유가 없으면 14일 이내")
    if kind == "고충민원":
        return Period(
            kind, 7, f"{_DECREE} 제17조제1항",
            note="특별한 사유가 없으면 7일 이내. 현장조사 등(14일, 한 차례 7일 연장)에 걸린 기간은 "
            "처리기간에 산입하지 않음(제17조제4항·제5항).",
        )
    if days is not None:  # 기타민원 with an agency-specific period
        return Period(kind, days, f"{_DECREE} 제16조제3항 (기관이 달리 정한 처리기간)")
    return Period(
        kind, 0, f"{_DECREE} 제16조제1항, 제19조", immediate_hours=3,
        note="즉시 처리: 정당한 사유가 없으면 3근무시간 이내(제19조). 기관이 달리 정할 수 있음(제16조제3항).",
    )


def classify_complaint(text: str) -> Classification:
    """Classify a 민원 by transparent cues; see the module docstring for the kinds and the tie-break."""
    text = unicodedata.normalize("NFC", text)
    scores = dict.fromkeys(KINDS, 0)
    fired: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, weight, pattern, reason in _CUES:
        m = pattern.search(text)
        if m:
            scores[kind] += weight
            fired[kind].append(f"{reason} (‘{m.group().strip()}’)")
    best = max(scores.values())
    if best == 0:
        kind = "기타민원"
        reasons = ["뚜렷한 단서가 없어 나머지 유형인 기타민원으로 분류함"]
    else:
        tied = [k for k in TIE_BREAK if scores[k] == best]
        kind = tied[0]
        reasons = list(fired[kind])
        if len(tied) > 1:
            reasons.append(f"동점({', '.join(tied)})이어서 우선순위에 따라 {kind}로 정함")
        others = [f"{k} {scores[k]}점" for k in TIE_BREAK if k != kind and scores[k]]
        if others:
            reasons.append(f"다른 후보: {', '.join(others)}")
    label = LABELS[kind]
    law_question = kind == "질의민원" and bool(_LAW_TOPIC.search(text))
    if kind == "질의민원":
        label = "질의민원(법령 해석 요구)" if law_question else "질의민원(제도·절차 설명 요구)"
    return Classification(
        kind=kind, label=label, reasons=reasons, legal_basis=LEGAL_BASIS[kind],
        period=processing_period(kind, law_question=law_question), scores=scores,
    )
