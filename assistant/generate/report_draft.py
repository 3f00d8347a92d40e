"""Assemble a 보고서 draft from source chunks, sentence by sentence, without a model (the 보도자료 layout, which
shares these candidate sentences and the source list, is assistant.generate.press_release).

Nothing is written that a source does not say: every content line is a source sentence (spacing repaired and,
for a 보고서, its "~다." ending turned into 개조식 "~함/~임" by assistant.generate.summary_polish — figures are
never touched) followed by a marker ``[n]`` that names the document and the page or article it came from.

How a sentence finds its place in the 보고서 structure (제목; 1. 개요(추진 배경); 2. 현황; 3. 주요 내용 or 검토
의견; 4. 문제점 및 개선 방안; 5. 향후 계획; 붙임 출처 목록):

1. its section heading in the source decides first ("추진배경" → 개요, "현황"/"성과" → 현황, "향후 계획" → 계획);
2. otherwise its own cue words ("~을 위해", "필요" → 개요; "예정", "향후" → 계획; "문제", "미흡", "부족" →
   문제점; a figure with its unit → 현황); anything else is 주요 내용;
3. within a part, sentences are ranked by how much of the topic's content morphemes (IDF-weighted over the
   candidate sentences, assistant.korean.scoring) they hold, and documents take turns so each chosen source
   is heard; a sentence that restates a figure of an earlier line is dropped (one fact once).

문제점 및 개선 방안 appears only when the sources name a problem; 개요, 현황 and 향후 계획 that no source supports
get a marked fill-in line (【…】) for the officer instead of padding. Item marks follow the official order
(1. 가. 1)) via assistant.output.notation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.generate.extractive_summary import clean_heading, clean_line, is_junk, numbers_in, split_units
from assistant.generate.summary_polish import drop_repeated_facts, normalise_endings, respace, table_row
from assistant.korean.injection import addresses_assistant
from assistant.korean.statute import AMENDMENT_NOTE
from assistant.output.notation import item_mark
from assistant.types import Chunk

BACKGROUND, STATUS, MAIN, PROBLEMS, PLAN = "background", "status", "main", "problems", "plan"
PART_TITLES = {BACKGROUND: "개요(추진 배경)", STATUS: "현황", MAIN: "주요 내용", PROBLEMS: "문제점 및 개선 방안",
               PLAN: "향후 계획"}
#: lines per part of a one-page 보고서
PART_BUDGET = {BACKGROUND: 3, STATUS: 4, MAIN: 6, PROBLEMS: 4, PLAN: 3}
FILL_IN = {BACKGROUND: "【추진 배경 — 출처 문서에서 찾지 못함, 담당자 작성】",
           STATUS: "【현황 — 출처 문서에서 찾지 못함, 담당자 작성】",
           MAIN: "【주요 내용 — 출처 문서에서 찾지 못함, 담당자 작성】",
           PLAN: "【향후 계획(일정·담당) — 출처 문서에 없음, 담당자 작성】"}

_HEADING_CUES = (  # the first matching cue of a section heading decides the part
    (PLAN, re.compile(r"향후|추진\s?일정|일정|로드맵|후속|계획\s?$")),
    (BACKGROUND, re.compile(r"배경|개요|목적|필요성|경과|여건|의의|그간")),
    (PROBLEMS, re.compile(r"문제|한계|개선\s?필요|애로|쟁점|과제\s?및\s?개선")),
    (STATUS, re.compile(r"현황|실태|동향|성과|실적|통계|결과")),
)
_PLAN_CUE = re.compile(r"예정|향후|앞으로|추진할 계획|할 계획|계획이다|계획임|하겠|착수|시행할")
_BACKGROUND_CUE = re.compile(r"(?:하기|을|를) 위(?:해|하여|한)|필요(?:성|하|함)|목적으로|배경|요구(?:가|되)|대응하기")
_PROBLEM_CUE = re.compile(r"문제(?:점|가|로)|한계|미흡|부족|애로|어려움|우려|취약|저조|지연|부진|사각지대|불편|미비"
                          r"|과도")
_REMEDY_CUE = re.compile(r"개선|보완|강화|확대|개편|정비|도입|해소|완화|지원")
_FIGURE = re.compile(r"\d[\d,.]*\s?(?:%p|%|조원|조|억원|억|만원|만|원|명|개교|개소|개|건|배|곳|가구|회|대|톤|㎡"
                     r"|일|개월)")
_INSTRUCTION_WORDS = re.compile(
    r"(?:에\s?(?:대한|관한|대해))?\s*(?:보고서|보도자료|초안|검토\s?보고)?\s*(?:를|을)?\s*"
    r"(?:작성|정리|만들어|써)\s*(?:해\s?)?(?:줘|주세요|주십시오|하시오|하라|바람)?\s*[.!]?\s*$")


@dataclass
class Unit:
    """One candidate sentence with where it came from."""

    text: str
    doc: int            # index into the source documents
    chunk: Chunk
    order: int          # position in reading order (documents in the given order)
    part: str = MAIN
    score: float = 0.0
    items: list[str] = field(default_factory=list)   # "다음 각 호": the numbered items that carry the rule


@dataclass
class Line:
    part: str
    text: str
    unit: Unit | None = None     # None for a fill-in line
    sub: list[Unit] = field(default_factory=list)  # press release: the ○ details under a □


@dataclass
class Plan:
    """What goes where: the parts in order with their lines, before marks and markers are written."""

    title: str
    parts: list[tuple[str, list[Line]]]
    review: bool = False   # 3. 검토 의견 instead of 3. 주요 내용


def topic_title(topic: str) -> str:
    """The report's title from the user's topic or instruction: "… 보고서를 작성해 줘" → "…"."""
    text = " ".join(unicodedata.normalize("NFC", topic).split())
    stripped = _INSTRUCTION_WORDS.sub("", text).strip(" .,")
    return stripped or text


def heading_of(chunk: Chunk) -> str:
    parts = [p for p in (chunk.section or "").split(" > ") if p.strip()]
    return clean_heading(parts[-1]) if parts else ""


def part_of(text: str, chunk: Chunk) -> str:
    """Where a sentence belongs: its source heading first, then its own cue words. A statute's articles are
    rules, not problems, plans or figures: its 목적·정의 articles give the 개요, the rest the 주요 내용."""
    if chunk.article:
        return BACKGROUND if chunk.article in ("제1조", "제2조") else MAIN
    for part, rx in _HEADING_CUES:
        if any(rx.search(clean_heading(h)) for h in (chunk.section or "").split(" > ")[-2:] if h):
            return part
    if _PROBLEM_CUE.search(text):
        return PROBLEMS
    if _PLAN_CUE.search(text):
        return PLAN
    if _BACKGROUND_CUE.search(text):
        return BACKGROUND
    if _FIGURE.search(text):
        return STATUS
    return MAIN


def units_of(docs: Sequence[Sequence[Chunk]], min_chars: int = 20, max_chars: int = 260) -> list[Unit]:
    """Candidate sentences of every document: junk (contents leaders, contact rows, lines with words lost by a
    PDF parser), sentences that address the assistant and headings alone are left out."""
    out: list[Unit] = []
    seen: set[str] = set()
    for d, chunks in enumerate(docs):
        for c in chunks:
            if "부칙" in f"{c.section} {c.location}":
                continue   # transitional provisions of a statute are not its rules
            lead: Unit | None = None
            pending = ""          # "1." or "가." alone on its line: the item's text is on the next line
            for raw in joined_units([clean_line(x) for x in split_units(c.text)]):
                if c.article and re.fullmatch(r"\d{1,2}\.|[가-하]\.", raw.strip()):
                    pending = raw.strip()
                    continue
                item = _ITEM.match(raw.strip()) if c.article else None
                if pending or item:
                    # an article's list: its numbered items join the lead sentence ("다음 각 호"); 가. sub-items
                    # and items of a lead that was not kept are left out — alone they say nothing
                    body = raw.strip()[item.end():] if item else raw.strip()
                    numbered = bool(item) or pending[:-1].isdigit()
                    if lead is not None and numbered and len(lead.items) < 8 and not addresses_assistant(body):
                        lead.items.append(AMENDMENT_NOTE.sub("", body).strip())
                    pending = ""
                    continue
                text = clean_line(table_row(raw) if "|" in raw else raw)
                text = restore_spacing(_CONNECTIVE.sub("", _LEADING_MARK.sub("", AMENDMENT_NOTE.sub("", text)))).strip()
                key = re.sub(r"\s+", "", text)
                lead = None
                if not min_chars <= len(text) <= max_chars or key in seen or is_junk(text) \
                        or addresses_assistant(text) or is_contact(text) or is_fragment(text, raw, bool(c.article)):
                    continue
                seen.add(key)
                out.append(Unit(text, d, c, len(out), part_of(text, c)))
                lead = out[-1] if c.article and "다음 각 호" in text else None
    return [u for u in out if u.items or not (u.chunk.article and "다음 각 호" in u.text)]


_ITEM = re.compile(r"^\d{1,2}\.\s")


_CONNECTIVE = re.compile(r"^(?:그 결과|또한|한편|아울러|이에 따라|이와 함께|특히|참고로)\s?,?\s+")
#: outline numbers and arrows a PDF leaves at the start of a line ("5.1.1", "4.", "☞", "[▶]", "⇒")
_LEADING_MARK = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}\.(?=\s)|\[[▶►▷◆■]\]|[☞▶►▷⇒→※◦•▪■◆◇ㅇ])\s*")
_DANGLING = re.compile(r"(?:및|또는|과|와|의|등의|에|을|를|위한|위해|통해|대한|\(|,)$"
                       r"|^(?:통해|및|또는|등|위해|따라|하여|으로|[\[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ])")
_LEAD_ONLY = re.compile(r"(?:다음과 같(?:다|음|이)|다음 각 [호목]의?[^.]{0,20}(?:같다|말한다)|아래와 같)[.:]?\s*$")
_TABLE_LABEL = re.compile(r"\([A-Z](?:[=+\-/][A-Z])*\)")


def joined_units(pieces: list[str]) -> list[str]:
    """A line that stops mid-sentence ("… 수준이며,") is joined with the next one."""
    out: list[str] = []
    for p in pieces:
        if out and re.search(r"(?:며|고|,|및|또는)$", out[-1].rstrip()) and len(out[-1]) + len(p) < 300:
            out[-1] = f"{out[-1].rstrip()} {p}"
        else:
            out.append(p)
    return out


def balanced(text: str) -> bool:
    """Brackets open before they close and all close: a sentence cut inside "( … )" or 「 … 」 is not."""
    for a, b in ("()", "「」", "“”", "[]"):
        depth = 0
        for ch in text:
            depth += (ch == a) - (ch == b)
            if depth < 0:
                return False
        if depth:
            return False
    return True


def is_fragment(text: str, raw: str, article: bool = False) -> bool:
    """Table header rows ("본예산 (A) 2월 (C) …"), a table row without a figure, bare lists of names, a lone
    article heading: none says anything on its own."""
    if len(_TABLE_LABEL.findall(text)) >= 2 or ("|" in raw and not _FIGURE.search(text)):
        return True
    if text.startswith(("“", '"', "‘", "'")) or _DANGLING.search(text) or re.search(r"(\S{2,}) \1(?:\s|$)", text):
        return True   # quoted speech, a sentence the page cut off, a diagram's doubled label ("강화 강화")
    if (_LEAD_ONLY.search(text) and not article) or not balanced(text):
        return True   # "… 다음과 같다" without its items, or a sentence cut inside brackets
    from assistant.output.notation import check_amounts

    if check_amounts(text):
        return True   # "155만 8419 원": a figure is never rewritten, so a badly written amount stays out
    parts = [x.strip() for x in raw.split(",")]   # as written: re-spacing must not hide a bare list
    if len(parts) >= 3 and all(len(x) <= 14 and " " not in x for x in parts):
        return True
    return bool(re.match(r"^제\d+조", text)) and len(text) < 30


_CONTACT = re.compile(r"담\s?당\s?(?:자|부\s?서|과)|책\s?임\s?자|문의\s?처|연락처|보도\s?(?:시점|일시)|배\s?포\s?일?")


def is_contact(text: str) -> bool:
    """A contact or distribution row ("담당자: 사무관 …", "보도시점 …"), or a line holding personal data."""
    from assistant.tasks.pii import mask_pii

    return bool(_CONTACT.search(text[:30])) or bool(mask_pii(text).found)


def score_units(units: list[Unit], topic: str) -> None:
    """Each unit's share of the topic's content morphemes, IDF-weighted over the candidates; a small bonus for
    the beginning of a document (where a report states its purpose) breaks ties."""
    from assistant.korean.morph import content_terms_batch
    from assistant.korean.scoring import centroid, cosine, idf_table, tfidf, weighted_share

    if not units:
        return
    term_lists = content_terms_batch([topic] + [f"{heading_of(u.chunk)} {u.text}" for u in units])
    idf, _ = idf_table(term_lists[1:])
    q = {t: idf.get(t, 1.0) for t in set(term_lists[0])}
    vecs = [tfidf(terms, idf) for terms in term_lists[1:]]
    centres = {d: centroid([v for u, v in zip(units, vecs, strict=True) if u.doc == d]) for d in {u.doc for u in units}}
    first: dict[int, int] = {}
    for u in units:
        first.setdefault(u.doc, u.order)
    topical = [weighted_share(q, set(terms)) if q else 0.0 for terms in term_lists[1:]]
    for u, share, vec in zip(units, topical, vecs, strict=True):
        lead = 0.1 if u.order - first[u.doc] < 3 else 0.0
        u.score = 0.6 * share + 0.4 * cosine(vec, centres[u.doc]) + lead
    # a document that is mostly beside the topic speaks less: its sentences are weighed by how on-topic its
    # best sentences are, relative to the most on-topic document
    rel = {d: sum(sorted((t for u, t in zip(units, topical, strict=True) if u.doc == d), reverse=True)[:5]) / 5
           for d in centres}
    top = max(rel.values()) or 1.0
    for u in units:
        u.score *= 0.4 + 0.6 * (rel[u.doc] / top if top > 0 else 1.0)


def _take(pool: list[Unit], limit: int, taken: set[int], floor: float) -> list[Unit]:
    """The best ``limit`` units of a part, documents taking turns, in reading order within a document."""
    by_doc: dict[int, list[Unit]] = {}
    for u in sorted(pool, key=lambda u: -u.score):
        if u.order not in taken and u.score >= floor:
            by_doc.setdefault(u.doc, []).append(u)
    chosen: list[Unit] = []
    best = max((us[0].score for us in by_doc.values()), default=0.0)
    turns = [d for d in by_doc if by_doc[d][0].score >= 0.75 * best]   # close documents take turns
    while len(chosen) < limit and any(by_doc[d] for d in turns):
        for d in sorted(turns, key=lambda d: -(by_doc[d][0].score if by_doc[d] else -1)):
            if by_doc[d] and len(chosen) < limit:
                chosen.append(by_doc[d].pop(0))
    rest = sorted((u for us in by_doc.values() for u in us), key=lambda u: -u.score)
    chosen += rest[:max(0, limit - len(chosen))]
    for u in chosen:
        taken.add(u.order)
    return sorted(chosen, key=lambda u: u.order)


def _first_order(units: list[Unit], doc: int) -> int:
    return min(u.order for u in units if u.doc == doc)


def restore_spacing(text: str) -> str:
    """A line the PDF text layer wrote without spaces ("이가이드라인은하해저장대도로터널의…") re-spaced by Kiwi;
    kept as it was when a figure would change."""
    hangul = len(re.findall(r"[가-힣]", text))
    if hangul < 20 or hangul / (text.count(" ") + 1) < 7:   # ordinary Korean: about 3–4 syllables a word
        return text
    from assistant.korean.morph import kiwi

    spaced = _LABEL_GAP.sub(r"\1\2", kiwi().space(text, reset_whitespace=False))
    spaced = _LONE_PARTICLE.sub(r"\1", spaced)   # "결 로 영향" → "결로 영향": a lone particle joins its word
    return spaced if numbers_in(spaced) == numbers_in(text) else text


_LONE_PARTICLE = re.compile(r"(?<=[가-힣]) (은|는|을|를|로|으로|와|과|에서|이며|이다)(?=[\s,.)]|$)")
_LABEL_GAP = re.compile(r"(\d) (조|항|호|목|년|월|일|개|명|곳|회|km|m|%)")



def polish(text: str, compress: bool = True) -> str:
    """Spacing repaired (never a figure), 개조식 ending for a 보고서 line."""
    fixed = respace(text)
    return normalise_endings(fixed) if compress else fixed


def plan_report(topic: str, units: list[Unit], *, review: bool = False, scale: float = 1.0) -> Plan:
    """Choose the lines of each part; see the module docstring."""
    best = max((u.score for u in units), default=0.0)
    floor = 0.25 * best if best > 0.1 else 0.0   # off-topic sentences stay out when the topic is specific
    taken: set[int] = set()
    parts: list[tuple[str, list[Line]]] = []
    for part in (BACKGROUND, STATUS, MAIN, PROBLEMS, PLAN):
        limit = max(1, round(PART_BUDGET[part] * scale))
        pool = [u for u in units if u.part == part]
        if part == MAIN and len(pool) < limit:   # a thin 주요 내용 borrows the best sentences left over
            pool = pool + [u for u in units if u.part in (STATUS, BACKGROUND)]
        chosen = _take(pool, limit, taken, floor)
        if part == BACKGROUND and not chosen:    # a document's opening states what it is about
            opening = [u for u in units if u.order - _first_order(units, u.doc) < 3]
            chosen = _take(opening, 2, taken, floor)
        if part == PROBLEMS and chosen:
            remedies = [u for u in units if u.part != PROBLEMS and _REMEDY_CUE.search(u.text)]
            chosen += _take(remedies, max(1, limit // 2), taken, floor)
        lines = [Line(part, u.text, u) for u in chosen]
        if not lines and part in FILL_IN:
            lines = [Line(part, FILL_IN[part])]
        if lines:
            parts.append((part, lines))
    return Plan(topic_title(topic), parts, review)


def dedupe(plan: Plan, compress: bool = True) -> None:
    """Polish every sourced line and drop those that restate a fact of an earlier line (one fact once)."""
    seen: list[str] = []
    for _, lines in plan.parts:
        for line in lines:
            if line.unit is not None:
                line.text = polish(line.unit.text, compress)
    flat = [line.text for _, lines in plan.parts for line in lines if line.unit is not None]
    kept, _ = drop_repeated_facts(flat)
    keep = set(kept)
    for i, (part, lines) in enumerate(plan.parts):
        out = []
        for line in lines:
            if line.unit is None or (line.text in keep and line.text not in seen):
                out.append(line)
                if line.unit is not None:
                    seen.append(line.text)
        plan.parts[i] = (part, out or [Line(part, FILL_IN[part])] if part in FILL_IN else out)
    plan.parts = [(p, ls) for p, ls in plan.parts if ls]


class Sources:
    """The source list: one entry per (document, page or article), numbered in order of first use."""

    def __init__(self, titles: Sequence[str]) -> None:
        self.titles = list(titles)
        self.entries: list[tuple[int, str, list[Chunk]]] = []   # (doc, place, chunks)
        self._index: dict[tuple[int, str], int] = {}

    def marker(self, unit: Unit) -> int:
        place = place_of(unit.chunk)
        key = (unit.doc, place)
        if key not in self._index:
            self.entries.append((unit.doc, place, []))
            self._index[key] = len(self.entries)
        n = self._index[key]
        chunks = self.entries[n - 1][2]
        if unit.chunk not in chunks:
            chunks.append(unit.chunk)
        return n

    def lines(self) -> list[str]:
        return [f"[{n}] {label_of(self.titles[d], place)}" for n, (d, place, _) in enumerate(self.entries, 1)]


def place_of(chunk: Chunk) -> str:
    """"제21조", "3쪽" or the section heading: where in the document an officer finds the sentence."""
    if chunk.article:
        return chunk.location or chunk.article
    if chunk.page is not None:
        return chunk.location or f"{chunk.page}쪽"
    return heading_of(chunk)[:40]


def label_of(title: str, place: str, limit: int = 60) -> str:
    """"재정동향 4월호, 2쪽"; a long title (a 법제처 해석례 names its whole question) is shortened."""
    title = title if len(title) <= limit else title[:limit - 1].rstrip() + "…"
    return f"{title}, {place}" if place and place != title else title


def render_report(plan: Plan, sources: Sources) -> list[str]:
    """The 보고서 body: "1. 개요(추진 배경)" / "  가. … [n]" lines, the 붙임 출처 목록 (끝. is added by the writer)."""
    out: list[str] = []
    for i, (part, lines) in enumerate(plan.parts, 1):
        name = "검토 의견" if part == MAIN and plan.review else PART_TITLES[part]
        out.append(f"{item_mark(1, i)} {name}")
        for j, line in enumerate(lines, 1):
            marker = f" [{sources.marker(line.unit)}]" if line.unit is not None else ""
            out.append(f"  {item_mark(2, j)} {line.text}{marker}")
            for k, item in enumerate(line.unit.items if line.unit is not None else [], 1):
                out.append(f"    {item_mark(3, k)} {polish(item)}{marker}")
    out.append("")
    out.append("붙임  출처 목록 1부.")
    out += [f"  {s}" for s in sources.lines()]
    return out
