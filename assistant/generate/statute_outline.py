"""A statute (법률, 시행령, 시행규칙) summarised as its outline: 장/절 structure and each key article's rule in
one line.

Why not the report summariser: a law's first sentence is rarely its rule and TextRank picks arbitrary sentences.
A 주무관 wants the structure and, per key article, the duty, right, period or amount it lays down.

- Articles are rebuilt from chunks (a long article spans several; each repeats the "제N조(제목)" head).
- Amendment notes ("<개정 2012.10.22>", "[본조신설 …]", "‹개정", "[시행일: …]") are removed; deleted articles
  ("삭제") and 부칙 are left out.
- The rule of an article is the sentence with the strongest obligation / right / prohibition / period / amount cue,
  not its first sentence; a pure delegation ("…은 대통령령으로 정한다") or a "준용한다" sentence ranks low.
  When the rule continues in "다음 각 호", the items follow compactly on a "-" line (definitions as the list of
  defined terms). Sentences are never cut: a whole sentence or nothing.
- Key articles: each 장 gets lines in proportion to its importance mass (the scores of its articles; at least
  one line), shared among its 절 the same way (a 통칙 절 counting double) when it has more lines than 절; the
  most important articles (assistant.generate.statute_importance: citations by other articles and, when given,
  by other documents, duties bound to the chapter's act, the strength of the rule) are chosen, and shown in
  article order. With fewer lines than chapters the first line lists the chapters.
- ``scope`` ("제3장", "제2장 제1절", "제10조~제20조", "제21조") limits the outline to part of the law.

Pure: chunks in, 개조식 lines out (Kiwi is used only to turn the final predicate into 명사형 종결).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError
from assistant.generate.statute_importance import GENERAL_PROVISIONS, score_articles
from assistant.korean.statute import (
    AMENDMENT_NOTE,
    ARTICLE_LABEL,
    ENUMERATION_LEAD,
    division_level,
    item_of,
    match_article_heading,
    squash,
)
from assistant.types import Chunk

TOP, MID, LOW = "□", "○", "-"

_DELETED = re.compile(r"^\s*삭제\s*$")
_ASIDE = re.compile(r"\s*\((?:이하[^()]{0,40}(?:\([^()]*\)[^()]{0,20})?이?라\s?한다"
                    r"|[^()]{4,60}(?:제외한다|말한다|포함한다|해당한다)(?:\.\s?이하[^()]{0,20}같다)?)\)")
_OTHER_PARAGRAPH = re.compile(r"제\s?\d+\s?항")
_DEFINED = re.compile(r"^[\"“']([^\"”']{1,20})[\"”']\s*(?:이)?란")
#: a duty or prohibition: "하여야 한다", and "주어야/알려야/갖추어야 한다" as well
OBLIGATION = re.compile(r"[가-힣]야\s?(?:한다|하며|하고)|아니\s?된다|아니\s?한다|할\s?수\s?없다|못한다|금지|의무")
_RIGHT = re.compile(r"할\s?수\s?있다|청구할|요청할|신청할|권리")
_PERIOD = re.compile(r"\d+\s?(?:일|개월|년|시간|주|회|만\s?원|원|퍼센트|%)|이내|이상|전까지|지체\s?없이|즉시")
_DELEGATION = re.compile(r"(?:대통령령|총리령|부령|조례|규칙)(?:으로|이)?\s?정(?:한다|하는)"
                         r"|준용한다|^이\s?경우|에도\s?불구하고")
_DEFINITION = re.compile(r"말한다|목적으로\s?한다|뜻은\s?다음과\s?같다")
#: a statute's plain "…을 한다" / "…으로 한다" is a rule too ("청문을 한다", "40일 이상으로 한다")
DECLARED = re.compile(r"(?:을|를|으로|로)\s?한다\.?$")
_RANGE = re.compile(r"제\s*(\d+)\s*조(?:\s*의\s*(\d+))?\s*(?:~|-|–|부터)\s*(?:제\s*)?(\d+)\s*조(?:\s*의\s*(\d+))?")
_DIVISION_SCOPE = re.compile(r"제\s*\d+\s*(?:편|장|절|관)")


@dataclass
class StatuteArticle:
    label: str  # 제8조의2
    key: tuple[int, int]  # (8, 2)
    title: str
    lines: list[str]
    path: tuple[str, ...]  # cleaned division headings, outermost first
    score: float = 0.0
    rule: str = ""
    items: list[str] = field(default_factory=list)


def strip_notes(text: str) -> str:
    """Amendment and history notes removed, spacing tidied."""
    return re.sub(r"[ \t]{2,}", " ", AMENDMENT_NOTE.sub("", text)).strip()


def _key(label: str) -> tuple[int, int]:
    m = ARTICLE_LABEL.search(label)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def _path(chunk: Chunk) -> tuple[str, ...]:
    parts = [strip_notes(p) for p in (chunk.section or "").split(" > ") if p.strip()]
    return tuple(p for p in parts if division_level(p) and not p.startswith("부"))


def is_supplement_chunk(chunk: Chunk) -> bool:
    return (chunk.section or "").replace(" ", "").startswith("부칙")


def looks_like_statute(chunks: Sequence[Chunk]) -> bool:
    """Most body chunks carry an article label and there are several articles."""
    body = [c for c in chunks if not is_supplement_chunk(c)]
    labelled = [c for c in body if c.article and ARTICLE_LABEL.match(c.article)]
    return len({c.article for c in labelled}) >= 3 and len(labelled) >= 0.6 * max(1, len(body))


def _body_lines(chunk: Chunk) -> tuple[str, list[str]]:
    """(title, lines) of one chunk with the repeated article head removed and lone "1." marks joined to their text."""
    text = chunk.text.strip()
    head = match_article_heading(text.split("\n", 1)[0])
    title = ""
    if head is not None:
        title = head.title or ""
        text = (head.rest + ("\n" + text.split("\n", 1)[1] if "\n" in text else "")).strip()
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip().replace("\\", "")
        if not line:
            continue
        if out and re.fullmatch(r"(?:\d{1,2}(?:의\d{1,2})?|[가-하])\.", out[-1]):
            out[-1] = f"{out[-1]} {line}"
        elif out and out[-1].count("(") > out[-1].count(")"):
            out[-1] = f"{out[-1]} {line}"  # the chunker broke a sentence at "(…제외한다. 이하 같다)"
        else:
            out.append(line)
    return title, out


def articles_of(chunks: Sequence[Chunk]) -> list[StatuteArticle]:
    arts: list[StatuteArticle] = []
    for c in chunks:
        if is_supplement_chunk(c) or not c.article or not ARTICLE_LABEL.match(c.article):
            continue
        label = ARTICLE_LABEL.match(c.article).group(0).replace(" ", "")  # type: ignore[union-attr]
        title, lines = _body_lines(c)
        if arts and arts[-1].label == label:
            if lines and arts[-1].lines and ITEM_MARK.match(arts[-1].lines[-1]) and lines[0][0] not in "①②③④⑤⑥⑦⑧⑨⑩":
                lines[0] = "99. " + lines[0]  # the chunker cut inside a list: the continuation is still an item
            arts[-1].lines += lines
            continue
        arts.append(StatuteArticle(label, _key(label), strip_notes(title), lines, _path(c)))
    for a in arts:
        a.lines = [s for s in (strip_notes(x) for x in a.lines) if s]
    return [a for a in arts if a.lines and not all(_DELETED.match(x) for x in a.lines)]


# --------------------------------------------------------------------------------------- the rule of an article

def _sentence_score(sentence: str, position: int) -> float:
    s = 0.0
    if OBLIGATION.search(sentence):
        s += 3
    if _RIGHT.search(sentence):
        s += 2
    if _PERIOD.search(sentence):
        s += 2
    if ENUMERATION_LEAD.search(sentence):
        s += 1.0
    if DECLARED.search(sentence) and not _DEFINITION.search(sentence):
        s += 2
    if _DEFINITION.search(sentence):
        s += 1
    if _DELEGATION.search(sentence):
        s -= 3
    if _OTHER_PARAGRAPH.search(sentence):
        s -= 1.5  # "제1항에 따른 …": a subsidiary paragraph, the core rule is elsewhere
    if len(sentence) > 110:
        s -= 1 + (len(sentence) - 110) / 60
    return s - 1.0 * position


def _paragraphs(lines: list[str]) -> list[tuple[str, list[str]]]:
    """[(main text, items)]: a 항 (①…) or unnumbered paragraph, with its 호/목 lines."""
    paras: list[tuple[str, list[str]]] = []
    for line in lines:
        number, sub = item_of(line)
        if (number or sub) and paras:
            if number:  # 목 (가.) lines belong to their 호 and are left out of the compact list
                paras[-1][1].append(ITEM_MARK.sub("", line).strip())
            continue
        paras.append((line.lstrip("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳ ").strip(), []))
    return paras


ITEM_MARK = re.compile(r"^\s*(?:\d{1,2}(?:의\d{1,2})?|[가-하])\.\s*")


def sentences_of(text: str) -> list[str]:
    """Sentences ending in "다." outside parentheses ("(…포함한다. 이하 같다)" stays inside its sentence)."""
    out: list[str] = []
    depth = start = 0
    for i, ch in enumerate(text):
        depth += ch in "(（「" and 1 or 0
        depth -= ch in ")）」" and 1 or 0
        depth = max(depth, 0)
        if ch == "." and depth == 0 and i > 0 and text[i - 1] == "다" and (i + 1 == len(text) or text[i + 1] == " "):
            out.append(text[start:i + 1].strip())
            start = i + 1
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


_LIST_LEAD = re.compile(r"다음\s*각\s*(?:호|목)|다음과\s*같")


def choose_rule(article: StatuteArticle) -> tuple[str, list[str], float]:
    """(rule sentence, items it introduces, strength)."""
    best: tuple[float, str, list[str]] = (-99.0, "", [])
    for p_index, (main, items) in enumerate(_paragraphs(article.lines)):
        for s_index, sentence in enumerate(sentences_of(main)):
            sentence = sentence.strip()
            if len(sentence) < 8 or sentence.startswith("다만"):
                continue
            score = _sentence_score(sentence, p_index + s_index)
            if score > best[0]:
                best = (score, sentence, items if _LIST_LEAD.search(sentence) else [])
    return best[1], best[2], best[0]


def _before_comma(text: str) -> str:
    """The text up to its first comma outside parentheses ("성명 및 주소(법인의 경우에는 명칭, 대표자)" is whole)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        if ch == "," and depth <= 0:
            return text[:i].strip()
    return text.strip()


