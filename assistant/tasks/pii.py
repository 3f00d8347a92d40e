"""Personal-data (개인정보) masking for Korean 민원 text.

``mask_pii`` replaces each detected value with a placeholder such as ``[전화번호]`` and reports where it
was, its kind and its length — never the value itself, so a ``MaskResult`` can be logged safely.
Offsets refer to the NFC-normalised text (the input is normalised first).

Design choices (false positives cost less than leaks, but a reply draft must stay readable):
- Names are masked only after a label (성명, 이름, 민원인, 신청인, 대리인 ...) and only when the first
  syllable is a common surname. Free-standing names are left alone: without a label, 2–4 Hangul
  syllables are indistinguishable from ordinary words.
- Public service numbers are kept: 3–4 digit numbers (110, 120, 129 ...) and 대표번호 (15xx/16xx/18xx-xxxx)
  never match the phone patterns (those require a leading 0 or +82), and ``PUBLIC_NUMBERS`` is checked
  as a second guard. 080 numbers (free call, always an organisation) are not masked either.
- 사업자등록번호-shaped numbers (123-45-67890) and 4-digit-year-led numbers (2024-0315-000123, 접수번호)
  are only masked as accounts when a bank/계좌 label is present.
- Addresses need either a region word (…시/도/구/군/읍/면) or a 주소 label before the road/lot name,
  and a building/lot number after it; "서울특별시 종로구청" or "세종특별자치시 소재 정부청사" stay.
- What people type is normalised before matching (:func:`normalise_typed`): full-width digits, letters
  and "＠", the Hangul vowel "ㅡ" or any dash used between digits, and spaces around them
  ("０１０ㅡ９８７６ㅡ５４３２", "010 - 9876 - 5432"). The masked text is the normalised one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

PLACEHOLDERS: dict[str, str] = {
    "rrn": "[주민등록번호]",
    "foreigner_rrn": "[외국인등록번호]",
    "phone": "[전화번호]",
    "email": "[이메일]",
    "address": "[주소]",
    "account": "[계좌번호]",
    "card": "[카드번호]",
    "passport": "[여권번호]",
    "driver_license": "[운전면허번호]",
    "name": "[성명]",
}

# Well-known public numbers a reply must keep (digits only). 3–4 digit 특수번호 and 15xx/16xx/18xx
# 대표번호 cannot match the phone patterns anyway; this set is a second guard, extendable per call.
PUBLIC_NUMBERS: frozenset[str] = frozenset(
    {
        "110",  # 정부민원안내콜센터
        "112",  # 경찰
        "119",  # 소방·구급
        "120",  # 지방자치단체 민원 콜센터 (다산콜센터 등)
        "122",  # 해양경찰
        "129",  # 보건복지상담센터
        "1345",  # 외국인종합안내센터
        "1350",  # 고용노동부 고객상담센터
        "1355",  # 국민연금공단
        "1366",  # 여성긴급전화
        "1388",  # 청소년상담
        "15771000",  # 국민건강보험공단
    }
)

# Order = specificity, used to break ties between overlapping matches of equal length.
_PRIORITY = ["rrn", "foreigner_rrn", "card", "driver_license", "passport", "email", "phone", "account",
             "address", "name"]

# full-width forms people type with a Korean IME, mapped to ASCII
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                             **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
                             **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
                             "＠": "@", "．": ".", "－": "-", "（": "(", "）": ")", "：": ":", "\u3000": " "})
# a dash between digits, however typed: ASCII, Unicode dashes and minus, the Hangul vowel ㅡ, with spaces
_DIGIT_DASH = re.compile(r"(?<=\d)[ \t]*[-‐‑‒–—―−ㅡ~][ \t]*(?=\d)")
_SPACED_AT = re.compile(r"(?<=[A-Za-z0-9._%+-])[ \t]*@[ \t]*(?=[A-Za-z0-9-]+\.)")


def normalise_typed(text: str) -> str:
    """NFC, full-width forms to ASCII, and digit groups joined by any dash (or "ㅡ") written with "-"."""
    text = unicodedata.normalize("NFC", text).translate(_FULL_WIDTH)
    text = _DIGIT_DASH.sub(lambda m: "-" if "~" not in m.group() else m.group(), text)
    return _SPACED_AT.sub("@", text)


_NOT_DIGIT_BEFORE = r"(?<![\d])"
_NOT_DIGIT_AFTER = r"(?!\d)"

# 주민/외국인등록번호: YYMMDD, optional hyphen, gender digit 1–8, then 6 digits or a mask (******, 1******).
_RRN = re.compile(
    _NOT_DIGIT_BEFORE + r"(\d{2})(\d{2})(\d{2})\s?[-–]?\s?([1-8])(?:\d{6}|[*xX●○]{6})" + _NOT_DIGIT_AFTER
    + r"|" + _NOT_DIGIT_BEFORE + r"(\d{2})(\d{2})(\d{2})\s?[-–]\s?([*xX●○])[*xX●○]{6}"
)
# Mobile: 010/011/016–019, domestic or +82 (the leading 0 may be dropped or bracketed), 3–4 + 4 digits.
_MOBILE = re.compile(
    r"(?<![\d+])\(?(?:\+82[-.\s]?(?:\(0\))?0?|0)1[016-9](?:\)\s?|[-.\s])?\d{3,4}[-.\s]?\d{4}" + _NOT_DIGIT_AFTER
)
# Landlines: 02 (Seoul) and the regional 0xx codes, 070 internet phones, 050x safe numbers.
_LANDLINE = re.compile(
    r"(?<![\d+])\(?(?:\+82[-.\s]?0?|0)(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|50[2-8])"
    r"(?:(?:\)\s?|[-.\s])\d{3,4}[-.\s]\d{4}|\d{7,8})" + _NOT_DIGIT_AFTER
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Card: 4-4-4-4 with hyphens or Amex 4-6-5; with spaces or bare 16 digits only with Luhn or a 카드 label
# (a table row "2008 2012 2017 2022" is four years, not a card).
_CARD = re.compile(_NOT_DIGIT_BEFORE + r"(?:\d{4}-\d{4}-\d{4}-\d{4}|\d{4}-\d{6}-\d{5})" + _NOT_DIGIT_AFTER)
_CARD_BARE = re.compile(
    r"(?P<label>카드(?:번호)?\s*[:：]?\s*)?(?<![\d-])(?<!\d )(?P<v>\d{16}|\d{4}(?: \d{4}){3})(?![\d-])(?! \d)"
)
# Passport: with a 여권 label (1–2 letters + 7–8 digits, or the 2021 format M123A4567); bare M/S/R/O/D/G + 8 digits.
_PASSPORT = re.compile(
    r"여권(?:번호)?\s*[:：]?\s*(?P<v>[A-Z]{1,2}\d{7,8}|[A-Z]\d{3}[A-Z]\d{4})(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])(?P<w>[MSRODG]\d{8}|M\d{3}[A-Z]\d{4})(?![A-Za-z0-9])"
)
# Driver licence: 11-12-345678-90, old form 서울 12-345678-90, or 12 bare digits after a 운전면허 label.
_REGIONS = "서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산|세종"
_LICENSE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:\d{2}-\d{2}-\d{6}-\d{2}|(?:" + _REGIONS + r")\s?\d{2}-\d{6}-\d{2})" + _NOT_DIGIT_AFTER
    + r"|운전면허(?:증)?(?:번호)?\s*[:：]?\s*(?P<v>\d{12})" + _NOT_DIGIT_AFTER
)
# Account with a bank/계좌 label: 10–16 digits, hyphens/spaces allowed.
_BANKS = r"[가-힣]{1,6}은행|농협|신협|수협|우체국|새마을금고|카카오뱅크|케이뱅크|토스뱅크"
_ACCOUNT_LABELED = re.compile(
    r"(?:(?:" + _BANKS + r")\s*(?:계좌(?:번호)?)?|계좌(?:번호)?)\s*(?:는|은)?\s*[:：]?\s*"
    r"(?P<v>\d(?:[\d]|[-\s](?=\d)){8,20}\d)" + _NOT_DIGIT_AFTER
)
# Account without label: 3 or 4 hyphenated groups, 10–14 digits in total (filtered in code).
_ACCOUNT = re.compile(r"(?<![\d-])(?P<v>\d{3,6}-\d{2,6}-\d{2,7}(?:-\d{1,3})?)(?![\d-])")

# Address parts. PLACE = 시도/시군구/읍면 word; ROAD = 도로명(…로/…길, incl. 35가길, 123번길);
# LOT = 법정동(…동), 가 with a digit (명동2가), or 리 after 읍/면. NUM = 건물번호/지번; DETAIL = 아파트/동/층/호.
_PLACE = r"[가-힣]{1,8}(?:특별자치시|특별자치도|특별시|광역시|도|시|군|구|읍|면)"
_ROAD = r"[가-힣][가-힣0-9·]{0,14}(?:로|길)(?:\s?\d{1,4}(?:번|[가-힣])?길)?"
_LOT = r"(?:[가-힣][가-힣0-9]{0,8}동|[가-힣]{1,6}\d{1,2}가|(?<=[읍면]\s)[가-힣]{1,6}리)\s?(?:산\s?)?"
_UNITS = (
    r"가(?![가-힣])|개|명|원|회|차|년|월|일|시|분|초|세|살|곳|가구|세대|대|번째|번(?![지길])|"
    r"건|권|위|배|점|등|만|억|천|%|퍼센트"
)
_NUM = r"\s?\d{1,5}(?:-\d{1,5})?(?!\d|-\d|[.,]\d|" + _UNITS + r")(?:\s?번지)?"
_APT = r"[가-힣A-Za-z0-9]{1,15}(?:아파트|빌라|맨션|오피스텔|빌딩|타워|주택)"
_DETAIL = (
    r"(?:\s?,?\s?(?:" + _APT + r"\s?)?(?:\d{1,4}\s?동\s?)?(?:\d{1,3}\s?층\s?)?\d{1,5}\s?호"
    r"|\s?,?\s?(?:" + _APT + r"\s?)?\d{1,4}\s?동|\s?,?\s?" + _APT + r")?(?:\s?\([^()\n]{1,40}\))?"
)
# Lot first: "을지로3가 12-3" is a 동 with a 지번, not road 을지로 + building 3.
_ADDR_CORE = r"(?:" + _LOT + r"|" + _ROAD + r")" + _NUM + _DETAIL
_ADDRESS = re.compile(
    r"(?:주소지?|거주지|주거지|소재지)(?:는|은)?\s*[:：]?\s*(?P<v>(?:" + _PLACE + r"\s+){0,4}" + _ADDR_CORE + r")"
    r"|(?<![가-힣])(?P<w>(?:" + _PLACE + r"\s+){1,4}" + _ADDR_CORE + r")"
)

# Names after a label ("성명: 홍길동", "민원인 박영희", "대리인 성명 최민수"); the value is filtered in code.
_NAME_LABELS = (r"성명|이름|민원인|신청인|대리인|청구인|신고인|신고자|진정인|피신청인|보호자|세대주|예금주"
                r"|수령인|작성자|제안자|문의자|요청자|질의자|소유자|차주|대표자")
_PARTICLE = r"(?:입니다|이며|이고|에게|께서|씨|님|은|는|이|가|을|를|의|와|과|도|께)"
_NAME = re.compile(
    r"(?<![가-힣])(?P<lab>" + _NAME_LABELS + r")(?:\s?\([^()\n]{1,10}\))?(?:\s*(?:성명|이름))?"
    r"(?P<sep>\s*[:：]\s*|\s*(?:은|는)\s+|\s+)(?P<v>[가-힣]{2,4})(?=" + _PARTICLE + r"?(?:[^가-힣]|$))"
)
# Names a writer gives without a label: a self-introduction ("저는 김민수입니다", "제가 박영희인데요",
# "저는 김민수(010-…)") or a sign-off ("최준호 드림/올림/배상"). Only 3-syllable (or compound-surname
# 4-syllable) candidates with a common surname count, which keeps "저는 주부입니다" and "감사 드림" out.
_SELF_NAME = re.compile(
    r"(?:저는|제가|본인은|나는)\s*(?P<v>[가-힣]{3,4}?)"
    r"(?=\s*(?:입니다|이고|이며|인데|이라고|라고|이에요|예요|이구요|이고요|\())"
)
_SIGNOFF_NAME = re.compile(r"(?<![가-힣])(?P<v>[가-힣]{3,4})\s*(?:드림|올림|배상)(?![가-힣])")
_SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변"
    "염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부빈라"
)
_COMPOUND_SURNAMES = ("남궁", "황보", "제갈", "선우", "독고", "사공", "서문")
# Words that follow a label but are not names (checked as prefixes of the candidate).
_NOT_NAMES = tuple(
    "이번 이후 이전 이미 이상 이하 이외 이에 이와 이를 이름 이의 이사 이용 이유 정보 정도 정정 정확 조치 조사 "
    "조회 주소 주민 신청 신고 신분 본인 전화 전체 전부 전달 한번 한편 안내 고충 문의 민원 서류 성명 연락 대표 "
    "요청 기타 여러 모두 오늘 오전 오후 지난 지금 방문 공개 변경 명의 우편 현재 최근 최종 최초 계속 진정 구청 "
    "시청 측 등록 확인 제출 서명 날인 직접 유선 장기 강력 하루 차량 주장 주의 소유 부담 배우 가족 동의 동일 "
    "남편 아내 부모 자녀 사망 사실 도움 도로 국민 국가 은행 인감 김치 표시 기재 기간 위임 임의 공동 모든 각각 "
    "정말 진짜 매우 항상 조금 오랫 전혀 전에 최대 한참 한동안 구체 강제 사전 사후 방금 우선 주로 주변 허위 공식 "
    "공무원 공사 공단 민간 남은 지속 지역 차례 추가 추후 나중 소송 고소 고발 반복 무단 불법 부당 석명 성실 신속 "
    "안전 원래 원본 경우 표기 기준 방법 공란 오기 미상 한글 한자 영문 "
    "임차 임대 주부 시민 구민 도민 농민 어민 상인 세입 장애 노인 유족 사업 원고 피고 환자 부부 고객 회원 "
    "조합 강사 교사 간호 주택 소상 공인 하청 사장 직원 학부 전업 연금 수급 기초 차상 한부 담당 관리 소장 "
    "주차 주택 주간 주말 편의 민원실 차량 교통 정류 승강 화장"
    .split()
)

_PUNCT_TAIL = " \t,.;:"
_Cand = tuple[int, int, str, bool]  # start, end, kind, found next to a label


@dataclass(frozen=True)
class PiiSpan:
    """Where one value was found (in the NFC text) — the value itself is never stored."""

    kind: str
    start: int
    end: int
    original_length: int


@dataclass(frozen=True)
class MaskResult:
    text: str
    found: list[PiiSpan] = field(default_factory=list)


def _rrn_plausible(m: re.Match[str]) -> bool:
    yy, mm, dd, g = (m.group(1), m.group(2), m.group(3), m.group(4)) if m.group(1) else m.group(5, 6, 7, 8)
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}
    try:
        date(century.get(g, 1900) + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    return True


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _name_ok(candidate: str) -> str | None:
    """Return the name part of a labelled candidate, or None when it is not a plausible name."""
    compound = candidate.startswith(_COMPOUND_SURNAMES)
    if len(candidate) == 4 and not compound and candidate[-1] in "이가은는을를의와과도께씨님":
        candidate = candidate[:3]  # "박영희가" → "박영희"
    if not (compound or candidate[0] in _SURNAMES) or candidate.startswith(_NOT_NAMES):
        return None
    return candidate


def _candidates(text: str, keep: frozenset[str]) -> list[_Cand]:
    out: list[_Cand] = []  # (start, end, kind, labelled)
    for m in _RRN.finditer(text):
        if _rrn_plausible(m):
            g = m.group(4) or m.group(8)
            out.append((m.start(), m.end(), "foreigner_rrn" if g in "5678" else "rrn", False))
    for rx in (_MOBILE, _LANDLINE):
        for m in rx.finditer(text):
            s = m.start() + (m.group()[0] == "(" and ")" not in m.group())  # "(02) 123-4567" vs "홍길동(010-…"
            if re.sub(r"\D", "", m.group()) not in keep:
                out.append((s, m.end(), "phone", False))
    out += [(m.start(), m.end(), "email", False) for m in _EMAIL.finditer(text)]
    out += [(m.start(), m.end(), "card", False) for m in _CARD.finditer(text)]
    for m in _CARD_BARE.finditer(text):
        years = " " in m.group("v") and all(g[:2] in ("19", "20") for g in m.group("v").split(" "))
        if m.group("label") or (_luhn(m.group("v").replace(" ", "")) and not years):
            out.append((m.start("v"), m.end("v"), "card", bool(m.group("label"))))
    for m in _PASSPORT.finditer(text):
        g = "v" if m.group("v") else "w"
        out.append((m.start(g), m.end(g), "passport", g == "v"))
    for m in _LICENSE.finditer(text):
        g = "v" if m.group("v") else 0
        out.append((m.start(g), m.end(g), "driver_license", g == "v"))
    for m in _ACCOUNT_LABELED.finditer(text):
        if 10 <= len(re.sub(r"\D", "", m.group("v"))) <= 16:
            out.append((m.start("v"), m.end("v"), "account", True))
    for m in _ACCOUNT.finditer(text):
        groups = m.group("v").split("-")
        n = sum(map(len, groups))
        business_no = [len(g) for g in groups] == [3, 2, 5]  # 사업자등록번호 shape
        year_led = len(groups[0]) == 4 and groups[0][:2] in ("19", "20")  # 2024-0315-000123 (접수번호 etc.)
        doc_no = text[max(0, m.start() - 1):m.start()] == "제" or text[m.end():m.end() + 1] == "호"
        # 0xx-xxx(x)-xxxx is a phone shape: kept 080/office numbers must not come back as accounts
        phone_shaped = groups[0][0] == "0" and len(groups) == 3 and len(groups[2]) == 4 and len(groups[1]) in (3, 4)
        if 10 <= n <= 14 and not (business_no or year_led or doc_no or phone_shaped):
            out.append((m.start(), m.end(), "account", False))
    for m in _ADDRESS.finditer(text):
        g = "v" if m.group("v") else "w"
        s, e = m.start(g), m.end(g)
        while e > s and text[e - 1] in _PUNCT_TAIL:
            e -= 1
        out.append((s, e, "address", m.group("v") is not None))
    for m in _NAME.finditer(text):
        name = _name_ok(m.group("v"))
        sep = m.group("sep").strip()
        if sep in ("은", "는") and m.group("lab") not in ("성명", "이름"):
            continue  # "민원인은 …" starts a sentence, "이름은 홍길동" gives a name
        if name and (sep or len(name) >= 3):  # a space alone is weaker evidence: 3+ syllables only
            out.append((m.start("v"), m.start("v") + len(name), "name", True))
    for rx in (_SELF_NAME, _SIGNOFF_NAME):
        for m in rx.finditer(text):
            v = m.group("v")
            compound = v.startswith(_COMPOUND_SURNAMES)
            if len(v) == (4 if compound else 3) and (compound or v[0] in _SURNAMES) and not v.startswith(_NOT_NAMES):
                out.append((m.start("v"), m.end("v"), "name", False))
    return out


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    """Longest match wins; on equal length a labelled match ("계좌 …") beats an unlabelled one, then the
    more specific kind (``_PRIORITY``) wins."""
    chosen: list[_Cand] = []
    for c in sorted(cands, key=lambda c: (c[0] - c[1], not c[3], _PRIORITY.index(c[2]), c[0])):
        if all(c[1] <= o[0] or c[0] >= o[1] for o in chosen):
            chosen.append(c)
    return sorted(chosen)


def mask_pii(text: str, *, keep_numbers: Iterable[str] = ()) -> MaskResult:
    """Mask personal data in ``text`` (normalised first: :func:`normalise_typed`).

    ``keep_numbers``: extra phone numbers to leave visible, e.g. the office's own 대표전화 ("044-205-1234").
    """
    text = normalise_typed(text)
    keep = PUBLIC_NUMBERS | {re.sub(r"\D", "", n) for n in keep_numbers}
    cands = _candidates(text, keep)
    # a name found once (after a label, in a self-introduction or a sign-off) is masked wherever it recurs
    names = {text[s:e] for s, e, kind, _ in cands if kind == "name"}
    for name in names:
        for m in re.finditer(re.escape(name) + r"(?![가-힣]{2})", text):
            cands.append((m.start(), m.end(), "name", False))
    spans = _resolve(cands)
    parts: list[str] = []
    found: list[PiiSpan] = []
    pos = 0
    for s, e, kind, _ in spans:
        parts += [text[pos:s], PLACEHOLDERS[kind]]
        found.append(PiiSpan(kind=kind, start=s, end=e, original_length=e - s))
        pos = e
    parts.append(text[pos:])
    return MaskResult(text="".join(parts), found=found)


def mask_for_log(text: str) -> str:
    """The masked text only — use before writing anything a citizen typed to a log."""
    return mask_pii(text).text
