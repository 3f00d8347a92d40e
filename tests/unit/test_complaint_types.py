"""민원 종류 분류 (법 제2조제1호) and processing periods (시행령 제14조–제17조, 제19조)."""

from __future__ import annotations

import re

import pytest

from assistant.tasks.complaint_types import (
    DEFAULT_STATUTORY_DAYS,
    KINDS,
    Classification,
    classify_complaint,
    processing_period,
)

CASES = {
    "법정민원": [
        "식품접객업 영업신고를 하려고 합니다. 신고서와 위생교육 수료증을 첨부하여 제출합니다.",
        "건축물대장 등본 2부를 발급해 주시기 바랍니다.",
        "옥외광고물 표시 허가를 신청합니다. 구비서류는 첨부와 같습니다.",
        "이사를 와서 전입신고 합니다. 세대주는 저이고 가족 3명이 함께 전입합니다.",
        "토지이용계획확인서를 발급받고자 신청서를 제출합니다.",
        "가족관계증명서 1통 발급 신청합니다.",
    ],
    "질의민원": [
        "건축법 시행령 제14조에 따라 단독주택을 근린생활시설로 용도변경할 때 "
        "허가 대상인지 신고 대상인지 해석을 요청드립니다.",
        "기초연금 수급 중에 주택을 상속받으면 계속 받을 수 있는지 궁금합니다.",
        "청년 월세 지원 사업은 부모님과 주소가 다르면 신청이 가능한가요?",
        "「주택임대차보호법」상 확정일자를 받은 임차인이 이사를 가도 우선변제권이 유지되는지요?",
        "육아휴직 급여를 받는 중에 아르바이트를 해도 되는지 알려 주세요.",
    ],
    "건의민원": [
        "버스 배차 간격이 너무 길어 출근 시간대 증차를 건의합니다.",
        "민원서류 발급 수수료를 온라인 발급 시에는 면제하는 방향으로 제도를 개선해 주십시오.",
        "주민센터 야간 민원실 운영을 확대해 주셨으면 좋겠습니다.",
        "장애인 주차구역 단속 기준을 바꿔 주십시오. 현재 기준은 현실과 맞지 않습니다.",
        "전통시장 주변 공영주차장을 신설해 주실 것을 제안합니다.",
    ],
    "고충민원": [
        "구청에서 부과한 과태료 처분이 부당합니다. 정해진 절차도 없이 부과되어 억울합니다.",
        "기초생활수급자 선정에서 제외되었는데 소득 산정이 잘못되어 불이익을 받았습니다. 처분을 취소해 주십시오.",
        "공무원이 6개월째 제 민원을 처리하지 않고 방치하고 있어 권익이 침해되고 있습니다.",
        "영업정지 처분은 위법한 처분이므로 재검토를 요구합니다.",
        "장애등급 재판정 결과 등급이 하향되었습니다. 납득할 수 없는 결정이니 다시 검토해 주십시오.",
    ],
    "기타민원": [
        "우리 집 앞 가로등이 일주일째 고장 나 있어 밤길이 어둡습니다.",
        "주민센터 민원실 운영시간과 주차장 위치를 알려 주세요.",
        "공원 화장실이 막혀 있고 악취가 심합니다. 확인 부탁드립니다.",
        "아파트 앞 보도블록이 깨져 있어 넘어질 뻔했습니다.",
        "여권 재발급 때 준비물이 무엇인가요?",
    ],
}


@pytest.mark.parametrize(
    ("kind", "text"), [(k, t) for k, ts in CASES.items() for t in ts], ids=lambda v: v[:18]
)
def test_realistic_complaints_are_classified(kind, text):
    result = classify_complaint(text)
    assert isinstance(result, Classification)
    assert result.kind == kind, result.reasons
    assert result.reasons  # at least one cue explained
    assert all(isinstance(r, str) and r for r in result.reasons)


def test_every_kind_has_at_least_three_cases():
    assert set(CASES) == set(KINDS)
    assert all(len(v) >= 3 for v in CASES.values())


@pytest.mark.parametrize(
    ("kind", "basis"),
    [
        ("법정민원", "「민원 처리에 관한 법률」 제2조제1호가목1)"),
        ("질의민원", "「민원 처리에 관한 법률」 제2조제1호가목2)"),
        ("건의민원", "「민원 처리에 관한 법률」 제2조제1호가목3)"),
        ("기타민원", "「민원 처리에 관한 법률」 제2조제1호가목4)"),
    ],
)
def test_legal_basis_cites_the_definition(kind, basis):
    assert classify_complaint(CASES[kind][0]).legal_basis == basis


def test_grievance_basis_cites_the_acrc_act():
    basis = classify_complaint(CASES["고충민원"][0]).legal_basis
    assert basis.startswith("「민원 처리에 관한 법률」 제2조제1호나목")
    assert "「부패방지 및 국민권익위원회의 설치와 운영에 관한 법률」 제2조제5호" in basis


def test_reasons_name_the_cue_that_fired():
    result = classify_complaint("구청에서 부과한 과태료 처분이 부당합니다.")
    assert any("위법·부당한 처분" in r and "부당합니다" in r for r in result.reasons)


