"""Which articles of a statute are its key articles: the importance signal behind the statute outline.

In-law citation counts alone mislead. A statute refers back within an article ("제1항에 따라"), so a core article
such as 「행정절차법」 제22조(의견청취) is cited by one other article, while an article that later "의2/의3"
articles hang off (제38조 → 제38조의2, 제38조의3) collects many citations from its own neighbours. The signals
here, each general (no article numbers, no law names):

- **citations by other articles**, counted once per citing article, a citer in the same 절 (usually an inserted
  "의N" sibling or the next step of one procedure) counting half;
- **citations from other documents** when the caller has them (a 시행령 writing "법 제22조", a 해석례 or manual
  writing "「행정절차법」 제22조"): how often the outside world looks an article up;
- **a duty attached to every act of the chapter**: the rule binds whenever the act the chapter is named after
  happens ("행정청은 처분을 할 때에는 … 하여야 한다" in 제2장 처분) — the procedural guarantees a 주무관 checks;
- **a 통칙 절**: the general provisions of a chapter apply to everything after them;
- the strength of the article's rule (duty, right, period, amount), its position (first of a 장/절), a title
  named like its 장/절, and 목적/정의.

Pure: articles in, scores set on them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from assistant.korean.statute import ARTICLE_LABEL

if TYPE_CHECKING:
    from assistant.generate.statute_outline import StatuteArticle

_OTHER_LAW_REF = re.compile(r"「[^」]*」\s*제\s*\d+\s*조(?:의\s*\d+)?")
_DIVISION_NUMBER = re.compile(r"^제\s?\d+\s?(?:편|장|절|관)\s*")
_GENERIC = {"등", "및", "관한", "관하여", "대한", "위한", "사항"}
GENERAL_PROVISIONS = re.compile(r"^제\s?\d+\s?(?:절|관)\s*(?:통칙|총칙)\s*$")
_PERIOD_OR_AMOUNT = re.compile(r"\d+\s?(?:일|개월|년|시간|원)")


def _label(m: re.Match[str]) -> str:
    return f"제{m.group(1)}조" + (f"의{m.group(2)}" if m.group(2) else "")


def in_law_citations(arts: Sequence[StatuteArticle]) -> dict[str, float]:
    """Weighted count of the other articles citing each article (each citer once; same 절 counts half)."""
    path_of = {a.label: a.path for a in arts}
    citers: dict[str, set[str]] = {}
    for a in arts:
        body = _OTHER_LAW_REF.sub("", "\n".join(a.lines))
        for m in ARTICLE_LABEL.finditer(body):
            label = _label(m)
            if label != a.label and label in path_of:
                citers.setdefault(label, set()).add(a.label)
    return {label: sum(0.5 if path_of[c] == path_of[label] else 1.0 for c in who)
            for label, who in citers.items()}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _parent_law(title: str) -> str:
    """"민원 처리에 관한 법률 시행령" → "민원처리에관한법률" (a decree's "법 제N조" means its parent law)."""
    return re.sub(r"(?:시행령|시행규칙)$", "", _compact(title))


def external_citations(law_title: str, documents: Iterable[tuple[str, str]]) -> dict[str, int]:
    """How often other documents cite each article of the law titled ``law_title``.

    ``documents`` are (title, text) pairs; the law's own text should not be among them. A citation is
    "「법령명」 제N조" or "법령명 제N조" (spacing ignored), or "법 제N조" inside a 시행령/시행규칙 of that law."""
    name = _compact(law_title)
    if len(name) < 3:
        return {}
    own = re.compile(r"「?" + re.escape(name) + r"」?(제\d+조(?:의\d+)?)")
    parent = re.compile(r"(?<![가-힣])법(제\d+조(?:의\d+)?)")
    counts: dict[str, int] = {}
    for title, text in documents:
        body = _compact(text)
        found = own.findall(body)
        if _parent_law(title) == name and _compact(title) != name:
            found += parent.findall(body)
        for label in found:
            counts[label] = counts.get(label, 0) + 1
    return counts


def _terms(heading: str) -> list[str]:
    text = _DIVISION_NUMBER.sub("", heading)
    return [w for w in re.split(r"[\s,ㆍ·]+|의\s", text) if len(w) >= 2 and w not in _GENERIC]


def binds_every_act(article: StatuteArticle) -> bool:
    """The article's rule (``article.rule``, chosen first) is a duty that applies whenever the act its chapter
    is named after happens: "행정청은 처분을 할 때에는 … 제시하여야 한다" in "제2장 처분"."""
    if not article.path or not article.rule:
        return False
    from assistant.generate.statute_outline import DECLARED, OBLIGATION

    if not (OBLIGATION.search(article.rule) or DECLARED.search(article.rule)):
        return False
    return any(re.search(re.escape(term) + r"(?:을|를)?\s?(?:할|하는|하려는|하였을)\s?(?:때|경우)", article.rule)
               for term in _terms(article.path[0]))


def opens_sibling_divisions(article: StatuteArticle, sections: Mapping[tuple[str, str], list[str]]) -> int:
    """How many other 절 of the article's 장 it names the subject of: the article that introduces 청문 and
    공청회 (제22조 의견청취) is the gateway to "제2절 의견제출 및 청문" and "제3절 공청회".
    ``sections``: each 절 (keyed by its 장 and 절 headings) with its specific terms (:func:`division_terms`)."""
    if len(article.path) < 2:
        return 0
    body = "\n".join(article.lines)
    return sum(1 for (chapter, section), terms in sections.items()
               if chapter == article.path[0] and section != article.path[1] and any(t in body for t in terms))


def division_terms(arts: Sequence[StatuteArticle]) -> dict[tuple[str, str], list[str]]:
    """Each 절's name terms that only part of the law uses ("청문", not "민원" in a 민원 law: under a quarter of
    the articles), keyed by (장, 절)."""
    bodies = ["\n".join(a.lines) for a in arts]
    out: dict[tuple[str, str], list[str]] = {}
    for a in arts:
        key = (a.path[0], a.path[1]) if len(a.path) > 1 else None
        if key and key not in out:
            out[key] = [t for t in _terms(key[1]) if sum(t in b for b in bodies) < 0.25 * len(bodies)]
    return out


def _words(text: str) -> set[str]:
    text = _DIVISION_NUMBER.sub("", text)
    return {w for w in re.split(r"[\s,ㆍ·및등의]+", text) if len(w) >= 2}


def score_articles(arts: Sequence[StatuteArticle], external: Mapping[str, int] | None = None) -> None:
    """Set ``rule``, ``items`` and ``score`` of every article (see the module docstring for the signals)."""
    from assistant.generate.statute_outline import choose_rule

    cited = in_law_citations(arts)
    sections = division_terms(arts)
    outside = external or {}
    seen_divisions: set[tuple[str, ...]] = set()
    for a in arts:
        a.rule, a.items, strength = choose_rule(a)
        a.score = 0.4 * min(strength, 5.0) + 1.5 * math.log1p(cited.get(a.label, 0.0))
        a.score += 1.0 * math.log1p(outside.get(a.label, 0))
        if a.path and a.path not in seen_divisions:
            a.score += 1.0  # the first article of a 장/절 usually states its core rule
            seen_divisions.add(a.path)
        if a.path and _words(a.title) & set().union(*(_words(p) for p in a.path)):
            a.score += 1.0  # "제41조(행정상 입법예고)" in "제4장 행정상 입법예고"
        if len(a.path) > 1 and GENERAL_PROVISIONS.match(a.path[-1]):
            a.score += 0.5  # a 통칙 절 holds the rules every later 절 of its chapter relies on
        if binds_every_act(a):
            a.score += 1.0
        a.score += 1.0 * min(2, opens_sibling_divisions(a, sections))  # the gateway to other 절 of its 장
        if _PERIOD_OR_AMOUNT.search(a.rule + " ".join(a.items)):
            a.score += 1.5  # periods and amounts are what a 주무관 looks up
        if a.key in ((1, 0), (2, 0)):
            a.score += 3.5  # 목적, 정의: how a reader enters the law
        if not a.rule:
            a.score -= 10