def compact_items(items: list[str], limit: int = 4, width: int = 48) -> str:
    """"1. A / 2. B / … 등 N개 호": whole items only (an item longer than ``width`` is shortened at its first comma
    or left out), definitions as their defined terms."""
    terms = [m.group(1) for m in (_DEFINED.match(i) for i in items) if m]
    if items and len(terms) >= 0.6 * len(items):
        return "정의 용어: " + ", ".join(terms)
    shown: list[str] = []
    for n, item in enumerate(items, 1):
        text = _ASIDE.sub("", item).rstrip(" .;")
        if len(text) > width:
            head = _before_comma(text)
            text = f"{head} 등" if 6 <= len(head) <= width else ""
        if not text:
            break  # an item that cannot be shown whole ends the list ("2." without "1." reads as an error)
        shown.append(f"{n}. {text}")
        if len(shown) >= limit:
            break
    more = f" 등 {len(items)}개 호" if len(items) > len(shown) else ""
    return " / ".join(shown) + more


# --------------------------------------------------------------------------------------- scope

def parse_scope(scope: str | None) -> tuple[tuple[tuple[int, int], tuple[int, int]] | None, list[str]]:
    """("제10조~제20조" → article range, "제2장 제1절" → division keys); AssistantError when unreadable."""
    if not scope or not scope.strip():
        return None, []
    text = scope.strip()
    m = _RANGE.search(text)
    if m:
        lo, hi = (int(m.group(1)), int(m.group(2) or 0)), (int(m.group(3)), int(m.group(4) or 99))
        return (min(lo, hi), max(lo, hi)), []
    divisions = [squash(d) for d in _DIVISION_SCOPE.findall(text)]
    if divisions:
        return None, divisions
    one = ARTICLE_LABEL.search(text)
    if one:
        k = (int(one.group(1)), int(one.group(2) or 0))
        return (k, k if one.group(2) else (k[0], 99)), []
    raise AssistantError(f"범위 '{scope}'를 알 수 없습니다. '제3장', '제2장 제1절', '제10조~제20조'처럼 지정하세요.")


