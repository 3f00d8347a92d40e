"""Statute structure and citations: 제N조(제목) articles, 항 ①, 호 "1.", 목 "가.", 제N편/장/절/관 divisions, 부칙,
「법령명」 제N조제M항제K호 references, law-name keys and precise locations.

Every module that reads or writes these forms (ingest, chunking, the answer composer, citation checking,
the evaluation) uses the patterns here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: 항 marks ①–⑳, in order (index + 1 = 항 number)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
#: a 제N조 / 제N조의M label anywhere in text (spaces tolerated: "제 10 조의 2")
ARTICLE_LABEL = re.compile(r"제\s*(\d+)\s*조(?:\s*의\s*(\d+))?")
#: an article head at the start of a line of statute text: "제14조(질의민원의 처리기간) …"
ARTICLE_HEAD = re.compile(r"^\s*(제\s*\d+\s*조(?:\s*의\s*\d+)?)\s*(?:\(([^)]{0,60})\))?\s*")
#: an article heading inside a passage's text (a new line starting "제N조(")
ARTICLE_HEADING_IN_TEXT = re.compile(r"(?:^|\n)\s*(제\d+조(?:의\d+)?)\s*[(（]")
#: a 호 ("1. …", "12의2. …") or 목 ("가. …") item at the start of a line
ITEM = re.compile(r"^\s*(?:(\d{1,2})(?:의(\d{1,2}))?|([가-하]))\.\s")
#: amendment and history notes of statute text, closed or cut ("‹개정 2012.10.22" without its closing mark)
AMENDMENT_NOTE = re.compile(
    r"\s*[<‹〈\[［]\s*(?:개정|신설|전문개정|본조신설|제목개정|종전|타법개정|삭제|시행일|일부개정|본조|조문)[^>›〉\]］\n]*"
    r"[>›〉\]］]?|\s*[<‹〈]\s*\d{4}\s?\.\s?\d{1,2}\s?\.\s?\d{1,2}\.?\s*[>›〉]")
#: "다음 각 호", "다음 각 목": the rule continues in the items that follow
ENUMERATION_LEAD = re.compile(r"다음\s*각\s*(?:호|목)")
#: 「법령명」 제N조(의M)(제N항)(제N호), with an optional "(이하 …)" between name and article
LAW_REF = re.compile(
    r"「(?P<law>[^」\n]{2,80})」\s*(?:\([^)]{0,40}\)\s*)?"
    r"(?P<art>제\s*(?P<num>\d+)\s*조(?:\s*의\s*(?P<sub>\d+))?)"
    r"(?P<tail>(?:\s*제\s*\d+\s*항)?(?:\s*제\s*\d+\s*호)?)"
)

# "제10조(목적) 본문", "제8조의2(…)", "제 3 조 (정의)": the title in parentheses is required in running
# text, and must not be followed by a particle ("제2조(정의)에 따라 …" is a reference, not an article).
_ARTICLE = re.compile(
    r"^\s*제\s?(\d{1,4})\s?조(?:\s?의\s?(\d{1,3}))?\s?\(([^()\n]{1,60})\)(?=\s|$|[①-⑳<])\s*(.*)\Z", re.S)
# in a heading (Markdown "##### 제1조 (목적)", a DOCX heading) the title is optional
_ARTICLE_HEADING = re.compile(
    r"^\s*제\s?(\d{1,4})\s?조(?:\s?의\s?(\d{1,3}))?(?=\s|\(|$)\s*(?:\(([^()\n]*)\))?\s*(.*)\Z", re.S)
_DIVISION = re.compile(r"^\s*제\s?(\d{1,3})\s?(편|장|절|관)(?:\s?의\s?\d{1,3})?(?:\s+(\S.{0,50}))?\s*$")
_SUPPLEMENT = re.compile(r"^\s*부\s?칙(?:\s*[<(〈［\[].*)?\s*$")
_DIVISION_LEVEL = {"편": 1, "장": 2, "절": 3, "관": 4}


@dataclass(frozen=True)
class Article:
    """An article head found at the start of a line."""

    label: str  # "제10조", "제8조의2"
    title: str | None  # "불필요한 서류 요구의 금지"
    rest: str  # text after the head on the same line (and any following lines)

    def text(self) -> str:
        """The head as statutes print it, "제10조(제목) 본문"."""
        head = f"{self.label}({self.title})" if self.title else self.label
        return f"{head} {self.rest}".strip()


def article_label(number: str | int, sub: str | int | None = None) -> str:
    return f"제{int(number)}조" + (f"의{int(sub)}" if sub else "")


def match_article(text: str) -> Article | None:
    """The article starting ``text`` (running text: a parenthesised title is required)."""
    m = _ARTICLE.match(text)
    if not m:
        return None
    return Article(article_label(m.group(1), m.group(2)), m.group(3).strip(), m.group(4).strip())


def match_article_heading(text: str) -> Article | None:
    """Like :func:`match_article` for a heading, where the title may be missing."""
    m = _ARTICLE_HEADING.match(text)
    if not m:
        return None
    title = m.group(3).strip() if m.group(3) is not None else None
    return Article(article_label(m.group(1), m.group(2)), title, m.group(4).strip())


def division_level(line: str) -> int | None:
    """1–4 for a 편/장/절/관 line ("제2장 민원의 처리"), 1 for a 부칙 line, else None."""
    if is_supplement(line):
        return 1
    m = _DIVISION.match(line)
    if not m or (m.group(3) and m.group(3).rstrip().endswith(("다.", "다", "."))):
        return None
    return _DIVISION_LEVEL[m.group(2)]


def is_supplement(line: str) -> bool:
    """True for the 부칙 heading line ("부칙", "부칙 <제18742호, 2022.1.11>")."""
    return bool(_SUPPLEMENT.match(line))


def is_marker(line: str) -> bool:
    """True when a line starts a new statute unit (article, division or 부칙)."""
    return match_article(line) is not None or division_level(line) is not None


def split_at_markers(lines: list[str]) -> list[list[str]]:
    """Split a paragraph's lines before every line that starts an article, division or 부칙."""
    groups: list[list[str]] = []
    for line in lines:
        if not groups or is_marker(line):
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def labels_in(text: str) -> set[str]:
    """Article labels mentioned in a string: "제10조, 제10조의2" → {"제10조", "제10조의2"}."""
    return {article_label(m.group(1), m.group(2))
            for m in ARTICLE_LABEL.finditer(unicodedata.normalize("NFC", text or ""))}


