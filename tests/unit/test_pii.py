"""Personal-data masking on sentences written the way citizens write 민원."""

from __future__ import annotations

import unicodedata

import pytest

from assistant.tasks.pii import PLACEHOLDERS, MaskResult, PiiSpan, mask_for_log, mask_pii

# (input, expected masked text, expected kinds in order, original values that must disappear)
MASKED = [
    # 주민등록번호 / 외국인등록번호
    ("제 주민등록번호는 900101-1234567입니다.", "제 주민등록번호는 [주민등록번호]입니다.", ["rrn"], ["900101-1234567"]),
    ("주민번호 9001011234567 로 조회해 주세요.", "주민번호 [주민등록번호] 로 조회해 주세요.", ["rrn"],
     ["9001011234567"]),
    ("아들 주민번호는 150302-3123456 입니다", "아들 주민번호는 [주민등록번호] 입니다", ["rrn"], ["150302-3123456"]),
    ("외국인등록번호 850315-5123456 으로 신청했습니다.", "외국인등록번호 [외국인등록번호] 으로 신청했습니다.",
     ["foreigner_rrn"], ["850315-5123456"]),
    ("등록증 번호 010203-7654321", "등록증 번호 [외국인등록번호]", ["foreigner_rrn"], ["010203-7654321"]),
    ("신청서에 900101-1****** 로 적었습니다.", "신청서에 [주민등록번호] 로 적었습니다.", ["rrn"], ["900101-1******"]),
    # 전화번호
    ("연락처 010-1234-5678로 연락 바랍니다.", "연락처 [전화번호]로 연락 바랍니다.", ["phone"], ["010-1234-5678"]),
    ("휴대폰 010 2345 6789 로 문자 주세요", "휴대폰 [전화번호] 로 문자 주세요", ["phone"], ["010 2345 6789"]),
    ("01098765432로 회신 부탁드립니다", "[전화번호]로 회신 부탁드립니다", ["phone"], ["01098765432"]),
    ("해외 체류 중이라 +82-10-3456-7890 으로 연락 주십시오.", "해외 체류 중이라 [전화번호] 으로 연락 주십시오.",
     ["phone"], ["+82-10-3456-7890", "3456-7890"]),
    ("집 전화 02-123-4567, 사무실 031-1234-5678", "집 전화 [전화번호], 사무실 [전화번호]", ["phone", "phone"],
     ["02-123-4567", "031-1234-5678"]),
    ("(02) 765-4321 로 전화했으나 통화가 안 됩니다", "[전화번호] 로 전화했으나 통화가 안 됩니다", ["phone"],
     ["765-4321"]),
    ("안심번호 0505-123-4567 로 연락 주세요", "안심번호 [전화번호] 로 연락 주세요", ["phone"], ["0505-123-4567"]),
    ("인터넷전화 070-8765-4321", "인터넷전화 [전화번호]", ["phone"], ["070-8765-4321"]),
    # 이메일
    ("답변은 hong.gildong@example.co.kr으로 보내 주세요.", "답변은 [이메일]으로 보내 주세요.", ["email"],
     ["hong.gildong@example.co.kr", "hong.gildong"]),
    # 주소
    ("저는 서울특별시 종로구 세종대로 209에 살고 있습니다.", "저는 [주소]에 살고 있습니다.", ["address"],
     ["세종대로 209"]),
    ("주소: 서울특별시 강남구 테헤란로 152, 101동 1203호", "주소: [주소]", ["address"],
     ["테헤란로 152", "1203호"]),
    ("경기도 수원시 영통구 광교로 145 광교아파트 101동 1203호로 보내 주세요", "[주소]로 보내 주세요", ["address"],
     ["광교로 145", "101동", "1203호"]),
    ("토지 소재지는 전라남도 나주시 금천면 원곡리 123-4 입니다.", "토지 소재지는 [주소] 입니다.", ["address"],
     ["원곡리 123-4"]),
    ("강원특별자치도 춘천시 효자동 123-45번지 주택 누수", "[주소] 주택 누수", ["address"], ["효자동 123-45"]),
    ("세종특별자치시 한누리대로 2130 (보람동) 앞 도로", "[주소] 앞 도로", ["address"], ["한누리대로 2130"]),
    ("주소는 역삼동 123-45 입니다", "주소는 [주소] 입니다", ["address"], ["123-45"]),
    ("서울시 중구 을지로3가 12-3 건물 앞", "[주소] 건물 앞", ["address"], ["12-3"]),
    # 계좌번호
    ("환불은 국민은행 123456-78-901234로 해 주세요.", "환불은 국민은행 [계좌번호]로 해 주세요.", ["account"],
     ["123456-78-901234"]),
    ("계좌번호: 110-123-456789 (신한)", "계좌번호: [계좌번호] (신한)", ["account"], ["110-123-456789"]),
    ("농협 301-1234-5678-11 로 입금했습니다.", "농협 [계좌번호] 로 입금했습니다.", ["account"], ["301-1234-5678-11"]),
    ("보상금은 계좌 1002123456789 로 받겠습니다", "보상금은 계좌 [계좌번호] 로 받겠습니다", ["account"],
     ["1002123456789"]),
    ("지급받을 곳 1002-345-678901 입니다", "지급받을 곳 [계좌번호] 입니다", ["account"], ["1002-345-678901"]),
    # 카드번호
    ("카드번호 1234-5678-9012-3456 결제를 취소해 주세요", "카드번호 [카드번호] 결제를 취소해 주세요", ["card"],
     ["1234-5678-9012-3456"]),
    ("4111 1111 1111 1111 카드로 수수료를 냈습니다", "[카드번호] 카드로 수수료를 냈습니다", ["card"],
     ["4111 1111 1111 1111"]),
    ("결제한 번호 4111111111111111 입니다", "결제한 번호 [카드번호] 입니다", ["card"], ["4111111111111111"]),
    # 여권 / 운전면허
    ("여권번호 M12345678 입니다.", "여권번호 [여권번호] 입니다.", ["passport"], ["M12345678"]),
    ("새 여권 번호는 M123A4567 입니다", "새 여권 번호는 [여권번호] 입니다", ["passport"], ["M123A4567"]),
    ("운전면허번호 11-12-345678-90 으로 조회", "운전면허번호 [운전면허번호] 으로 조회", ["driver_license"],
     ["11-12-345678-90"]),
    ("면허증 서울 12-345678-90 분실", "면허증 [운전면허번호] 분실", ["driver_license"], ["12-345678-90"]),
    # 성명 (label next to the name)
    ("성명: 홍길동", "성명: [성명]", ["name"], ["홍길동"]),
    ("이름 : 김철수", "이름 : [성명]", ["name"], ["김철수"]),
    ("민원인 박영희입니다.", "민원인 [성명]입니다.", ["name"], ["박영희"]),
    ("신청인: 이순신", "신청인: [성명]", ["name"], ["이순신"]),
    ("대리인 성명 최민수", "대리인 성명 [성명]", ["name"], ["최민수"]),
    ("신청인 김가은이 제출한 서류를 확인해 주세요", "신청인 [성명]이 제출한 서류를 확인해 주세요", ["name"],
     ["김가은"]),
    ("제 이름은 정다은입니다", "제 이름은 [성명]입니다", ["name"], ["정다은"]),
    ("예금주 남궁민수", "예금주 [성명]", ["name"], ["남궁민수"]),
    # several kinds in one 민원
    ("민원인 홍길동(010-9876-5432, hong@test.kr)", "민원인 [성명]([전화번호], [이메일])", ["name", "phone", "email"],
     ["홍길동", "010-9876-5432", "hong@test.kr"]),
    ("성명: 이영수 / 주민등록번호: 850505-1234567 / 연락처: 010-5555-6666 / 주소: 부산광역시 해운대구 "
     "중앙로123번길 45",
     "성명: [성명] / 주민등록번호: [주민등록번호] / 연락처: [전화번호] / 주소: [주소]",
     ["name", "rrn", "phone", "address"], ["이영수", "850505-1234567", "010-5555-6666", "123번길 45"]),
]

