"""Recognising statute structure in text: 제N조(제목) articles, 제N편/장/절/관 divisions and 부칙."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
