"""Draft a 보고서 or 보도자료 from chosen documents (files or indexed documents) or a search scope.

Order of the steps, and why:

1. The topic is masked (assistant.tasks.pii) and NFC-normalised before anything sees it.
2. Sources: each ``--doc`` is a file on disk (parsed and chunked like a summary) or a document id / source path
   in an index, read through the caller's access filter — a document above the user's clearance is reported
   exactly like a missing one. A ``scope`` (or, with no documents, the topic itself) is searched in the index
   through the same filter, and the documents of the hits that bear on it are used.
3. The extractive assembler (assistant.generate.report_draft) plans the report: which source sentence goes in
   which part, each with a ``[n]`` marker into the source list. With the default (extractive) generator that
   plan *is* the draft. With a model configured, the plan and the numbered sources are given to the model
   (``prompts/draft_report.md``) and its output is checked like answers: a content line must carry a valid
   marker, every number in it must occur in the passages it cites, and a line that addresses the assistant is
   dropped; if too little survives, the extractive draft is used and a warning says so.
4. Every line is masked again (a source may hold a phone number) and dates follow the official notation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generate.base import GenerationRequest, Generator, Passage
from assistant.generate.press_release import render_press
from assistant.generate.report_draft import (
    Sources,
    dedupe,
    label_of,
    plan_report,
    render_report,
    score_units,
    units_of,
)
from assistant.types import Chunk

KINDS = ("보고서", "보도자료")
MAX_DOCS = 10
_MARKERS = re.compile(r"\[(\d{1,3})\]")
_FILL = "【담당 부서·담당자】"


@dataclass
class ReportDraft:
    """A 보고서 or 보도자료 draft and its numbered sources."""

    title: str
    kind: str
    text: str
    topic: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    generator: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "kind": self.kind, "text": self.text, "topic": self.topic,
                "sources": self.sources, "warnings": self.warnings, "generator": self.generator}


# --------------------------------------------------------------------------------------- inputs

def parse_kind(value: str | None) -> str:
    kind = unicodedata.normalize("NFC", (value or "보고서").strip())
    aliases = {"report": "보고서", "press": "보도자료", "보도": "보도자료", "검토보고서": "보고서"}
    kind = aliases.get(kind.lower(), kind)
    if kind not in KINDS:
        raise AssistantError(f"문서 종류 '{value}'은(는) 지원하지 않습니다. 보고서 또는 보도자료 중에서 고르세요.")
    return kind


def _check_topic(topic: str) -> str:
    from assistant.tasks.pii import mask_pii

    text = " ".join(unicodedata.normalize("NFC", topic or "").split())
    if not text:
        raise AssistantError("보고서 주제가 비어 있습니다. 무엇에 관한 보고서인지 한 줄로 적어 주세요 "
                             "(예: \"2024년 2월 재정동향 보고\").")
    if len(text) > 500:
        raise AssistantError(f"보고서 주제가 너무 깁니다 ({len(text)}자, 최대 500자). 주제와 지시만 짧게 적어 주세요.")
    return mask_pii(text).text


@dataclass
class SourceDoc:
    doc_id: str
    title: str
    chunks: list[Chunk]


def load_file(path: Path, settings: Settings) -> SourceDoc:
    from assistant.tasks.summarize import chunk_document

    title, chunks = chunk_document(path, settings)
    if not chunks:
        raise AssistantError(f"{path.name}: 본문이 없어 보고서의 출처로 쓸 수 없습니다. 다른 문서를 고르세요.")
    return SourceDoc(chunks[0].doc_id, title or path.stem, chunks)


def load_indexed(key: str, snapshot: Any, flt: Any, index_name: str) -> SourceDoc:
    where, params = flt.sql() if flt is not None else ("1=1", [])
    doc = snapshot.document(unicodedata.normalize("NFC", key), where, params)
    if doc is None:
        raise AssistantError(f"색인 '{index_name}'에서 문서 '{key}'를 찾을 수 없거나 열람 권한이 없습니다. "
                             "문서 ID나 경로를 확인하세요.")
    return SourceDoc(doc["doc_id"], doc["title"], snapshot.chunks_of(doc["doc_id"]))


def search_docs(query: str, retriever: Any, settings: Settings, flt: Any, limit: int = 4) -> list[SourceDoc]:
    """The documents of the hits for ``query`` (at most ``limit``), each with the chunks around its hits."""
    from assistant.tasks.draft_reply import relevance

    hits = retriever.search(query, k=max(8, 2 * settings.draft_top_k), mode=settings.search_mode, flt=flt)
    if not hits:
        return []
    # only what bears on the scope, measured as 민원 replies measure it (IDF-weighted share of the query's
    # content morphemes and, with e5 vectors, the semantic margin to the closest passage)
    rel, _ = relevance(query, hits, retriever)
    kept = [h for h, r in zip(hits, rel, strict=True) if r.relevant] or hits[:1]
    by_doc: dict[str, list[Any]] = {}
    for h in kept:
        by_doc.setdefault(h.doc_id, []).append(h)
    out = []
    for doc_id, doc_hits in list(by_doc.items())[:limit]:
        ordinals = sorted({o for h in doc_hits for o in h.ordinals})
        near = sorted({o + d for o in ordinals for d in (-1, 0, 1) if o + d >= 0})
        chunks = retriever.snapshot.chunks_of(doc_id, near) if near else []
        out.append(SourceDoc(doc_id, doc_hits[0].title, chunks or [_chunk_of_hit(h) for h in doc_hits]))
    return out


def _chunk_of_hit(h: Any) -> Chunk:
    return Chunk(h.doc_id, (h.ordinals or (0,))[0], h.text, h.title, h.section, h.location, h.page, h.article)


def gather_sources(docs: Sequence[str], scope: str | None, topic: str, *, settings: Settings, retriever: Any,
                   flt: Any, index_name: str | None) -> list[SourceDoc]:
    if len(docs) > MAX_DOCS:
        raise AssistantError(f"출처 문서는 {MAX_DOCS}개까지 고를 수 있습니다 ({len(docs)}개를 골랐습니다).")
    out: list[SourceDoc] = []
    snapshot = None
    for key in docs:
        path = Path(key)
        if flt is None and path.is_file():   # a local file (CLI); the web always sends an access filter
            out.append(load_file(path, settings))
            continue
        if snapshot is None:
            retriever = retriever or _open(settings, index_name)
            snapshot = retriever.snapshot
        out.append(load_indexed(key, snapshot, flt, index_name or settings.index_name))
    if scope or not docs:
        retriever = retriever or _open(settings, index_name)
        out += [d for d in search_docs(scope or topic, retriever, settings, flt)
                if d.doc_id not in {o.doc_id for o in out}]
    if not out:
        raise AssistantError(f"'{scope or topic}'에 관한 문서를 찾지 못했습니다. 출처 문서를 직접 고르거나 "
                             "검색 범위를 바꿔 보세요.")
    return out


def _open(settings: Settings, index_name: str | None) -> Any:
    from assistant.retrieve.search import open_retriever

    return open_retriever(settings, index_name)


# --------------------------------------------------------------------------------------- assembling

def assemble(topic: str, sources_docs: Sequence[SourceDoc], kind: str, *,
             agency: str = "", released: str = "", contact: str = "") -> tuple[str, list[str], Sources]:
    """(title, lines, source list) of the extractive draft."""
    from assistant.generate.report_draft import topic_title

    units = units_of([d.chunks for d in sources_docs])
    score_units(units, topic_title(topic))
    sources = Sources([d.title for d in sources_docs])
    if kind == "보도자료":
        title, lines = render_press(topic, units, sources, agency=agency or "【기관명】",
                                    released=released or "【보도 일시】", contact=contact or _FILL)
        return title, lines, sources
    review = "검토" in topic
    plan = plan_report(topic, units, review=review, scale=1.0 if len(sources_docs) < 3 else 1.3)
    dedupe(plan)
    return plan.title, render_report(plan, sources), sources


def source_passages(sources: Sources, docs: Sequence[SourceDoc]) -> list[Passage]:
    out = []
    for n, (d, place, chunks) in enumerate(sources.entries, 1):
        doc = docs[d]
        text = "\n".join(c.text for c in chunks)
        first = chunks[0] if chunks else None
        out.append(Passage(n=n, doc_id=doc.doc_id, title=doc.title, source="", location=place, text=text,
                           page=first.page if first else None, article=first.article if first else None))
    return out


def check_model_lines(text: str, passages: Sequence[Passage]) -> tuple[list[str], list[str]]:
    """Model output lines that may stay: part headings ("2. 현황"), the 보도자료 header, fill-ins (【…】), and lines
    whose markers are all valid and whose numbers all occur in the passages they cite. Any other line — a claim
    without a source — is dropped, as is a line that addresses the assistant."""
    from assistant.generate.extractive_summary import numbers_missing
    from assistant.korean.injection import addresses_assistant

    by_n = {p.n: p for p in passages}
    kept: list[str] = []
    warnings: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith(("붙임", "끝.")):
            continue
        if addresses_assistant(line):
            warnings.append("문서 속 지시문을 옮긴 줄이 있어 뺐습니다.")
            continue
        cited = [int(n) for n in _MARKERS.findall(line)]
        if not cited:
            if _HEADING.match(stripped) or _HEADER.match(stripped) or "【" in stripped:
                kept.append(line)
            else:
                warnings.append(f"출처 번호가 없는 줄을 뺐습니다: {stripped[:50]}")
            continue
        if any(n not in by_n for n in cited):
            warnings.append(f"출처 번호가 잘못된 줄을 뺐습니다: {stripped[:50]}")
            continue
        body = _LEAD_MARK.sub("", _MARKERS.sub("", line))
        missing = numbers_missing(body, "\n".join(by_n[n].text for n in cited))
        if missing:
            warnings.append(f"출처에 없는 숫자({', '.join(missing)})가 있어 줄을 뺐습니다: {stripped[:50]}")
            continue
        kept.append(line)
    return kept, warnings


_HEADING = re.compile(r"^\d{1,2}\.\s.{1,30}$")
_HEADER = re.compile(r"^(?:기관|보도 일시|담당 부서·담당자):")
_LEAD_MARK = re.compile(r"^\s*(?:\d{1,2}\.|[가-하]\.|\d{1,2}\)|[□○\-])\s")


def model_draft(gen: Generator, topic: str, title: str, kind: str, plan_lines: list[str],
                passages: list[Passage]) -> tuple[list[str] | None, list[str]]:
    """The model's draft of the same plan and sources, checked; None when too little of it survives."""
    from assistant.output.notation import check_item_marks

    cut = next((i for i, ln in enumerate(plan_lines) if ln.startswith("붙임")), len(plan_lines))
    body = plan_lines[:cut]   # the source list and 붙임 are the system's, not the model's
    request = GenerationRequest(task="draft_report", prompt="draft_report", passages=passages, max_tokens=1800,
                                variables={"title": title, "kind": kind, "topic": topic,
                                           "plan": "\n".join(body).strip()})
    raw = gen.generate(request)
    kept, warnings = check_model_lines(raw, passages)
    content = [ln for ln in kept if _MARKERS.search(ln)]
    if len(content) < max(2, len([ln for ln in body if _MARKERS.search(ln)]) // 3) or check_item_marks("\n".join(kept)):
        warnings.append("모델이 쓴 초안이 출처 확인을 통과하지 못해 출처 문장으로 만든 초안을 보여 드립니다.")
        return None, warnings
    if kind == "보도자료":   # 기관, 보도 일시, 담당자 are the officer's facts: the plan's header, never the model's
        kept = [ln for ln in body if _HEADER.match(ln)] + [""] + [ln for ln in kept if not _HEADER.match(ln)]
    return kept + [""] + plan_lines[cut:], warnings


def finish(lines: list[str], kind: str, keep_numbers: Sequence[str] = ()) -> str:
    """Masked again, dates in official notation, the closing "  끝." for a 보고서. ``keep_numbers``: the
    office telephone numbers the officer typed as the 보도자료's 담당자 contact, published on purpose."""
    from assistant.output.notation import apply_notation
    from assistant.tasks.pii import mask_pii

    text = "\n".join(mask_pii(ln, keep_numbers=keep_numbers).text for ln in lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return apply_notation(text, end=kind == "보고서")


def release_text(value: str | date | datetime | None) -> str:
    """"2026. 12. 5. 14:30" from a date, a datetime or 'YYYY-MM-DD[THH:MM]'; empty → the fill-in."""
    from assistant.output.notation import format_date, format_datetime
    from assistant.tasks.draft_reply import parse_received

    if value is None or value == "":
        return "【보도 일시】"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    has_time = "T" in value.strip() or " " in value.strip()
    try:
        parsed = parse_received(value)
    except AssistantError as exc:
        raise AssistantError(f"보도 일시 '{value}'를 읽을 수 없습니다. YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM 형식으로 "
                             "쓰세요 (예: 2026-12-05T10:00).") from exc
    return format_datetime(parsed) if has_time else format_date(parsed)


def draft_report(topic: str, *, settings: Settings, docs: Sequence[str] = (), scope: str | None = None,
                 kind: str | None = None, retriever: Any = None, generator: Generator | None = None,
                 flt: Any = None, index_name: str | None = None, agency: str = "",
                 released: str | date | datetime | None = None, contact: str = "") -> ReportDraft:
    """Draft a 보고서 (or 보도자료) on ``topic`` from ``docs`` and/or a search ``scope``; see the module docstring."""
    from assistant.tasks.summarize import resolve_generator

    kind = parse_kind(kind)
    masked = _check_topic(topic)
    docs_in = gather_sources([unicodedata.normalize("NFC", d) for d in docs], scope, masked, settings=settings,
                             retriever=retriever, flt=flt, index_name=index_name)
    title, lines, sources = assemble(masked, docs_in, kind, agency=agency,
                                     released=release_text(released), contact=contact)
    if not sources.entries:
        raise AssistantError("고른 문서에서 이 주제에 쓸 문장을 찾지 못했습니다. 다른 문서를 고르거나 주제를 "
                             "구체적으로 적어 보세요.")
    gen = resolve_generator(settings, generator)
    passages = source_passages(sources, docs_in)
    warnings: list[str] = []
    if gen.name != "extractive":
        drafted, warnings = model_draft(gen, masked, title, kind, lines, passages)
        lines = drafted or lines
    source_json = [{"n": p.n, "doc_id": p.doc_id, "title": p.title, "location": p.location,
                    "label": label_of(p.title, p.location), "text": p.text[:1500]} for p in passages]
    office = re.findall(r"\d{2,4}-\d{3,4}-\d{4}", contact or "")
    return ReportDraft(title=title, kind=kind, text=finish(lines, kind, office), topic=masked, sources=source_json,
                       warnings=warnings, generator=gen.identity)


def report_output_document(draft: ReportDraft):  # -> OutputDocument
    """The draft as an exportable document: its title, one note for the officer, the body as written."""
    from assistant.output import document_from_text

    note = ("※ 초안입니다. [n]은 붙임 출처 목록의 번호입니다. 【 】 부분을 채우고 사실관계를 확인한 뒤 "
            "출처 번호를 지워 쓰십시오.")
    return document_from_text(draft.title, draft.text, [f"{draft.kind}(초안)", note])