def paragraph_of(line: str) -> tuple[int | None, str]:
    """(항 number, rest) for a line starting with ①–⑳, else (None, line)."""
    s = line.lstrip()
    if s and s[0] in CIRCLED:
        return CIRCLED.index(s[0]) + 1, s[1:].strip()
    return None, line


def item_of(line: str) -> tuple[str | None, str | None]:
    """("3", None) for a 호 "3. …", ("12의2", None) for "12의2. …", (None, "가") for a 목 "가. …"."""
    m = ITEM.match(line)
    if not m:
        return None, None
    if m.group(3):
        return None, m.group(3)
    return (m.group(1) + (f"의{m.group(2)}" if m.group(2) else "")), None


def location_label(article: str | None, paragraph: int | None = None, item: str | None = None,
                   subitem: str | None = None) -> str:
    """The precise location of a statute sentence: "제14조제2호", "제19조제1항", "제7조의3제1항제1호가목"."""
    if not article:
        return ""
    out = article
    if paragraph:
        out += f"제{paragraph}항"
    if item:
        out += f"제{item}호"
    if subitem:
        out += f"{subitem}목"
    return out


def squash(text: str) -> str:
    """NFC, no whitespace, one middle-dot form: how law names and articles are compared."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", "", text.replace("ㆍ", "·").replace("・", "·"))


def law_key(name: str) -> str:
    """A law name as compared: 「」 and spacing removed ("민원 처리에 관한 법률" → "민원처리에관한법률")."""
    return squash(name).strip("「」")


def is_law_title(title: str) -> bool:
    """True for a title that names a statute (…법, …법률, …시행령, …시행규칙, …규칙, …규정, …조례)."""
    return bool(re.search(r"(?:법|법률|시행령|시행규칙|규칙|규정|조례|령)$", squash(title)))