def in_scope(chunk: Chunk, scope: str | None) -> bool:
    rng, divisions = parse_scope(scope)
    if rng is None and not divisions:
        return True
    if is_supplement_chunk(chunk) or not chunk.article:
        return False
    if rng is not None:
        return rng[0] <= _key(chunk.article) <= rng[1]
    heads = [squash(p) for p in _path(chunk)]
    return all(any(h.startswith(d) for h in heads) for d in divisions)


# --------------------------------------------------------------------------------------- layout

def _chapter(a: StatuteArticle) -> str:
    return a.path[0] if a.path else ""


def _chapter_heading(name: str, arts: list[StatuteArticle]) -> str:
    subs = list(dict.fromkeys(a.path[1] for a in arts if len(a.path) > 1))
    if not subs:
        return name
    names = [re.sub(r"^제\s?\d+\s?(?:절|관)\s*", "", s) for s in subs]
    return f"{name} — " + " · ".join(n for n in names if n)


def _is_definition(a: StatuteArticle) -> bool:
    return bool(a.items) and compact_items(a.items).startswith("정의 용어")


def _article_line(a: StatuteArticle, finish: object) -> str:
    head = f"{a.label}({a.title})" if a.title else a.label
    rule = _ASIDE.sub("", a.rule)
    if a.items and compact_items(a.items).startswith("정의 용어"):
        return f"{head} {compact_items(a.items)}"
    return f"{head} {finish(rule)}"  # type: ignore[operator]


