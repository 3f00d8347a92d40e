"""Ask: a question in Korean → an answer whose sentences cite numbered sources, or a plain abstention.

Steps (parts are injected; nothing here opens an index or a model):

1. validate the question (not empty, not over ``ask_max_question_chars``) and normalise it to NFC;
2. mask personal data (assistant.tasks.pii) — the masked text is all that retrieval, the generator and
   the log ever see; earlier turns are masked the same way;
3. with history, condense the follow-up into a self-contained question (the generator's
   ``condense_question`` task);
4. retrieve ``ask_top_k`` passages; a 법제처 해석례 hit also carries that case's 회답 (its conclusion);
5. decide whether the evidence covers the question (:func:`evidence_coverage`); if not, abstain and
   show the closest passages for reference;
6. generate, then validate the citations (assistant.generate.citations) before returning.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generate.base import GenerationRequest, Generator, Passage
from assistant.generate.citations import CitationReport, validate_citations
from assistant.generate.extractive import ABSTAIN_TEXT, question_terms
from assistant.index.morph import content_terms_batch
from assistant.retrieve.filters import SearchFilter
from assistant.tasks.pii import mask_pii
from assistant.types import Hit

log = logging.getLogger("assistant.ask")

#: passages whose coverage of the question decides whether to answer
EVIDENCE_DEPTH = 3
#: how many of the closest passages an abstention shows for reference
REFERENCE_COUNT = 3
_SENTENCE_END = re.compile(r"[.?!]\s|다\.\s*|\n")


class QuestionError(AssistantError):
    """The question cannot be asked as given (empty, too long)."""


class SearchBackend(Protocol):
    def search(self, query: str, k: int = 5, mode: str = "hybrid", flt: SearchFilter | None = None) -> list[Hit]: ...


@dataclass
class Answer:
    question: str                       # as asked, masked
    standalone_question: str            # after condensing a follow-up (== question without history)
    answer: str
    citations: list[Passage]
    abstained: bool
    coverage: float = 0.0
    report: CitationReport | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "citations": [p.citation_json() for p in self.citations],
                "abstained": self.abstained}


class AskService:
    def __init__(self, retriever: SearchBackend, generator: Generator, settings: Settings) -> None:
        self.retriever = retriever
        self.generator = generator
        self.settings = settings

    def ask(self, question: str, *, flt: SearchFilter | None = None,
            history: Sequence[tuple[str, str]] = ()) -> Answer:
        answer: Answer | None = None
        for event in self._events(question, flt, history):
            if event["type"] == "done":
                answer = event["_answer"]
        assert answer is not None
        return answer

    def ask_stream(self, question: str, *, flt: SearchFilter | None = None,
                   history: Sequence[tuple[str, str]] = ()) -> Iterator[dict[str, Any]]:
        """Events: ``citations`` (the numbered sources) first, then ``token`` pieces, then ``done``.

        Tokens are the generator's raw output; ``done.answer`` is the checked text (an unsupported
        citation removed), which a client should show in place of the streamed text.
        """
        for event in self._events(question, flt, history):
            yield {k: v for k, v in event.items() if not k.startswith("_")}

    # ------------------------------------------------------------ pipeline

    def _events(self, question: str, flt: SearchFilter | None,
                history: Sequence[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        t0 = time.perf_counter()
        masked = self._masked_question(question)
        turns = [(role, mask_pii(text).text) for role, text in history if text and text.strip()]
        standalone = self._condense(masked, turns) if turns else masked
        t1 = time.perf_counter()
        hits = self.retriever.search(standalone, k=self.settings.ask_top_k, mode=self.settings.search_mode, flt=flt)
        passages, term_sets = self._passages(hits)
        t2 = time.perf_counter()
        coverage = evidence_coverage(question_terms(standalone, self.settings.threads), term_sets[:EVIDENCE_DEPTH])
        abstain = not passages or coverage < self.settings.abstain_min_coverage
        log.info("ask question=%r standalone=%r hits=%d coverage=%.2f abstain=%s",
                 masked, standalone, len(hits), coverage, abstain)
        shown = passages[:REFERENCE_COUNT] if abstain else passages
        yield {"type": "citations", "citations": [p.citation_json() for p in shown], "abstained": abstain}
        if abstain:
            text, report = ABSTAIN_TEXT, None
            yield {"type": "token", "text": text}
        else:
            pieces = []
            request = GenerationRequest(task="answer", prompt="answer", variables={"question": standalone},
                                        passages=passages, history=turns,
                                        max_tokens=self.settings.generator_max_tokens,
                                        temperature=self.settings.generator_temperature)
            for piece in self.generator.stream(request):
                pieces.append(piece)
                yield {"type": "token", "text": piece}
            report = validate_citations("".join(pieces), passages, policy=self.settings.citation_policy)
            text = report.text.strip() or ABSTAIN_TEXT
            if not report.clean:
                log.warning("ask citations removed=%s flagged=%s", [c.label for c in report.removed],
                            [c.label for c in report.flagged])
        declined = abstain or text.startswith(ABSTAIN_TEXT)
        cited = _cited_passages(passages, report) if not declined else shown
        t3 = time.perf_counter()
        answer = Answer(question=masked, standalone_question=standalone, answer=text, citations=cited,
                        abstained=declined, coverage=coverage, report=report,
                        timings_ms={"prepare": (t1 - t0) * 1e3, "retrieve": (t2 - t1) * 1e3,
                                    "generate": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3})
        yield {"type": "done", "answer": text, "citations": [p.citation_json() for p in cited],
               "abstained": declined, "_answer": answer}

    def _masked_question(self, question: str) -> str:
        return mask_pii(check_question(question, self.settings.ask_max_question_chars)).text

    def _condense(self, question: str, turns: list[tuple[str, str]]) -> str:
        request = GenerationRequest(task="condense_question", prompt="condense_question",
                                    variables={"question": question}, history=turns, max_tokens=128)
        out = " ".join(self.generator.generate(request).split())
        # a model may add a preface or answer anyway: keep one line, fall back to the question itself
        out = out.splitlines()[0].strip() if out else ""
        if not out or len(out) > self.settings.ask_max_question_chars:
            return question
        return mask_pii(out).text

    def _passages(self, hits: Sequence[Hit]) -> tuple[list[Passage], list[set[str]]]:
        """Numbered passages and, for each, its content morphemes (stored in the index at ingest)."""
        db = _snapshot_db(self.retriever)
        built = [_passage(i, h, db) for i, h in enumerate(hits, 1)]
        passages = [p for p, _ in built]
        missing = [i for i, (_, terms) in enumerate(built) if terms is None]
        analysed = content_terms_batch([f"{passages[i].title}\n{passages[i].text}" for i in missing],
                                       self.settings.threads)
        terms = [t for _, t in built]
        for i, ts in zip(missing, analysed, strict=True):
            terms[i] = set(ts)
        return passages, [t or set() for t in terms]


def check_question(question: object, max_chars: int) -> str:
    """The question, NFC and trimmed; empty or over-long is a :class:`QuestionError`."""
    if not isinstance(question, str):
        raise QuestionError("질문은 문자열이어야 합니다.")
    q = unicodedata.normalize("NFC", question).strip()
    if not q:
        raise QuestionError("질문이 비어 있습니다. 궁금한 내용을 한 문장 이상 입력하십시오.")
    if len(q) > max_chars:
        raise QuestionError(f"질문이 너무 깁니다 ({len(q):,}자). {max_chars:,}자 이내로 줄여 주십시오 "
                            "(문서 전체를 다루려면 summarize 명령을 사용하십시오).")
    return q


def evidence_coverage(q_terms: Sequence[str], passage_terms: Sequence[set[str]]) -> float:
    """How well the best single passage covers the question: the largest share of the question's content
    morphemes that one passage (title included) contains.

    One passage, not the union of all: an unanswerable question's terms are often scattered over several
    passages (육아 in one, 휴직 in another, 급여 in a third). Multi-syllable terms weigh 1.5, one-syllable
    terms 1 (they are often ambiguous). Calibrated on the sample corpus (bench/bench_ask.py --calibrate):
    answerable questions scored 0.82–1.0, unanswerable ones (off-topic, or administrative topics the
    samples do not cover) 0–0.67; the fused retrieval score did not separate the two groups.
    """
    q = list(dict.fromkeys(q_terms))
    if not q or not passage_terms:
        return 0.0
    weights = {t: 1.5 if len(t) >= 2 else 1.0 for t in q}
    total = sum(weights.values())
    return max(sum(w for t, w in weights.items() if t in seen) / total for seen in passage_terms)


def _passage(n: int, hit: Hit, db: Any) -> tuple[Passage, set[str] | None]:
    segments: tuple[tuple[str, str], ...] = ()
    text, location, terms = hit.text, hit.location, None
    if db is not None and hit.ordinals:
        rows = _chunk_rows(db, hit.doc_id, hit.ordinals)
        segments = _trim_continuation(db, hit, tuple((r[0] or "", r[1]) for r in rows))
        terms = {t for r in rows for t in (r[2] or "").split()}
        answer_chunk = _interpretation_answer(db, hit)
        if answer_chunk is not None:
            segments = (("회답", answer_chunk[0]),) + segments
            terms |= set(answer_chunk[1].split())
            text = f"{answer_chunk[0]}\n{text}"
            location = f"회답, {location}" if location else "회답"
    passage = Passage(n=n, doc_id=hit.doc_id, title=hit.title, source=hit.source, location=location, text=text,
                      score=hit.score, article=hit.article, page=hit.page, segments=segments)
    return passage, terms


def _chunk_rows(db: Any, doc_id: str, ordinals: Sequence[int]) -> list[Any]:
    marks = ",".join("?" * len(ordinals))
    return db.execute(f"SELECT section, text, terms FROM chunks WHERE doc_id=? AND ordinal IN ({marks}) "
                      "ORDER BY ordinal", [doc_id, *ordinals]).fetchall()


def _trim_continuation(db: Any, hit: Hit, segments: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Drop the head of a first chunk that continues a sentence cut at the previous chunk's end.

    The chunker cuts an over-long sentence at a space; a sentence fragment is not answer material.
    """
    first = min(hit.ordinals)
    if not segments or first == 0:
        return segments
    prev = db.execute("SELECT section, text FROM chunks WHERE doc_id=? AND ordinal=?",
                      (hit.doc_id, first - 1)).fetchone()
    if prev is None or prev[0] != segments[0][0] or prev[1].rstrip()[-1:] in (".", "?", "!", ")", "」", "다"):
        return segments
    section, text = segments[0]
    cut = _SENTENCE_END.search(text)
    rest = text[cut.end():].lstrip() if cut else ""
    return ((section, rest),) + segments[1:] if rest else segments[1:]


def _interpretation_answer(db: Any, hit: Hit) -> tuple[str, str] | None:
    """The 회답 chunk (text, terms) of a 법제처 해석례 when the hit does not already include it."""
    row = db.execute("SELECT ordinal, text, terms FROM chunks WHERE doc_id=? AND section='회답' "
                     "ORDER BY ordinal LIMIT 1", (hit.doc_id,)).fetchone()
    if row is None or row[0] in hit.ordinals:
        return None
    return str(row[1]), str(row[2] or "")


def _snapshot_db(retriever: object) -> Any:
    snapshot = getattr(retriever, "snapshot", None)
    return snapshot.db() if snapshot is not None and hasattr(snapshot, "db") else None


def _cited_passages(passages: Sequence[Passage], report: CitationReport | None) -> list[Passage]:
    if report is None or not report.cited:
        return list(passages)
    by_n = {p.n: p for p in passages}
    return [by_n[n] for n in sorted(report.cited)]
