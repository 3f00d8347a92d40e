"""Draft a reply to a 민원: mask personal data, classify, compute the deadline, retrieve the basis, generate.

Order matters for privacy: the complaint is masked (``assistant.tasks.pii``) before anything else sees it —
classification, retrieval queries, the generator and any log get the masked text only. After generation, the
draft is checked twice: every 「법령명」 제N조 must be supported by a retrieved passage (unsupported sentences are
removed, ``assistant.generate.citations``), and no original personal value may appear in it.

Complaint types follow 「민원 처리에 관한 법률」 제2조제1호 (``complaint_types``); the deadline follows 법 제19조 and
시행령 제19조 (``deadline``): working days, 토요일·공휴일 excluded, from the receipt date and time.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError, ParseError
from assistant.generate.base import GenerationRequest, Generator, Passage
from assistant.tasks.complaint_types import Classification, classify_complaint
from assistant.tasks.deadline import KST, Deadline, compute_deadline, compute_immediate_deadline
from assistant.tasks.pii import PLACEHOLDERS, MaskResult, mask_pii
from assistant.tasks.summarize import resolve_generator

_DOCUMENT_FORMATS = {".hwp", ".hwpx", ".docx", ".pdf", ".html", ".htm"}
_PLACEHOLDER_RX = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))


@dataclass
class Draft:
    """A 민원 답변서 draft and everything an officer needs to check it."""

    reply: str
    complaint_type: str
    complaint_type_label: str
    type_reasons: list[str]
    type_basis: str
    deadline: dict[str, Any]
    citations: list[dict[str, Any]] = field(default_factory=list)
    masked: list[dict[str, Any]] = field(default_factory=list)
    removed_citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)  # every passage the generator was given
    masked_text: str = ""
    generator: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reply": self.reply, "complaint_type": self.complaint_type,
                "complaint_type_label": self.complaint_type_label, "type_reasons": self.type_reasons,
                "type_basis": self.type_basis, "deadline": self.deadline, "citations": self.citations,
                "masked": self.masked, "removed_citations": self.removed_citations, "generator": self.generator,
                "retrieved": [{"n": p.n, "doc_id": p.doc_id, "title": p.title, "location": p.location}
                              for p in self.retrieved]}


# --------------------------------------------------------------------------------------- inputs

def parse_received(value: str | date | datetime | None) -> datetime:
    """Receipt time: a datetime, a date (09:00 assumed, see ``deadline``), 'YYYY-MM-DD[THH:MM]', or now (KST)."""
    if value is None:
        return datetime.now(KST).replace(tzinfo=None, second=0, microsecond=0)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).replace(hour=9)
    text = value.strip().replace(" ", "T")
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(hour=9) if fmt == "%Y-%m-%d" else parsed
    raise AssistantError(f"접수일시 '{value}'를 읽을 수 없습니다. YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM 형식으로 쓰세요 "
                         "(예: 2025-05-02 또는 2025-05-02T14:30).")


def read_complaint_file(path: Path | str, settings: Settings) -> str:
    """Text of a complaint file: plain text in any Korean encoding, or a document (HWP, HWPX, DOCX, PDF, HTML)."""
    from assistant.ingest.base import parse_file
    from assistant.ingest.encoding import decode_text

    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"민원 파일 {path}이(가) 없습니다. 경로를 확인하세요.")
    if path.suffix.lower() in _DOCUMENT_FORMATS:
        doc = parse_file(path, settings.max_file_bytes)
        return "\n".join(b.text for b in doc.blocks)
    data = path.read_bytes()
    if len(data) > settings.max_file_bytes:
        raise AssistantError(f"민원 파일 {path}이(가) 너무 큽니다 ({len(data):,}바이트).")
    try:
        text, _ = decode_text(data, path)
    except ParseError as exc:
        raise AssistantError(f"민원 파일 {path}을(를) 텍스트로 읽을 수 없습니다 ({exc.reason}). "
                             "민원 내용이 담긴 텍스트 파일(.txt)이나 한글·워드·PDF 문서를 지정하세요.") from exc
    return text


def _check_text(text: str, settings: Settings) -> str:
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        raise AssistantError("민원 내용이 비어 있습니다. --text 또는 --file로 민원 내용을 주세요.")
    if len(text) > settings.draft_max_chars:
        raise AssistantError(f"민원 내용이 너무 깁니다 ({len(text):,}자, 최대 {settings.draft_max_chars:,}자). "
                             "핵심 내용만 남기거나 ASSISTANT_DRAFT_MAX_CHARS 설정을 늘리세요.")
    return text


# --------------------------------------------------------------------------------------- steps

def deadline_for(cls: Classification, received: datetime) -> Deadline:
    period = cls.period
    if period.days == 0:
        return compute_immediate_deadline(received)
    return compute_deadline(received, period.days)


def deadline_json(cls: Classification, dl: Deadline, received: datetime) -> dict[str, Any]:
    p = cls.period
    return {"received": received.isoformat(timespec="minutes"), "due": dl.due.isoformat(),
            "due_at": dl.due_at.isoformat(timespec="minutes") if dl.due_at else None,
            "days": p.days, "unit": dl.unit, "immediate_hours": p.immediate_hours,
            "period_article": p.article, "basis": dl.basis, "note": p.note, "is_default": p.is_default,
            "excluded": [d.isoformat() for d in dl.excluded]}


def due_text(dl: Deadline) -> str:
    """"2026. 12. 9." or, for periods counted in 근무시간, "2026. 12. 1. 13:00" (official notation)."""
    from assistant.output.notation import format_date, format_datetime

    return format_datetime(dl.due_at) if dl.due_at else format_date(dl.due)


def deadline_text(cls: Classification, dl: Deadline) -> str:
    p = cls.period
    span = f"{p.immediate_hours}근무시간" if p.days == 0 else f"{p.days}일"
    return f"{due_text(dl)}까지 ({span}, {p.article}; {dl.basis})"


def deadline_sentence(cls: Classification, dl: Deadline, received: datetime) -> str:
    """The 처리기한 as the draft states it; a 법정민원's period comes from the 민원처리기준표, so the computed date
    is marked as provisional, and kinds that are often extended carry the fill-in for the reason."""
    from assistant.output.notation import format_date

    p = cls.period
    span = f"{p.immediate_hours}근무시간" if p.days == 0 else f"{p.days}일"
    due = due_text(dl)
    if p.is_default:
        due = f"【민원처리기준표의 처리기간에 따른 처리기한(임시 계산: {due})】"
    # the article (시행령 제14조 …) stays in the meta line and the JSON: the reply cites only retrieved text
    law = "「민원 처리에 관한 법률 시행령」" if "시행령" in p.article else "「민원 처리에 관한 법률」"
    text = (f"이 민원은 {format_date(received)} 접수된 {cls.kind}으로, {law}에 따른 처리기간은 {span}이며 "
            f"처리기한은 {due}입니다.")
    if cls.kind in ("법정민원", "고충민원", "건의민원"):
        text += " 처리기간을 연장하는 경우에는 【연장 사유】와 【처리 예정일】을 따로 알려 드리겠습니다."
    return text


def retrieval_query(masked: str, limit: int = 600) -> str:
    """The masked complaint without placeholders, greetings and sign-offs: what the citizen asks about."""
    from assistant.generate.reply_gist import is_small_talk, sentences, without_placeholders

    kept = [s for s in sentences(without_placeholders(masked)) if not is_small_talk(s)]
    query = " ".join(" ".join(kept).split())[:limit]
    return query or " ".join(_PLACEHOLDER_RX.sub(" ", masked).split())[:limit]


def is_law_hit(hit: Any) -> bool:
    from assistant.generate.reply_review import is_law_text

    return is_law_text(hit.title, hit.source, getattr(hit, "article", None), hit.location)


def select_hits(hits: list[Any], k: int) -> list[Any]:
    """Best ``k`` hits with law articles preferred: about half the slots go to article-level law hits
    (when there are any in the pool), the rest in retrieval order; law articles come first."""
    laws = [h for h in hits if is_law_hit(h)]
    quota = min(len(laws), max(1, math.ceil(k / 2)))
    chosen = laws[:quota]
    for h in hits:
        if len(chosen) >= k:
            break
        if h not in chosen:
            chosen.append(h)
    rank = {id(h): i for i, h in enumerate(hits)}
    return sorted(chosen, key=lambda h: (not is_law_hit(h), rank[id(h)]))


#: A passage bears on the complaint when it holds at least LEXICAL_FLOOR of the complaint's IDF-weighted
#: content morphemes and, when the index has e5 vectors, its cosine to the complaint reaches SEMANTIC_FLOOR and
#: is within SEMANTIC_MARGIN of the closest passage — within SAME_DOC_MARGIN when it comes from another
#: document than the closest one (a reply rests on one governing law; a second document must be as close).
#: Measured on eval/gold/replies.jsonl (statutes + welfare guides): complaints the corpus cannot answer have no
#: passage above ~0.865; 공청회 rules for a parking complaint or 첫만남이용권 for a 등본 fall outside the margins.
SEMANTIC_FLOOR = 0.87
SEMANTIC_MARGIN = 0.03
SAME_DOC_MARGIN = 0.01
LEXICAL_FLOOR = 0.10
LEXICAL_FLOOR_ALONE = 0.15  # without semantic vectors


@dataclass
class Relevance:
    lexical: float
    semantic: float | None
    best_semantic: float | None = None
    same_doc_as_best: bool = True

    @property
    def relevant(self) -> bool:
        if self.semantic is None:
            return self.lexical >= LEXICAL_FLOOR_ALONE
        margin = SEMANTIC_MARGIN if self.same_doc_as_best else SAME_DOC_MARGIN
        floor = max(SEMANTIC_FLOOR, (self.best_semantic or 0.0) - margin)
        return self.lexical >= LEXICAL_FLOOR and self.semantic >= floor


def relevance(query: str, hits: list[Any], retriever: Any,
              ) -> tuple[list[Relevance], dict[str, float]]:
    """How much each hit bears on the complaint: its share of the complaint's content morphemes weighted by
    their IDF in the index (so 민원·신청 count little and 주차·등본 a lot), and the semantic layer's cosine."""
    from assistant.korean.morph import content_terms_batch
    from assistant.korean.scoring import idf, weighted_share

    snapshot = getattr(retriever, "snapshot", None)
    df, n_docs = snapshot.term_df() if snapshot is not None and hasattr(snapshot, "term_df") else ({}, 0)
    texts = [query] + [f"{h.title}\n{h.text}" for h in hits]
    term_lists = content_terms_batch(texts)
    q_terms = set(term_lists[0])
    weights = {t: idf(df.get(t, 0), n_docs) if n_docs else 1.0 for t in q_terms}
    layer = getattr(retriever, "semantic", None)
    sem_query = retriever.semantic_text(query) if layer is not None and hasattr(retriever, "semantic_text") else query
    out = []
    for h, terms in zip(hits, term_lists[1:], strict=True):
        present = set(terms)
        if snapshot is not None and hasattr(snapshot, "chunk_terms") and h.ordinals:
            present |= {t for ts in snapshot.chunk_terms(h.doc_id, h.ordinals) for t in ts}
        sims = [x for x in layer.similarities(sem_query, h.positions) if x is not None] \
            if layer is not None and h.positions else []
        out.append(Relevance(weighted_share(weights, present), max(sims) if sims else None))
    scored = [(r.semantic, h.doc_id) for r, h in zip(out, hits, strict=True) if r.semantic is not None]
    best, best_doc = max(scored) if scored else (None, None)
    for r, h in zip(out, hits, strict=True):
        r.best_semantic, r.same_doc_as_best = best, h.doc_id == best_doc
    return out, weights