def _mass(members: list[StatuteArticle]) -> float:
    """A group's weight for the allocation: its articles' importance, so a 장 of core rules gets more lines
    than one of the same size holding 비용/협조 provisions. A 통칙 절 counts double: its rules apply to every
    later 절 of the chapter, which only elaborate them."""
    mass = sum(max(a.score, 0.0) for a in members) or float(len(members))
    general = members and len(members[0].path) > 1 and GENERAL_PROVISIONS.match(members[0].path[1])
    return 2 * mass if general else mass


def _allocate(groups: dict[str, list[StatuteArticle]], slots: int) -> dict[str, int]:
    """Article lines per group (장, or 절 within a 장): one each, the rest in proportion to the group's importance
    mass (largest remainder)."""
    alloc = {k: min(1, len(v)) for k, v in groups.items()}
    rest = slots - sum(alloc.values())
    total = sum(_mass(v) for v in groups.values())
    if rest <= 0 or total == 0:
        return alloc
    shares = {k: rest * _mass(v) / total for k, v in groups.items()}
    for k in groups:
        alloc[k] = min(len(groups[k]), alloc[k] + int(shares[k]))
    spare = slots - sum(alloc.values())
    for k in sorted(groups, key=lambda k: -(shares[k] - int(shares[k]))):
        if spare <= 0:
            break
        if alloc[k] < len(groups[k]):
            alloc[k] += 1
            spare -= 1
    return alloc