def test_question_about_a_statute_gets_the_14_day_period():
    law = classify_complaint(CASES["질의민원"][0])
    procedure = classify_complaint(CASES["질의민원"][1])
    assert (law.label, law.period.days, law.period.article) == (
        "질의민원(법령 해석 요구)", 14, "「민원 처리에 관한 법률 시행령」 제14조제1호")
    assert (procedure.label, procedure.period.days, procedure.period.article) == (
        "질의민원(제도·절차 설명 요구)", 7, "「민원 처리에 관한 법률 시행령」 제14조제2호")


def test_ordinary_words_ending_in_beop_are_not_statutes():
    # 방법 ends in 법 but is not a law name → 제도·절차 질의 (7일)
    assert classify_complaint("민원 처리 방법이 궁금합니다.").period.days == 7


def test_tie_break_prefers_grievance_over_proposal():
    result = classify_complaint("억울한 마음에 건의합니다.")  # 고충 4 (억울) vs 건의 4 (건의합니다)
    assert result.scores["고충민원"] == result.scores["건의민원"] == 4
    assert result.kind == "고충민원"
    assert any("동점" in r for r in result.reasons)


def test_no_cue_falls_back_to_the_residual_kind():
    result = classify_complaint("어제 방문했을 때 담당자분이 친절하게 안내해 주셔서 감사 인사 드립니다.")
    assert result.kind == "기타민원"
    assert result.reasons == ["뚜렷한 단서가 없어 나머지 유형인 기타민원으로 분류함"]


def test_classification_is_deterministic():
    text = CASES["건의민원"][1]
    assert classify_complaint(text) == classify_complaint(text)


# --- processing periods: the figures and the articles of the 시행령 -------------------------------------------

def test_periods_of_the_decree():
    law = processing_period("질의민원", law_question=True)
    assert (law.days, law.article) == (14, "「민원 처리에 관한 법률 시행령」 제14조제1호")
    assert (processing_period("질의민원").days, processing_period("질의민원").article) == (
        7, "「민원 처리에 관한 법률 시행령」 제14조제2호")
    assert (processing_period("건의민원").days, processing_period("건의민원").article) == (
        14, "「민원 처리에 관한 법률 시행령」 제15조")
    assert (processing_period("고충민원").days, processing_period("고충민원").article) == (
        7, "「민원 처리에 관한 법률 시행령」 제17조제1항")
    other = processing_period("기타민원")
    assert (other.days, other.immediate_hours, other.article) == (
        0, 3, "「민원 처리에 관한 법률 시행령」 제16조제1항, 제19조")


def test_counting_unit_follows_article_19_of_the_act():
    assert processing_period("건의민원").counting == "days"  # 6일 이상: 일 단위 (법 제19조제2항)
    assert processing_period("법정민원", days=3).counting == "hours"  # 5일 이하: 시간 단위 (제19조제1항)
    assert processing_period("기타민원").counting == "hours"


def test_statutory_complaint_uses_the_standard_table_or_a_flagged_default():
    default = processing_period("법정민원")
    assert default.days == DEFAULT_STATUTORY_DAYS == 7
    assert default.is_default
    assert "제17조제1항" in default.article and "민원처리기준표" in default.note
    given = processing_period("법정민원", days=20)
    assert (given.days, given.is_default) == (20, False)
    assert given.article == "「민원 처리에 관한 법률」 제17조제1항 (민원처리기준표에 따른 값)"


def test_agency_may_set_its_own_period_for_other_complaints():
    period = processing_period("기타민원", days=3)
    assert period.days == 3
    assert period.article == "「민원 처리에 관한 법률 시행령」 제16조제3항 (기관이 달리 정한 처리기간)"


@pytest.mark.parametrize("kind", ["질의민원", "건의민원", "고충민원"])
def test_decree_fixed_periods_cannot_be_overridden(kind):
    with pytest.raises(ValueError, match="시행령이 정하므로"):
        processing_period(kind, days=30)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="알 수 없는 민원 종류"):
        processing_period("일반민원")
    with pytest.raises(ValueError, match="0 이상의 정수"):
        processing_period("법정민원", days=-1)


def test_figures_match_the_decree_text(shared_corpus):
    """The numbers above are the ones in the stored 시행령 text, article by article."""
    path = shared_corpus / "korean-laws-admin" / "민원처리에관한법률_시행령.md"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    text = path.read_text(encoding="utf-8")

    def article(n: int) -> str:
        m = re.search(rf"##### 제{n}조 \(([^)]*)\)\n(.*?)(?=\n##### |\n## )", text, re.S)
        assert m, f"제{n}조 not found"
        return m.group(1) + "\n" + m.group(2)

    a14, a15, a16, a17, a19 = (article(n) for n in (14, 15, 16, 17, 19))
    assert "질의민원의 처리기간" in a14
    assert re.search(r"1\\?\. 법령에 관하여 설명이나 해석을 요구하는 질의민원: 14일 이내", a14)
    assert re.search(r"2\\?\. 제도ㆍ절차 등 법령 외의 사항에 관하여 설명이나 해석을 요구하는 질의민원: 7일 이내", a14)
    assert "건의민원을 접수한 경우에는 특별한 사유가 없으면 14일 이내에 처리" in a15
    assert "기타민원을 접수한 경우에는 특별한 사유가 없으면 즉시 처리" in a16
    assert "고충민원을 접수한 때에는 특별한 사유가 없으면 7일 이내에 처리" in a17
    assert "‘즉시’로 정한 경우에는 정당한 사유가 있는 경우를 제외하고는 3근무시간 이내" in a19