def finish_reply(reply: str, deadline: str) -> str:
    """The computed 처리기한 sentence at the end of 1. 민원 요지 (it is not generated, so no model can get the
    date wrong and the citation check cannot drop it), dates in official notation, and the closing "  끝."."""
    from assistant.output.notation import apply_notation

    reply = reply.strip()
    m = re.search(r"\n\s*\n(?=2\.\s*검토 결과)", reply)
    if m:
        reply = f"{reply[:m.start()]}\n  {deadline}{reply[m.start():]}"
    else:
        head, sep, rest = reply.partition("\n\n")
        reply = f"{head}\n  {deadline}{sep}{rest}" if sep else f"{reply}\n\n{deadline}"
    return apply_notation(reply, end=True)


def passages_from_hits(hits: list[Any]) -> list[Passage]:
    return [Passage(n=i, doc_id=h.doc_id, title=h.title, source=h.source, location=h.location, text=h.text,
                    score=float(h.score), article=h.article, page=h.page) for i, h in enumerate(hits, 1)]


def scrub(reply: str, original: str, mask: MaskResult) -> str:
    """Last guard: no original personal value may survive in the draft (a model could echo one)."""
    for span in sorted(mask.found, key=lambda s: -(s.end - s.start)):
        value = original[span.start:span.end]
        if len(value) >= 4 and value in reply:
            reply = reply.replace(value, PLACEHOLDERS[span.kind])
    return reply


