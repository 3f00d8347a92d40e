"""Official document notation (「행정업무의 운영 및 혁신에 관한 규정」 and its 시행규칙): marks, dates, amounts, 끝.

Rules implemented, each with a formatter (what a writer calls) and a checker (what the evaluation and the tests
call on finished text):

- 항목 구분 (시행규칙 제2조제1항): items are marked, level by level, 1. → 가. → 1) → 가) → (1) → (가) → ① → ㉮.
  Hangul marks run 가 나 … 하, then 거 너 … 허. ``item_mark(level, index)``; ``check_item_marks(text)`` reports a
  mark that skips a level or breaks its sequence (1. then 3.; 가. straight after a heading that has no 1.).
- 날짜·시간 (규정 제7조제5항): "2026. 12. 5." (연·월·일 replaced by full stops, no zero padding) and
  "14:30" (24-hour clock, colon). ``format_date`` / ``format_time``; ``normalize_dates`` rewrites ISO,
  "2026.12.05" and "2026년 12월 5일" forms; ``check_dates`` reports those forms and "14시 30분".
- 금액 (규정 제7조제6항): "금113,560원(금일십일만삼천오백육십원)". ``format_amount``; ``check_amounts`` reports a
  written-out amount whose Hangul does not match its figures, and a figure of four digits or more with no
  thousands separators.
- 끝 표시 (시행규칙 제4조): the body ends with two spaces and "끝." (after the 붙임 list when there is one).
  ``end_mark``; ``check_end_mark``.
- 붙임 (시행규칙 제4조): "붙임  1. … 1부." — no colon after 붙임. ``check_attachment_label``.

``check_notation(text, require_end=…)`` runs every checker; each finding is a :class:`Violation`.
Quoted source text (between “ ” or " ") is not checked for dates: a law is quoted as it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

HANGUL_MARKS = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허"
CIRCLED_NUMBERS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳㉑㉒㉓㉔㉕㉖㉗㉘㉙㉚㉛㉜㉝㉞㉟"
CIRCLED_HANGUL = "㉮㉯㉰㉱㉲㉳㉴㉵㉶㉷㉸㉹㉺㉻"
LEVELS = 8
END = "끝."
END_GAP = "  "  # 1자(2타) 띄움

_TEMPLATES = ("{n}.", "{h}.", "{n})", "{h})", "({n})", "({h})", "{cn}", "{ch}")


@dataclass(frozen=True)
class Violation:
    rule: str  # item_mark | date | time | amount | end_mark | attachment
    line: int  # 1-based line number
    text: str  # the offending text
    message: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "line": self.line, "text": self.text, "message": self.message}


# --------------------------------------------------------------------------------------- item marks

def item_mark(level: int, index: int) -> str:
    """The mark of the ``index``-th item (1-based) at ``level`` (1 = "1.", 2 = "가.", … 8 = "㉮")."""
    if not 1 <= level <= LEVELS:
        raise ValueError(f"항목 수준은 1–{LEVELS}이어야 합니다: {level}")
    if index < 1:
        raise ValueError(f"항목 번호는 1 이상이어야 합니다: {index}")
    template = _TEMPLATES[level - 1]
    if "{h}" in template and index > len(HANGUL_MARKS):
        raise ValueError(f"한글 항목 기호는 {len(HANGUL_MARKS)}개까지입니다: {index}")
    if level == 7 and index > len(CIRCLED_NUMBERS):
        raise ValueError(f"원문자 숫자는 {len(CIRCLED_NUMBERS)}개까지입니다: {index}")
    if level == 8 and index > len(CIRCLED_HANGUL):
        raise ValueError(f"원문자 한글은 {len(CIRCLED_HANGUL)}개까지입니다: {index}")
    return template.format(n=index, h=HANGUL_MARKS[index - 1] if index <= len(HANGUL_MARKS) else "",
                           cn=CIRCLED_NUMBERS[index - 1] if index <= len(CIRCLED_NUMBERS) else "",
                           ch=CIRCLED_HANGUL[index - 1] if index <= len(CIRCLED_HANGUL) else "")


_H = f"[{HANGUL_MARKS}]"
_MARK_PATTERNS = (  # (level, regex matching the mark at the start of a line, followed by a space)
    (1, re.compile(r"(\d{1,2})\.(?=\s)")),
    (2, re.compile(rf"({_H})\.(?=\s)")),
    (3, re.compile(r"(\d{1,2})\)(?=\s)")),
    (4, re.compile(rf"({_H})\)(?=\s)")),
    (5, re.compile(r"\((\d{1,2})\)(?=\s)")),
    (6, re.compile(rf"\(({_H})\)(?=\s)")),
    (7, re.compile(f"([{CIRCLED_NUMBERS}])")),
    (8, re.compile(f"([{CIRCLED_HANGUL}])")),
)


def parse_mark(line: str) -> tuple[int, int] | None:
    """(level, index) of the item mark a line starts with, or None."""
    text = line.lstrip()
    for level, rx in _MARK_PATTERNS:
        m = rx.match(text)
        if m:
            token = m.group(1)
            if level == 7:
                return level, CIRCLED_NUMBERS.index(token) + 1
            if level == 8:
                return level, CIRCLED_HANGUL.index(token) + 1
            if level in (1, 3, 5):
                return level, int(token)
            return level, HANGUL_MARKS.index(token) + 1
    return None


def check_item_marks(text: str) -> list[Violation]:
    """Marks out of order: a level entered without its parent, or an index that is not the next one."""
    out: list[Violation] = []
    counters: list[int] = []  # counters[i] = last index seen at level i+1 (in the current parent)
    for no, line in enumerate(text.split("\n"), 1):
        parsed = parse_mark(line)
        if parsed is None:
            continue
        level, index = parsed
        depth = len(counters)
        if level > depth + 1:
            expected = item_mark(depth + 1, 1)
            out.append(Violation("item_mark", no, line.strip()[:40],
                                 f"항목 기호 '{item_mark(level, index)}' 앞에 상위 항목('{expected}')이 없습니다. "
                                 "1. 가. 1) 가) (1) (가) ① ㉮ 순서로 씁니다."))
            counters += [1] * (level - 1 - depth)
            depth = len(counters)
        if level <= depth:
            del counters[level:]
            expected_index = counters[level - 1] + 1
            counters[level - 1] = index
        else:
            expected_index = 1
            counters.append(index)
        if index != expected_index:
            out.append(Violation("item_mark", no, line.strip()[:40],
                                 f"항목 기호 '{item_mark(level, index)}'의 차례가 맞지 않습니다 "
                                 f"(이 자리에는 '{item_mark(level, expected_index)}')."))
    return out


# --------------------------------------------------------------------------------------- dates and times

def format_date(value: date | datetime) -> str:
    """2026-12-05 → "2026. 12. 5." """
    return f"{value.year}. {value.month}. {value.day}."


def format_time(value: time | datetime) -> str:
    """14:30 (24-hour clock, minutes always two digits)."""
    return f"{value.hour:02d}:{value.minute:02d}"


def format_datetime(value: datetime) -> str:
    """"2026. 12. 5. 14:30" """
    return f"{format_date(value)} {format_time(value)}"


_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<![\d.])((?:19|20)\d{2})\.(\d{1,2})\.(\d{1,2})\.?(?![\d])")
_PADDED_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\. (0\d)\. (\d{1,2})\."
                          r"|(?<!\d)((?:19|20)\d{2})\. (\d{1,2})\. (0\d)\.")
_KOREAN_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})년\s?(\d{1,2})월\s?(\d{1,2})일")
_KOREAN_TIME = re.compile(r"(?:오전|오후)?\s?(?<!\d)(\d{1,2})시\s?(\d{1,2})분")
_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|「[^」\n]*」|『[^』\n]*』|‘[^’\n]*’")


def _valid(y: str, m: str, d: str) -> bool:
    try:
        date(int(y), int(m), int(d))
    except ValueError:
        return False
    return True


def normalize_dates(text: str) -> str:
    """Rewrite 2026-12-05, 2026/12/05, 2026.12.05 and 2026년 12월 5일 as "2026. 12. 5." (quotes left alone)."""
    def fix(m: re.Match[str]) -> str:
        y, mo, d = m.group(1), m.group(2), m.group(3)
        return f"{int(y)}. {int(mo)}. {int(d)}." if _valid(y, mo, d) else m.group(0)

    def outside_quotes(segment: str) -> str:
        for rx in (_ISO_DATE, _COMPACT_DATE, _KOREAN_DATE):
            segment = rx.sub(fix, segment)
        return segment

    return _outside(text, outside_quotes)


def _outside(text: str, fn: object) -> str:
    """Apply ``fn`` to the parts of ``text`` that are not quotations."""
    out, pos = [], 0
    for m in _QUOTED.finditer(text):
        out.append(fn(text[pos:m.start()]))  # type: ignore[operator]
        out.append(m.group(0))
        pos = m.end()
    out.append(fn(text[pos:]))  # type: ignore[operator]
    return "".join(out)


def _unquoted(line: str) -> str:
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), line)


def check_dates(text: str) -> list[Violation]:
    out: list[Violation] = []
    for no, raw in enumerate(text.split("\n"), 1):
        line = _unquoted(raw)
        for rx in (_ISO_DATE, _COMPACT_DATE, _KOREAN_DATE, _PADDED_DATE):
            for m in rx.finditer(line):
                groups = [g for g in m.groups() if g]
                if rx is not _PADDED_DATE and not _valid(*groups[:3]):
                    continue
                y, mo, d = (int(g) for g in groups[:3])
                out.append(Violation("date", no, m.group(0).strip(),
                                     f"날짜는 '{y}. {mo}. {d}.' 형식으로 씁니다."))
        for m in _KOREAN_TIME.finditer(line):
            hour = int(m.group(1)) + (12 if "오후" in m.group(0) and int(m.group(1)) < 12 else 0)
            out.append(Violation("time", no, m.group(0).strip(),
                                 f"시간은 24시각제로 '{hour:02d}:{int(m.group(2)):02d}' 형식으로 씁니다."))
    return out


# --------------------------------------------------------------------------------------- amounts

_DIGITS = "영일이삼사오육칠팔구"
_SMALL_UNITS = ("", "십", "백", "천")
_BIG_UNITS = ("", "만", "억", "조", "경")


def amount_in_words(amount: int) -> str:
    """113560 → "일십일만삼천오백육십" (every digit named, 일 included, as the rule's example writes it)."""
    if amount < 0:
        raise ValueError("금액은 0 이상이어야 합니다.")
    if amount == 0:
        return "영"
    groups = []
    n, big = amount, 0
    while n:
        n, group = divmod(n, 10000)
        if group:
            words = "".join(f"{_DIGITS[int(ch)]}{_SMALL_UNITS[3 - i]}"
                            for i, ch in enumerate(f"{group:04d}") if ch != "0")
            groups.append(words + _BIG_UNITS[big])
        big += 1
        if big >= len(_BIG_UNITS) and n:
            raise ValueError("금액이 너무 큽니다.")
    return "".join(reversed(groups))


def format_amount(amount: int) -> str:
    """113560 → "금113,560원(금일십일만삼천오백육십원)" """
    return f"금{amount:,}원(금{amount_in_words(amount)}원)"


_WRITTEN_AMOUNT = re.compile(r"금\s?(\d{1,3}(?:,\d{3})*|\d+)\s?원\s?"
                             r"\(\s?금\s?([영일이삼사오육칠팔구십백천만억조경]+)\s?원\s?\)")
_UNGROUPED = re.compile(r"(?<![\d,.\-])(\d{4,})\s?원")


def check_amounts(text: str) -> list[Violation]:
    out: list[Violation] = []
    for no, line in enumerate(text.split("\n"), 1):
        for m in _WRITTEN_AMOUNT.finditer(line):
            figure = int(m.group(1).replace(",", ""))
            if m.group(2) != amount_in_words(figure) or ("," not in m.group(1) and figure >= 1000):
                out.append(Violation("amount", no, m.group(0),
                                     f"금액은 '{format_amount(figure)}'처럼 씁니다."))
        for m in _UNGROUPED.finditer(_unquoted(line)):
            figure = int(m.group(1))
            out.append(Violation("amount", no, m.group(0),
                                 f"금액은 세 자리마다 쉼표를 찍어 '{figure:,}원'으로 씁니다."))
    return out


# --------------------------------------------------------------------------------------- 끝, 붙임

_END_RX = re.compile(r"(?:^|\s)끝\.\s*$")


def end_mark(text: str) -> str:
    """The text with "  끝." after its last line (an existing, badly spaced 끝. is replaced)."""
    body = text.rstrip()
    m = _END_RX.search(body)
    if m:
        body = body[:m.start()].rstrip()
    return f"{body}{END_GAP}{END}"


def check_end_mark(text: str) -> list[Violation]:
    lines = text.rstrip().split("\n")
    last = lines[-1] if lines else ""
    if last.endswith(END_GAP + END) and not last.endswith("   " + END):
        return []
    if last.rstrip().endswith(END):
        return [Violation("end_mark", len(lines), last.strip()[-20:],
                          "본문 끝에서 2타(두 칸)를 띄우고 '끝.'을 씁니다.")]
    return [Violation("end_mark", len(lines), last.strip()[-20:], "본문이 끝나면 2타 띄우고 '끝.'을 씁니다.")]


_ATTACH_COLON = re.compile(r"^\s*(붙\s?임|첨\s?부)\s*[:：]")


def check_attachment_label(text: str) -> list[Violation]:
    return [Violation("attachment", no, line.strip()[:30], "'붙임' 다음에는 쌍점(:)을 쓰지 않고 2타 띄웁니다.")
            for no, line in enumerate(text.split("\n"), 1) if _ATTACH_COLON.match(line)]


def attachment_line(items: list[str]) -> list[str]:
    """"붙임  1. 계획서 1부." lines (a single item has no number)."""
    if not items:
        return []
    if len(items) == 1:
        return [f"붙임  {items[0]}"]
    pad = " " * len("붙임  ")
    return [f"{'붙임  ' if i == 1 else pad}{i}. {item}" for i, item in enumerate(items, 1)]


# --------------------------------------------------------------------------------------- all rules

def check_notation(text: str, *, require_end: bool = False) -> list[Violation]:
    """Every rule above, in line order; ``require_end`` when the format ends its body with 끝."""
    found = check_item_marks(text) + check_dates(text) + check_amounts(text) + check_attachment_label(text)
    if require_end:
        found += check_end_mark(text)
    return sorted(found, key=lambda v: v.line)


def apply_notation(text: str, *, end: bool = False) -> str:
    """Dates rewritten officially and, with ``end``, the closing "  끝."."""
    text = normalize_dates(text)
    return end_mark(text) if end else text
