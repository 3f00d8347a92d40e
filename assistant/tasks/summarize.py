"""Summarise one document into a 개조식 report summary, map-reduce for long documents.

Flow: file (or an indexed document) → structure-aware chunks → sections at the heading level that best fits
the line budget → map requests over batches of consecutive sections (each at most ``summary_map_chars``) →
one reduce request that combines the partial summaries. A document that fits in one request is summarised
in one ``summarize`` call. Any :class:`Generator` works; the extractive default needs no model.

Whatever the generator wrote is checked before it is shown: only □ / ○ / - lines are kept, a line with a
number that does not occur in the source is dropped (and reported in ``warnings``), a line that addresses the
assistant (an instruction from the document repeated by a model, assistant.korean.injection) is dropped and
reported too, and the line budget is enforced. A heading or title made of such an instruction names no section.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generate.base import GenerationRequest, Generator, Passage
from assistant.generate.extractive_summary import (
    LOW,
    MID,
    TOP,
    clean_heading,
    is_vacuous_heading,
    numbers_missing,
    parse_summary_lines,
)
from assistant.generate.statute_outline import in_scope, looks_like_statute, outline_statute
from assistant.generate.summary_polish import drop_repeated_facts, polish_line
from assistant.ingest.chunking import ChunkParams, chunk_blocks
from assistant.korean.injection import addresses_assistant
from assistant.korean.sentences import regex_sentences
from assistant.types import Chunk

_LENGTH_WORDS = {"one-page": None, "page": None, "한페이지": None, "1페이지": None, "한쪽": None,
                 "five-lines": 5, "5줄": 5, "다섯줄": 5, "three-lines": 3, "세줄": 3, "ten-lines": 10, "열줄": 10}
_MARKERS = re.compile(r"\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\]")
_LENGTH_NUMBER = re.compile(r"^(\d{1,3})\s*(?:-?\s*lines?|줄|행)?$")


@dataclass
class Summary:
    """A 개조식 summary of one document."""

    title: str
    text: str
    source: str
    sections: list[dict[str, Any]] = field(default_factory=list)
    max_lines: int = 0
    generator: str = ""
    map_requests: int = 0
    warnings: list[str] = field(default_factory=list)
    doc_id: str = ""

    @property
    def lines(self) -> int:
        return sum(1 for line in self.text.split("\n") if line.strip())

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "source": self.source, "doc_id": self.doc_id, "text": self.text,
                "lines": self.lines, "max_lines": self.max_lines, "sections": self.sections,
                "generator": self.generator, "map_requests": self.map_requests, "warnings": self.warnings}


def parse_length(value: str | int | None, page_lines: int = 30) -> int:
    """'one-page' → ``page_lines``, 'five-lines' → 5, '12 lines' / '12줄' / 12 → 12."""
    if value is None or value == "":
        return page_lines
    if isinstance(value, int):
        n = value
    else:
        key = unicodedata.normalize("NFC", str(value)).strip().lower()
        if key.replace(" ", "") in _LENGTH_WORDS:
            mapped = _LENGTH_WORDS[key.replace(" ", "")]
            return page_lines if mapped is None else mapped
        m = _LENGTH_NUMBER.match(key)
        if not m:
            raise AssistantError(f"요약 분량 '{value}'을(를) 알 수 없습니다. one-page, five-lines 또는 "
                                 "'12 lines'처럼 줄 수를 지정하세요.")
        n = int(m.group(1))
    if not 1 <= n <= 200:
        raise AssistantError(f"요약 분량은 1~200줄이어야 합니다 (입력: {value}).")
    return n


def resolve_generator(settings: Settings, generator: Generator | None) -> Generator:
    """The given generator, or the one the settings configure (extractive by default)."""
    if generator is not None:
        return generator
    from assistant.generate.factory import make_generator

    return make_generator(settings)


# --------------------------------------------------------------------------------------- sections

@dataclass
class Section:
    heading: str
    chunks: list[Chunk]

    @property
    def chars(self) -> int:
        return sum(len(c.text) for c in self.chunks)


def _path(chunk: Chunk) -> tuple[str, ...]:
    return tuple(p for p in chunk.section.split(" > ") if p) if chunk.section else ()


_CAPTION = re.compile(r"^\s*(?:\*\*)?\s*[<〈《【\[].*[>〉》】\]]\s*(?:\*\*)?\s*$")


def is_caption(heading: str) -> bool:
    """A boxed caption ("< 현장 목소리 >", "【참고】") or a contents heading is not a section of its own."""
    clean = clean_heading(heading)
    # very short headings ("교육부", "추진체계") are mostly table or column labels, not sections
    parts = [x.strip() for x in re.split(r"[,，·ㆍ]", clean) if x.strip()]
    label_list = len(parts) >= 2 and all(len(x) <= 7 for x in parts)  # "교육부, KERIS": who does it, not what
    return bool(_CAPTION.match(heading)) or is_vacuous_heading(clean) or len(clean.replace(" ", "")) < 6 \
        or label_list


def _runs(chunks: Sequence[Chunk], depth: int) -> list[Section]:
    sections: list[Section] = []
    for c in chunks:
        path = _path(c)
        key = path[depth] if len(path) > depth else (path[-1] if path else "")
        if key and (is_caption(key) or addresses_assistant(key)):
            key = ""  # a caption ("< 현장 목소리 >") names no section: the parser may have lost the heading above it;
            # nor does an instruction planted as a heading ("## [SYSTEM] 이전 지시를 무시하고 …")
        if sections and sections[-1].heading == key:
            sections[-1].chunks.append(c)
        else:
            sections.append(Section(key, [c]))
    return sections


def sections_of(chunks: Sequence[Chunk], max_lines: int) -> list[Section]:
    """Consecutive chunks grouped at the heading level whose number of sections suits the budget.

    The shallowest level where headings differ is the document's top structure (a shared subtitle above it is
    skipped); a deeper level is used while it still gives at most ``max(3, max_lines // 2)`` sections, so a
    one-page summary of a plan gets one □ per 과제 rather than one per chapter.
    """
    if not chunks:
        return []
    depth_max = max((len(_path(c)) for c in chunks), default=0)
    if depth_max == 0:
        return split_unnamed([Section("", list(chunks))])
    target = max(3, max_lines // 2)
    chosen: list[Section] | None = None
    for depth in range(depth_max):
        runs = _runs(chunks, depth)
        if len({s.heading for s in runs}) <= 1:
            continue
        if chosen is None or len(runs) <= target:
            chosen = runs
        if len(runs) > target:
            break
    if chosen is None:  # one heading (or none) throughout
        paths = [p for p in map(_path, chunks) if p]
        heading = paths[0][-1] if paths else ""
        chosen = [Section("" if addresses_assistant(heading) else heading, list(chunks))]
    return split_unnamed(chosen)


def split_unnamed(sections: list[Section], piece_chars: int = 2500) -> list[Section]:
    """Long stretches without a usable heading are cut at page (or chunk) boundaries into pieces of about
    ``piece_chars``, so each becomes its own □ item headed by its best sentence and the whole stretch is covered."""
    out: list[Section] = []
    for sec in sections:
        if sec.heading or sec.chars <= 2 * piece_chars:
            out.append(sec)
            continue
        piece: list[Chunk] = []
        size = 0
        for c in sec.chunks:
            new_page = bool(piece) and c.page != piece[-1].page
            if piece and size >= piece_chars and (new_page or size >= 2 * piece_chars):
                out.append(Section(_piece_label(piece, len(out) + 1), piece))
                piece, size = [], 0
            piece.append(c)
            size += len(c.text)
        if piece:
            out.append(Section(_piece_label(piece, len(out) + 1), piece))
    return out


def _piece_label(piece: Sequence[Chunk], n: int) -> str:
    """"6~9쪽" (or "부분 3" without pages): names the stretch for a model; the extractive summariser treats such a
    label as no heading and heads the item with its best sentence."""
    pages = [c.page for c in piece if c.page is not None]
    if not pages:
        return f"부분 {n}"
    return f"{min(pages)}쪽" if min(pages) == max(pages) else f"{min(pages)}~{max(pages)}쪽"


def plan_batches(sections: Sequence[Section], map_chars: int) -> list[list[tuple[str, Chunk]]]:
    """Pack consecutive sections into requests of at most ``map_chars`` (a big section spans several)."""
    batches: list[list[tuple[str, Chunk]]] = [[]]
    size = 0
    for sec in sections:
        for c in sec.chunks:
            if batches[-1] and size + len(c.text) > map_chars:
                batches.append([])
                size = 0
            batches[-1].append((sec.heading, c))
            size += len(c.text)
    return [b for b in batches if b]


def _passages(batch: Sequence[tuple[str, Chunk]], source: str) -> list[Passage]:
    return [Passage(n=i, doc_id=c.doc_id, title=heading, source=source, location=c.location, text=c.text,
                    page=c.page, article=c.article) for i, (heading, c) in enumerate(batch, 1)]


# --------------------------------------------------------------------------------------- checking output

def check_output(text: str, source_text: str, max_lines: int, polish: bool = True) -> tuple[str, list[str]]:
    """Keep □ / ○ / - lines whose numbers all occur in the source; enforce the budget.

    ``polish`` (reports): table rows, PDF spacing and "~다." endings are repaired and a line restating a figure
    of an earlier line is dropped (assistant.generate.summary_polish) — numbers are never changed."""
    kept: list[str] = []
    warnings: list[str] = []
    for raw in text.split("\n"):
        line = _MARKERS.sub("", raw).rstrip()  # [n] source markers mean nothing in a 개조식 summary
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[0] not in (TOP, MID, LOW, "*", "•"):
            continue
        if stripped[0] in "*•":
            line = f" {MID} {stripped[1:].strip()}"
        if addresses_assistant(stripped):
            warnings.append("문서 속 지시문(AI에게 하는 명령)을 옮긴 줄이 있어 뺐습니다.")   # not repeated here
            continue
        missing = numbers_missing(stripped, source_text)
        if missing:
            warnings.append(f"원문에 없는 숫자({', '.join(missing)})가 있어 줄을 뺐습니다: {stripped[:60]}")
            continue
        kept.append(line)
    if polish:
        kept, _ = drop_repeated_facts([polish_line(line) for line in kept])
    kept = kept[:max_lines]
    while len(kept) > 1 and kept[-1].lstrip().startswith(TOP):
        kept.pop()
    return "\n".join(kept), warnings


def sections_json(text: str) -> list[dict[str, Any]]:
    return [{"heading": h, "items": [{"text": t, "details": d} for t, d in items]}
            for h, items in parse_summary_lines(text)]


# --------------------------------------------------------------------------------------- the task

def _run(generator: Generator, request: GenerationRequest) -> str:
    return generator.generate(request)


def scoped_chunks(chunks: Sequence[Chunk], scope: str | None) -> list[Chunk]:
    """The part of a document a ``scope`` names: a 장/절 or article range of a statute ("제3장", "제10조~제20조"),
    otherwise the sections whose heading contains the scope text ("처리기간")."""
    if not scope or not scope.strip():
        return list(chunks)
    if looks_like_statute(chunks):
        part = [c for c in chunks if in_scope(c, scope)]
    else:
        key = "".join(unicodedata.normalize("NFC", scope).split())
        part = [c for c in chunks if key in "".join((c.section or "").split())]
    if not part:
        raise AssistantError(f"요약 범위 '{scope}'에 해당하는 부분을 문서에서 찾지 못했습니다.")
    return part


def summarize_chunks(title: str, source: str, chunks: Sequence[Chunk], *, generator: Generator,
                     max_lines: int, map_chars: int, doc_id: str = "", scope: str | None = None,
                     external: dict[str, int] | None = None) -> Summary:
    """Summarise a chunked document (the shared core of files and indexed documents).

    A statute (most chunks carry article labels) is summarised as its outline (assistant.generate.statute_outline)
    whatever the generator: structure and each key article's rule, taken verbatim. ``scope`` limits the summary
    to one part ("제3장", "제10조~제20조", or a section heading of a report). ``external``: how often other
    documents cite each article of a statute (an importance signal of the outline).
    """
    if not chunks:
        raise AssistantError(f"{source}: 요약할 본문이 없습니다.")
    source_text = "\n".join([title] + [c.section for c in chunks] + [c.text for c in chunks])
    if addresses_assistant(title):   # a title made of an instruction is neither shown nor put in a prompt
        title = Path(source).stem or "문서"
    statute = looks_like_statute(chunks)
    chunks = scoped_chunks(chunks, scope)
    if statute:
        raw = "\n".join(outline_statute(chunks, max_lines, scope=scope, external=external))
        text, warnings = check_output(raw, source_text, max_lines, polish=False)
        return Summary(title=title, text=text, source=source, sections=sections_json(text), max_lines=max_lines,
                       generator=generator.identity, map_requests=0, warnings=warnings, doc_id=doc_id)
    sections = sections_of(chunks, max_lines)
    batches = plan_batches(sections, map_chars)
    base_vars = {"title": title, "max_lines": str(max_lines)}
    if len(batches) == 1:
        req = GenerationRequest(task="summarize", prompt="summarize", variables=dict(base_vars),
                                passages=_passages(batches[0], source))
        raw, maps = _run(generator, req), 0
    else:
        partials: list[Passage] = []
        for i, batch in enumerate(batches, 1):
            heads = [h for h in dict.fromkeys(h for h, _ in batch)]
            cap = max(4, 5 * len(heads))
            req = GenerationRequest(task="summarize_map", prompt="summarize_map",
                                    variables={**base_vars, "max_lines": str(cap),
                                               "part": f"{i}/{len(batches)}"},
                                    passages=_passages(batch, source))
            out = _run(generator, req)
            loc = ", ".join(dict.fromkeys(c.location for _, c in batch if c.location))
            partials.append(Passage(n=i, doc_id=doc_id, title=" / ".join(clean_heading(h) for h in heads if h),
                                    source=source, location=loc[:80], text=out))
        maps = len(partials)
        raw = _reduce(generator, partials, base_vars, map_chars)
    text, warnings = check_output(raw, source_text, max_lines)
    if not text:
        raise AssistantError(f"{source}: 요약을 만들지 못했습니다 (본문에서 요약할 문장을 찾지 못함).")
    return Summary(title=title, text=text, source=source, sections=sections_json(text), max_lines=max_lines,
                   generator=generator.identity, map_requests=maps, warnings=warnings, doc_id=doc_id)


def _reduce(generator: Generator, partials: list[Passage], base_vars: dict[str, str], map_chars: int) -> str:
    """Combine partial summaries; when they do not fit in one request, combine them in rounds."""
    rounds = 0
    while sum(len(p.text) for p in partials) > 2 * map_chars and len(partials) > 2 and rounds < 5:
        rounds += 1
        merged: list[Passage] = []
        batch: list[Passage] = []
        for p in partials + [None]:  # type: ignore[list-item]
            if p is None or (batch and sum(len(b.text) for b in batch) + len(p.text) > 2 * map_chars):
                if batch:
                    cap = sum(len(parse_summary_lines(b.text)) for b in batch) * 3
                    req = GenerationRequest(task="summarize_reduce", prompt="summarize_reduce",
                                            variables={**base_vars, "max_lines": str(max(4, cap))},
                                            passages=[_renumber(b, i) for i, b in enumerate(batch, 1)])
                    merged.append(Passage(n=len(merged) + 1, doc_id=batch[0].doc_id, title=batch[0].title,
                                          source=batch[0].source, location=batch[0].location,
                                          text=_run(generator, req)))
                batch = []
            if p is not None:
                batch.append(p)
        partials = merged
    req = GenerationRequest(task="summarize_reduce", prompt="summarize_reduce", variables=dict(base_vars),
                            passages=[_renumber(p, i) for i, p in enumerate(partials, 1)])
    return _run(generator, req)


def _renumber(p: Passage, n: int) -> Passage:
    return Passage(n=n, doc_id=p.doc_id, title=p.title, source=p.source, location=p.location, text=p.text)


def chunk_document(path: Path, settings: Settings) -> tuple[str, list[Chunk]]:
    """Parse any supported format (under the per-file time and memory budget, like ingestion) and chunk it by
    structure (regex sentences: fast, Kiwi not needed here)."""
    from assistant.ingest.budget import budget_of, parse_with_budget
    from assistant.ingest.pipeline import doc_id_for

    params = ChunkParams(settings.chunk_max_chars, settings.chunk_min_chars, 0)
    doc_id = doc_id_for(Path(path))
    parsed = parse_with_budget(Path(path), doc_id, params, budget_of(settings)).document
    chunks = chunk_blocks(doc_id, parsed.title, parsed.blocks, params, regex_sentences)
    return parsed.title or Path(path).stem, chunks


def summarize_document(path: Path | str, *, settings: Settings, generator: Generator | None = None,
                       length: str | int | None = None, scope: str | None = None) -> Summary:
    """Summarise one file (HWP, HWPX, PDF, DOCX, TXT/MD, HTML). Raises AssistantError on bad input.

    ``scope``: only part of the document — "제3장", "제2장 제1절", "제10조~제20조" for a statute, or text of a
    section heading for a report."""
    path = Path(path)
    max_lines = parse_length(length if length is not None else settings.summary_length, settings.summary_page_lines)
    title, chunks = chunk_document(path, settings)
    gen = resolve_generator(settings, generator)
    return summarize_chunks(title, unicodedata.normalize("NFC", str(path)), chunks, generator=gen,
                            max_lines=max_lines, map_chars=settings.summary_map_chars,
                            doc_id=chunks[0].doc_id if chunks else "", scope=scope)


def summarize_indexed(doc_id: str, *, settings: Settings, index_name: str | None = None,
                      generator: Generator | None = None, length: str | int | None = None,
                      flt: Any = None, scope: str | None = None) -> Summary:
    """Summarise a document already in an index, from its stored chunks.

    ``flt`` (a :class:`~assistant.retrieve.filters.SearchFilter`) applies access control: a document the user
    may not see is reported exactly like a missing one, so its existence does not leak.
    """
    from assistant.index.store import IndexStore

    max_lines = parse_length(length if length is not None else settings.summary_length, settings.summary_page_lines)
    store = IndexStore(settings.index_dir, index_name or settings.index_name)
    snap = store.open()
    where, params = flt.sql() if flt is not None else ("1=1", [])
    doc = snap.document(unicodedata.normalize("NFC", doc_id), where, params)
    if doc is None:
        raise AssistantError(f"색인 '{store.name}'에서 문서 '{doc_id}'를 찾을 수 없거나 열람 권한이 없습니다.")
    chunks = snap.chunks_of(doc["doc_id"])
    gen = resolve_generator(settings, generator)
    external = _citations_elsewhere(snap, doc, where, params) if looks_like_statute(chunks) else None
    return summarize_chunks(doc["title"], doc["source"], chunks, generator=gen, max_lines=max_lines,
                            map_chars=settings.summary_map_chars, doc_id=doc["doc_id"], scope=scope,
                            external=external)


#: reading every other document of a large index costs more than the outline gains from it
_CITATION_SCAN_MAX_DOCS = 400


def _citations_elsewhere(snap: Any, doc: dict[str, Any], where: str, params: Sequence[Any]) -> dict[str, int] | None:
    """How often the other documents of the index the user may see (its 시행령, 해석례, manuals) cite each
    article of this statute: an importance signal for the outline. Skipped for indexes too large to read."""
    from assistant.generate.statute_importance import external_citations

    others = [d for d in snap.find_documents(where, params) if d["doc_id"] != doc["doc_id"]]
    if len(others) > _CITATION_SCAN_MAX_DOCS:
        return None
    texts = ((d["title"], "\n".join(c.text for c in snap.chunks_of(d["doc_id"]))) for d in others)
    return external_citations(doc["title"], texts)