def draft_reply(text: str, *, settings: Settings, retriever: Any = None, generator: Generator | None = None,
                received: str | date | datetime | None = None, flt: Any = None,
                index_name: str | None = None) -> Draft:
    """Draft a 민원 답변서 for ``text``; see the module docstring for the order of the steps."""
    from assistant.generate.citations import validate_citations

    original = _check_text(text, settings)
    mask = mask_pii(original)
    masked = mask.text
    cls = classify_complaint(_PLACEHOLDER_RX.sub(" ", masked))  # "[전화번호]" is not a cue about the request
    when = parse_received(received)
    dl = deadline_for(cls, when)
    if retriever is None:
        from assistant.retrieve.search import open_retriever

        retriever = open_retriever(settings, index_name)
    k = max(1, settings.draft_top_k)
    query = retrieval_query(masked)
    hits = retriever.search(query, k=3 * k, mode=settings.search_mode, flt=flt)
    rel, weights = relevance(query, hits, retriever)
    hits = [h for h, r in zip(hits, rel, strict=True) if r.relevant]  # only what bears on the complaint
    passages = passages_from_hits(select_hits(hits, k))
    gen = resolve_generator(settings, generator)
    request = GenerationRequest(
        task="draft_reply", prompt="draft_reply", passages=passages, max_tokens=1500,
        variables={"complaint": masked, "complaint_type": cls.label, "complaint_kind": cls.kind,
                   "deadline": deadline_text(cls, dl), "contact": settings.draft_contact,
                   # the complaint's content morphemes with their IDF in the index (JSON): sentence relevance
                   "term_weights": json.dumps({t: round(w, 3) for t, w in weights.items()}, ensure_ascii=False)})
    raw = gen.generate(request)
    report = validate_citations(raw, passages, policy="remove")
    reply = scrub(report.text, unicodedata.normalize("NFC", original), mask)
    reply = finish_reply(reply, deadline_sentence(cls, dl, when))
    used = set(report.cited) | {n for issue in report.kept for n in issue.supported_by}
    citations = [{**p.citation_json(), "article": p.article} for p in passages if p.n in used]
    return Draft(
        reply=reply, complaint_type=cls.kind, complaint_type_label=cls.label, type_reasons=list(cls.reasons),
        type_basis=cls.legal_basis, deadline=deadline_json(cls, dl, when), citations=citations,
        masked=[{"kind": s.kind, "span": [s.start, s.end]} for s in mask.found],
        removed_citations=[i.to_json() for i in report.removed], retrieved=passages, masked_text=masked,
        generator=gen.identity)


_MARKER = re.compile(r"\s?\[\d+(?:\s?,\s?\d+)*\]")


def letter_text(reply: str) -> str:
    """The draft as a letter to send: without the [n] source markers (they serve the officer's check on screen;
    the letter names its basis in 3. 관련 근거)."""
    return _MARKER.sub("", reply)


def draft_output_document(draft: Draft):  # -> OutputDocument
    from assistant.output import document_from_text
    from assistant.output.notation import format_date, format_datetime

    dl = draft.deadline
    due = format_datetime(datetime.fromisoformat(dl["due_at"])) if dl.get("due_at") \
        else format_date(date.fromisoformat(dl["due"]))
    meta = [f"민원 유형: {draft.complaint_type_label} — {draft.type_basis}",
            f"처리기한: {due} ({dl['period_article']})",
            "※ 초안입니다. 【 】 부분을 채우고, 담당자가 사실관계와 근거를 확인한 뒤 발송하십시오."]
    return document_from_text("민원 답변서(초안)", letter_text(draft.reply), meta, official=True)
