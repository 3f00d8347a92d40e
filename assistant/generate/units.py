"""Source passages cut into located units: sentences and statute items, each with its precise place.

A unit is what an answer quotes and what a citation points at: one sentence, or one 호/목 item of a
statute, with the article, 항, 호 and 목 it sits in ("제14조제2호"), or the page / section of other documents
("3쪽", "회답"). A sentence that introduces items ("다음 각 호의 기간 이내에 처리하여야 한다") knows its items,
so an answer can quote the rule together with the item that carries the fact (14일 / 7일).

Sentence splitting and content terms come from Kiwi (assistant.korean), cached per line: the same statute
lines come back for many questions.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.generate.base import Passage
from assistant.korean.sentences import balanced_sentences, rough_sentences
from assistant.korean.statute import ARTICLE_HEAD, ENUMERATION_LEAD, item_of, location_label, paragraph_of

_META_LINE = re.compile(r"^\s*[-*]?\s*(?:안건번호|소관기관|회신일자|출처|수집일자|처리상태|해석기관)\s*:|https?://\S+$")
_FOOTNOTE = re.compile(r"\s*\(각주:[^()]*(?:\([^()]*\)[^()]*)*\)")
_RELATED_LAWS = re.compile(r"^\s*<\s*관계\s*법령\s*>")
_AMENDMENT = re.compile(r"\s*[<〈‹]\s*(?:개정|신설|전문개정|본조신설|삭제|제목개정|종전)[^>〉›]{0,80}[>〉›]")
_CONCLUSION_START = re.compile(r"^(?:따라서\s*)?이\s*사안의\s*경우")
_PAGE_LABEL = re.compile(r"^\d+쪽$")
#: a report's header line over the bullets that follow: bracketed ("《 구급지휘팀이란? 》", "【 추진 현황 】") or
#: marked as a heading (□ ■ ◆ ❶ Ⅰ) and short
_HEADER_LINE = re.compile(r"^[-•·*ㅇ\s]*(?:《[^》]{2,80}》|【[^】]{2,80}】|〈[^〉]{2,80}〉|<[^<>]{2,80}>"
                          r"|[□■◆◇❶-❿Ⅰ-Ⅻ]\s*[^.。]{2,40}(?<![다요음함임]))\s*$")


@dataclass
class Unit:
    """One quotable piece of a passage."""

    n: int                        # passage number
    idx: int                      # order within the passage
    text: str                     # as quoted: NFC, single spaces, amendment notes removed
    terms: tuple[str, ...]        # content morphemes
    location: str                 # precise: "제14조제2호", "3쪽", "회답", "" (whole document)
    section: str = ""             # segment section (회답 / 이유 / heading path)
    article: str | None = None
    article_title: str = ""
    paragraph: int | None = None
    item: str | None = None
    subitem: str | None = None
    is_item: bool = False         # a 호/목 line
    introduces_items: bool = False
    items: list[Unit] = field(default_factory=list)   # for a sentence that introduces items
    parent: Unit | None = None    # for an item: the sentence that introduces it
    conclusion: bool = False      # 회답 of a 법제처 해석례
    quoted_law: bool = False      # part of an appended "<관계 법령>" block
    question_like: bool = False   # a 질의요지 sentence ("…인지?")
    chunk_score: float = 0.0      # how close the unit's chunk is to the question (semantic layer), 0 unknown
    context: tuple[str, ...] = ()  # content terms of what the unit sits under: its heading, the header line
    #                                above it in a report's list ("《 재난의료지원팀이란? 》" over "(구성) 의사 1명 …")


def is_statute(p: Passage) -> bool:
    return bool(p.article) or bool(re.match(r"^제\d+조", p.location or ""))


def is_interpretation(p: Passage) -> bool:
    loc = p.location or ""
    return "회답" in loc or "이유" in loc or "질의요지" in loc or any(s == "회답" for s, _ in p.segments)


def passage_units(p: Passage) -> list[Unit]:
    """Units of one passage, in document order."""
    statute = is_statute(p)
    segments = list(p.segments) or [(p.location if is_interpretation(p) else "", p.text)]
    locations = list(p.segment_locations) if len(p.segment_locations) == len(segments) else [p.location] * len(segments)
    scores = list(p.segment_scores) if len(p.segment_scores) == len(segments) else [0.0] * len(segments)
    raw: list[tuple[str, str, dict]] = []   # (rough sentence, section, place)
    for (section, text), seg_loc, seg_score in zip(segments, locations, scores, strict=True):
        place: dict = {"article": p.article if statute else None, "article_title": "", "paragraph": None,
                       "item": None, "subitem": None, "page": seg_loc if _PAGE_LABEL.match(seg_loc or "") else "",
                       "quoted": False, "section": section or "", "score": seg_score}
        for line in _lines(text):
            if _RELATED_LAWS.match(line) or line.startswith("※"):
                place["quoted"] = True   # appended statute quotes and 법령정비 권고: background, not the answer
                continue
            if _META_LINE.search(line) or line.startswith("#"):
                continue
            head = ARTICLE_HEAD.match(line) if statute else None
            if head:
                place.update(article=re.sub(r"\s+", "", head.group(1)), article_title=(head.group(2) or "").strip(),
                             paragraph=None, item=None, subitem=None)
                line = line[head.end():].strip()
            par, rest = paragraph_of(line)
            if par is not None and statute:
                place.update(paragraph=par, item=None, subitem=None)
                line = rest
            is_item = False
            if statute:
                num, letter = item_of(line)
                if num is not None:
                    place.update(item=num, subitem=None)
                    is_item = True
                elif letter is not None:
                    place.update(subitem=letter)
                    is_item = True
            if not line:
                continue
            pieces = [line] if is_item else rough_sentences(_FOOTNOTE.sub("", line))
            for piece in pieces:
                raw.append((piece, place["section"], {**place, "is_item": is_item}))
    if not raw:
        return []
    analysed = _analysed([r[0] for r in raw])
    headings = _heading_terms(p, [r[1] for r in raw]) if not statute else {}
    units: list[Unit] = []
    lead: Unit | None = None
    header: tuple[str, ...] = ()
    header_section: str | None = None
    for (piece, section, place), sents in zip(raw, analysed, strict=True):
        if section != header_section:
            header, header_section = (), section
        context = headings.get(section, ()) + header
        for text, terms in (sents if not place["is_item"] else [(piece, tuple(t for s in sents for t in s[1]))]):
            text = " ".join(text.split())
            if len(text) < 4 or text.strip("<>[]() .") == "삭제":
                continue
            u = Unit(n=p.n, idx=len(units), text=text, terms=tuple(terms), section=section,
                     location=_location(p, place, statute), article=place["article"],
                     article_title=place["article_title"], paragraph=place["paragraph"], item=place["item"],
                     subitem=place["subitem"], is_item=place["is_item"], quoted_law=place["quoted"],
                     conclusion=is_interpretation(p) and (section == "회답" or bool(_CONCLUSION_START.match(text))),
                     question_like=text.rstrip().endswith(("?", "지?", "는지", "인지")),
                     chunk_score=place["score"], context=context)
            if not statute and _HEADER_LINE.match(text):
                header = tuple(terms)
                context = headings.get(section, ()) + header
            if u.is_item and lead is not None and lead.article == u.article and lead.paragraph == u.paragraph:
                u.parent = lead
                lead.items.append(u)
            elif not u.is_item:
                lead = u if ENUMERATION_LEAD.search(text) else None
                u.introduces_items = lead is not None
            units.append(u)
    return units


def _heading_terms(p: Passage, sections: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Content terms of the innermost heading of each section path ("5. 교민 현황" in "… > 5. 교민 현황");
    a 해석례's sections (회답, 이유) are parts, not headings."""
    if is_interpretation(p):
        return {}
    names = {sec: sec.rsplit(" > ", 1)[-1].strip() for sec in dict.fromkeys(sections) if sec}
    heads = [h for h in dict.fromkeys(names.values()) if h]
    terms = {h: tuple(t for _, ts in sents for t in ts) for h, sents in zip(heads, _analysed(heads), strict=True)}
    return {sec: terms.get(h, ()) for sec, h in names.items()}