# Must stay exactly as written.
NOT_MASKED = [
    "2024-03-15에 접수하였고 2024. 3. 15. 처리, 2024년 3월 15일 통보했습니다.",
    "과태료 1,500,000원과 가산금 30만 원, 합계의 10%를 감경합니다.",
    "「민원 처리에 관한 법률」 제10조제1항 및 법률 제18742호에 따릅니다.",
    "법제처-25-0914 회신 내용을 참고하십시오.",
    "행정안전부 공고 제2024-123호를 확인하세요.",
    "보건복지상담센터 129, 다산콜센터 120, 정부민원안내콜센터 110으로 문의하세요.",
    "국민건강보험공단 1577-1000 또는 1588-1234, 1644-5678로 전화하세요.",
    "2024년 예산 1,234억 원 중 45.6%를 집행했습니다.",
    "서울특별시 종로구청에 문의했습니다.",
    "세종특별자치시 소재 정부청사로 방문하였습니다.",
    "우편번호 03154로 발송",
    "처리기간은 14일이며 2025년 3월 1일부터 시행하고 민원 3건을 병합했습니다.",
    "서울시 강남구 대치동 3개 학원과 경기도 내 31개 시군",
    "사업자등록번호 123-45-67890 인 업체",
    "접수번호 2024-0315-000123 으로 조회됩니다.",
    "민원인은 정말 억울합니다. 민원인 본인이 방문하였습니다.",
    "이름을 바꾸고 싶습니다. 이름 변경 신청서를 냈습니다.",
    "결제 번호 1234567890123456 을 알려 드립니다.",  # 16 digits, fails Luhn, no 카드 label
    "수신자부담 080-123-4567 로 안내합니다.",
    "주민번호 991332-1234567 은 잘못 적힌 번호입니다.",  # 13월 32일: not a date
    "구 분 2017 2018 2019 2020 2021 2022",  # a table row of years (2017 2018 2019 2020 even passes Luhn)
    "외국인 성명 표기방법 통일, 다음 각 호의 어느 하나에 해당하는 민원인 경우를 말한다.",
]


