"""Draft a reply to a 민원: mask personal data, classify, compute the deadline, retrieve the basis, generate.

Order matters for privacy: the complaint is masked (``assistant.tasks.pii``) before anything else sees it —
classification, retrieval queries, the generator and any log get the masked text only. After generation, the
draft is checked twice: every 「법령명」 제N조 must be supported by a retrieved passage (unsupported sentences are
removed, ``assistant.generate.citations``), and no original personal value may appear in it.

Complaint types follow 「민원 처리에 관한 법률」 제2조제1호 (``complaint_types``); the deadline follows 법 제19조 and
시행령 제19조 (``deadline``): working days, 토요일·공휴일 excluded, from the receipt date and time.
"""

from __future__ import annotations

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


def deadline_text(cls: Classification, dl: Deadline) -> str:
    p = cls.period
    span = f"{p.immediate_hours}근무시간" if p.days == 0 else f"{p.days}일"
    when = dl.due_at.strftime("%Y-%m-%d %H:%M") if dl.due_at else dl.due.isoformat()
    return f"{when}까지 ({span}, {p.article}; {dl.basis})"


def retrieval_query(masked: str, limit: int = 600) -> str:
    """The masked complaint without placeholders, greetings and sign-offs: what the citizen asks about."""
    from assistant.generate.extractive_reply import is_small_talk, sentences, without_placeholders

    kept = [s for s in sentences(without_placeholders(masked)) if not is_small_talk(s)]
    query = " ".join(" ".join(kept).split())[:limit]
    return query or " ".join(_PLACEHOLDER_RX.sub(" ", masked).split())[:limit]


def is_law_hit(hit: Any) -> bool:
    from assistant.generate.extractive_reply import is_law_text

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
    hits = retriever.search(retrieval_query(masked), k=3 * k, mode=settings.search_mode, flt=flt)
    passages = passages_from_hits(select_hits(hits, k))
    gen = resolve_generator(settings, generator)
    request = GenerationRequest(
        task="draft_reply", prompt="draft_reply", passages=passages, max_tokens=1500,
        variables={"complaint": masked, "complaint_type": cls.label, "complaint_kind": cls.kind,
                   "deadline": deadline_text(cls, dl), "contact": settings.draft_contact})
    raw = gen.generate(request)
    report = validate_citations(raw, passages, policy="remove")
    reply = scrub(report.text, unicodedata.normalize("NFC", original), mask)
    used = set(report.cited) | {n for issue in report.kept for n in issue.supported_by}
    citations = [{**p.citation_json(), "article": p.article} for p in passages if p.n in used]
    return Draft(
        reply=reply, complaint_type=cls.kind, complaint_type_label=cls.label, type_reasons=list(cls.reasons),
        type_basis=cls.legal_basis, deadline=deadline_json(cls, dl, when), citations=citations,
        masked=[{"kind": s.kind, "span": [s.start, s.end]} for s in mask.found],
        removed_citations=[i.to_json() for i in report.removed], retrieved=passages, masked_text=masked,
        generator=gen.identity)


def draft_output_document(draft: Draft):  # -> OutputDocument
    from assistant.output import document_from_text

    dl = draft.deadline
    due = dl["due_at"].replace("T", " ") if dl.get("due_at") else dl["due"]
    meta = [f"민원 유형: {draft.complaint_type_label} — {draft.type_basis}",
            f"처리기한: {due} ({dl['period_article']})",
            "※ 초안입니다. 담당자가 사실관계와 근거를 확인한 뒤 발송하십시오."]
    return document_from_text("민원 답변서(초안)", draft.reply, meta)