def _location(p: Passage, place: dict, statute: bool) -> str:
    if statute and place["article"]:
        return location_label(place["article"], place["paragraph"], place["item"], place["subitem"])
    if place["page"]:
        return place["page"]
    if is_interpretation(p) and place["section"]:
        return place["section"]
    return p.location or ""


def _lines(text: str) -> list[str]:
    """Lines with amendment notes removed; a line ending in a comma ("…있는바,") joined to the next."""
    out: list[str] = []
    for raw in unicodedata.normalize("NFC", text).splitlines():
        line = _AMENDMENT.sub("", raw).strip().replace("\\.", ".")
        if not line:
            continue
        if out and out[-1].endswith(","):
            out[-1] = out[-1] + " " + line
        elif out and re.fullmatch(r"[가-하]\.", out[-1]):
            out[-1] = out[-1] + " " + line   # a 목 mark alone on its line ("다.") belongs to the next line
        else:
            out.append(line)
    return out


# ---------------------------------------------------------------- Kiwi, cached per line

_Analysed = list[tuple[str, tuple[str, ...]]]
_CACHE_SIZE = 8192
_cache: OrderedDict[str, _Analysed] = OrderedDict()
_cache_lock = threading.Lock()


def _analysed(texts: Sequence[str]) -> list[_Analysed]:
    """(sentence, content terms) for each text, with an LRU cache keyed by the text.

    The same passages (law articles above all) come back for many questions; Kiwi's analysis was most of
    an extractive answer's CPU time before this cache (~50 of ~60 ms per question under web load).
    """
    with _cache_lock:
        found = {t: _cache[t] for t in texts if t in _cache}
        for t in found:
            _cache.move_to_end(t)
    todo = [t for t in dict.fromkeys(texts) if t not in found]
    if todo:
        computed = dict(zip(todo, balanced_sentences(todo), strict=True))
        with _cache_lock:
            for t, v in computed.items():
                _cache[t] = v
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        found.update(computed)
    return [found[t] or [(t, ())] for t in texts]