@pytest.mark.parametrize(("text", "expected", "kinds", "secrets"), MASKED, ids=[c[0][:20] for c in MASKED])
def test_masks_personal_data(text, expected, kinds, secrets):
    result = mask_pii(text)
    assert result.text == expected
    assert [s.kind for s in result.found] == kinds
    for secret in secrets:
        assert secret not in result.text
        assert secret not in repr(result)


@pytest.mark.parametrize("text", NOT_MASKED, ids=[t[:20] for t in NOT_MASKED])
def test_leaves_non_personal_numbers_and_words(text):
    result = mask_pii(text)
    assert result.found == []
    assert result.text == text


def test_table_sizes_meet_the_brief():
    assert len(MASKED) + len(NOT_MASKED) >= 40
    assert len(NOT_MASKED) >= 12


def test_spans_point_into_the_normalised_text_and_store_no_value():
    text = "연락처 010-1234-5678, 성명: 홍길동"
    result = mask_pii(text)
    assert [(s.kind, text[s.start:s.end]) for s in result.found] == [("phone", "010-1234-5678"), ("name", "홍길동")]
    assert all(s.original_length == s.end - s.start for s in result.found)
    assert set(PiiSpan.__dataclass_fields__) == {"kind", "start", "end", "original_length"}


def test_result_is_frozen():
    result = mask_pii("성명: 홍길동")
    assert isinstance(result, MaskResult)
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]


def test_input_is_nfc_normalised_first():
    decomposed = unicodedata.normalize("NFD", "성명: 홍길동, 주소: 서울특별시 종로구 세종대로 209")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert mask_pii(decomposed).text == "성명: [성명], 주소: [주소]"


def test_overlap_longest_wins_email_containing_a_phone_number():
    result = mask_pii("메일 hong01012345678@naver.com 으로")
    assert result.text == "메일 [이메일] 으로"
    assert [s.kind for s in result.found] == ["email"]


def test_label_wins_a_tie_account_that_looks_like_a_rrn():
    # 1002123456789 would pass the RRN date check (10-02-12, gender 3); the 계좌 label decides.
    assert mask_pii("계좌 1002123456789").found[0].kind == "account"
    assert mask_pii("번호 1002123456789").found[0].kind == "rrn"


def test_keep_numbers_leaves_the_offices_own_number():
    text = "담당 부서 044-205-1234, 민원인 010-1111-2222"
    assert mask_pii(text).text == "담당 부서 [전화번호], 민원인 [전화번호]"
    assert mask_pii(text, keep_numbers=["044-205-1234"]).text == "담당 부서 044-205-1234, 민원인 [전화번호]"


@pytest.mark.parametrize(("text", "expected"), [
    ("저는 김민수(010-2345-6789)입니다.", "저는 [성명]([전화번호])입니다."),
    ("안녕하세요, 저는 박영희입니다. 문의드립니다.", "안녕하세요, 저는 [성명]입니다. 문의드립니다."),
    ("제가 이준호인데요 지난번 민원 건입니다.", "제가 [성명]인데요 지난번 민원 건입니다."),
    ("빠른 답변 부탁드립니다.\n최준호 드림", "빠른 답변 부탁드립니다.\n[성명] 드림"),
    ("남궁민수 올림", "[성명] 올림"),
])
def test_self_introduced_and_signed_names_are_masked(text, expected):
    assert mask_pii(text).text == expected


@pytest.mark.parametrize("text", [
    "저는 주부입니다.", "저는 임차인입니다.", "저는 공무원입니다.", "저는 민원인입니다.", "저는 자영업자인데요",
    "감사 드림", "주민센터 드림", "청사 민원인 주차장 이용 시간은?", "저는 서울에 삽니다.",
    "저는 시민으로서 건의합니다.",
])
def test_self_descriptions_that_are_not_names_stay(text):
    assert mask_pii(text).found == []


def test_unlabelled_free_standing_names_are_not_masked():
    assert mask_pii("홍길동 씨가 어제 다녀갔습니다.").found == []


def test_mask_for_log_returns_only_the_masked_text():
    assert mask_for_log("민원인 박영희 010-1234-5678") == "민원인 [성명] [전화번호]"


def test_every_kind_has_its_korean_placeholder():
    assert PLACEHOLDERS == {
        "rrn": "[주민등록번호]", "foreigner_rrn": "[외국인등록번호]", "phone": "[전화번호]", "email": "[이메일]",
        "address": "[주소]", "account": "[계좌번호]", "card": "[카드번호]", "passport": "[여권번호]",
        "driver_license": "[운전면허번호]", "name": "[성명]",
    }