def outline_statute(chunks: Sequence[Chunk], max_lines: int, *, scope: str | None = None,
                    finish: object = None, external: Mapping[str, int] | None = None) -> list[str]:
    """The statute's outline as □ / ○ / - lines within ``max_lines``.

    ``external``: how often other documents cite each article ("제22조" → 20), when the caller has them
    (:func:`assistant.generate.statute_importance.external_citations`); one of the importance signals."""
    if finish is None:
        from assistant.generate.extractive_summary import compress_ending as finish
    arts = articles_of([c for c in chunks if in_scope(c, scope)])
    if not arts:
        raise AssistantError(f"범위 '{scope}'에 해당하는 조문이 없습니다." if scope else "요약할 조문이 없습니다.")
    score_articles(arts, external)
    groups: dict[str, list[StatuteArticle]] = {}
    for a in arts:
        groups.setdefault(_chapter(a), []).append(a)
    max_lines = max(1, max_lines)
    named = [k for k in groups if k]
    if len(groups) > 1 and max_lines < 2 * len(groups):
        return _flat(arts, groups, max_lines, finish)
    heads = len(named) if named else 0
    body = max(1, max_lines - heads)
    enumerations = sum(1 for a in arts if a.items and a.score >= 2.5 and not _is_definition(a))
    reserve = min(enumerations, body // 8) if len(arts) > body else max(0, min(enumerations, body - len(arts)))
    alloc = _allocate(groups, max(1, body - reserve))
    chosen: dict[str, list[StatuteArticle]] = {}
    for k, members in groups.items():
        chosen[k] = _pick(members, alloc[k])
    used = heads + sum(len(v) for v in chosen.values())
    details = _details(chosen, max_lines - used)
    lines: list[str] = []
    for k, members in chosen.items():
        if k:
            lines.append(f"{TOP} {_chapter_heading(k, groups[k])}")
        for a in members:
            lines.append(f" {MID} {_article_line(a, finish)}" if k else f"{TOP} {_article_line(a, finish)}")
            if a.label in details:
                lines.append(f"   {LOW} {details[a.label]}")
    return lines[:max_lines]


def _pick(members: list[StatuteArticle], slots: int) -> list[StatuteArticle]:
    """The chapter's strongest articles, shared among its 절 like the chapter lines among chapters (so one 절 of
    many cited sub-articles does not take the chapter), in article order."""
    sections: dict[str, list[StatuteArticle]] = {}
    for a in members:
        sections.setdefault(a.path[1] if len(a.path) > 1 else "", []).append(a)
    if len(sections) < 2 or slots <= len(sections):
        top = sorted(members, key=lambda a: -a.score)[:slots]
    else:
        share = _allocate(sections, slots)
        top = [a for k, v in sections.items() for a in sorted(v, key=lambda a: -a.score)[:share[k]]]
    return sorted(top, key=lambda a: a.key)


def _details(chosen: dict[str, list[StatuteArticle]], spare: int) -> dict[str, str]:
    """Enumerations kept where the rule is "다음 각 호": strongest articles first, while lines remain."""
    out: dict[str, str] = {}
    candidates = [a for members in chosen.values() for a in members
                  if a.items and not compact_items(a.items).startswith("정의 용어")]
    for a in sorted(candidates, key=lambda a: -a.score):
        if len(out) >= spare:
            break
        text = compact_items(a.items)
        if text and not text.startswith(" 등"):
            out[a.label] = text
    return out


def _flat(arts: list[StatuteArticle], groups: dict[str, list[StatuteArticle]], max_lines: int,
          finish: object) -> list[str]:
    """Fewer lines than chapters: one line naming the chapters, then the strongest articles in order."""
    names = [re.sub(r"^제\s?\d+\s?(?:편|장)\s*", "", k) for k in groups if k]
    lines = [f"{TOP} 구성: " + " · ".join(names)] if names else []
    best = sorted(sorted(arts, key=lambda a: -a.score)[:max(0, max_lines - len(lines))], key=lambda a: a.key)
    lines += [f" {MID} {_article_line(a, finish)}" for a in best]
    return lines[:max_lines]
