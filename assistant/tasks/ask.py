"""Ask: a question in Korean → an answer that leads with the fact asked for and cites precisely, or a plain
statement that the documents do not say.

Steps (parts are injected; nothing here opens an index or a model):

1. validate the question (not empty, not over ``ask_max_question_chars``) and normalise it to NFC;
2. mask personal data (assistant.tasks.pii) — the masked text is all that retrieval, the generator and
   the log ever see; earlier turns are masked the same way;
3. with history, condense the follow-up into a self-contained question;
4. retrieve ``ask_top_k`` passages; a 법제처 해석례 hit also carries that case's 회답 (its conclusion);
5. decide whether the passages answer the question (assistant.tasks.gate: a calibrated model over
   lexical, semantic and retrieval evidence); if not, decline and show the closest passages;
6. generate (the extractive composer puts the answering sentence first; model generators get the same
   instruction in prompts/answer.md), validate the law citations, then renumber the cited sources 1..n in
   order of first use, each with the precise article/항/호, page or section of what it quotes.
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
from assistant.generate.citations import CitationReport, precise_citations, validate_citations
from assistant.generate.compose import ABSTAIN_TEXT
from assistant.korean.morph import content_terms_batch
from assistant.korean.questions import question_kind
from assistant.retrieve.filters import SearchFilter
from assistant.tasks.gate import Decision, Evidence, decide, evidence, names_only_unknown_topics
from assistant.tasks.pii import mask_pii
from assistant.types import Hit

log = logging.getLogger("assistant.ask")

#: how many of the closest passages an abstention shows for reference
REFERENCE_COUNT = 3
_SENTENCE_END = re.compile(r"[.?!]\s|다\.\s*|\n")
#: the shortest piece the chunker leaves before a cut inside a sentence (half its smallest chunk size)
CUT_PIECE_MIN_CHARS = 100
#: how a new article, 항, item, bullet, note or table row begins (never the rest of a cut sentence)
_STRUCTURE_START = re.compile(r"\s*(?:제\s*\d+\s*조|[①-⑳]|\(?\d{1,3}(?:의\d{1,2})?[.)]\s|[가-하][.)]\s|\([가-하0-9]\)\s"
                              r"|[-*•·○●□■◦▪※#|<\[【])")
#: "자세히", "더 자세히 알려 주세요": a request for more about the previous question, and nothing else
DETAIL_ONLY = re.compile(r"^\s*(?:좀\s*)?(?:더\s*)?자세(?:히|하게)\s*(?:좀\s*)?(?:(?:알려|설명해|말해|보여)\S*)?"
                         r"(?:\s*주\S*)?\s*[.?!~]*\s*$")
#: a question that also asks for detail ("처리기간 자세히 알려줘")
_DETAIL = re.compile(r"자세(?:히|하게)\s*(?:좀\s*)?(?:알려|설명|말해|보여)")


class QuestionError(AssistantError):
    """The question cannot be asked as given (empty, too long)."""


class SearchBackend(Protocol):
    def search(self, query: str, k: int = 5, mode: str = "hybrid", flt: SearchFilter | None = None) -> list[Hit]: ...

    def semantic_text(self, query: str) -> str: ...


@dataclass
class Answer:
    question: str                       # as asked, masked
    standalone_question: str            # after condensing a follow-up (== question without history)
    answer: str
    citations: list[Passage]
    abstained: bool
    decision: Decision | None = None
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
            history: Sequence[tuple[str, str]] = (), detail: bool = False) -> Answer:
        answer: Answer | None = None
        for event in self._events(question, flt, history, detail):
            if event["type"] == "done":
                answer = event["_answer"]
        assert answer is not None
        return answer

    def ask_stream(self, question: str, *, flt: SearchFilter | None = None,
                   history: Sequence[tuple[str, str]] = (), detail: bool = False) -> Iterator[dict[str, Any]]:
        """Events: ``citations`` (the numbered sources) first, then ``token`` pieces, then ``done``.

        Tokens are the generator's raw output; ``done.answer`` and ``done.citations`` are the checked text
        with sources renumbered in order of first use, which a client shows in place of the streamed text.
        """
        for event in self._events(question, flt, history, detail):
            yield {k: v for k, v in event.items() if not k.startswith("_")}

    def evidence(self, question: str, *, flt: SearchFilter | None = None) -> tuple[Evidence, list[Passage]]:
        """The gate's evidence for a question (no generation): what ``eval.fit_gate`` fits the model on."""
        masked = self._masked_question(question)
        hits = self.retriever.search(masked, k=self.settings.ask_top_k, mode=self.settings.search_mode, flt=flt)
        passages, term_sets = self._passages(hits, masked)
        return evidence(masked, hits, term_sets, self.retriever, passages, flt), passages

    # ------------------------------------------------------------ pipeline

    def _events(self, question: str, flt: SearchFilter | None, history: Sequence[tuple[str, str]],
                detail: bool) -> Iterator[dict[str, Any]]:
        t0 = time.perf_counter()
        masked = self._masked_question(question)
        turns = [(role, mask_pii(text).text) for role, text in history if text and text.strip()]
        previous = [t for r, t in turns if r == "user" and not DETAIL_ONLY.match(t)]
        if DETAIL_ONLY.match(masked) and previous:
            detail, standalone = True, previous[-1]     # "자세히" → the previous question, answered at length
        else:
            detail = detail or bool(_DETAIL.search(masked))
            standalone = self._condense(masked, turns) if turns else masked
            if standalone != masked and names_only_unknown_topics(masked, self.retriever):
                # a short new question on a topic the documents never mention ("김치찌개 끓이는 법") is not a
                # follow-up: completed with the previous question's words it was answered with that topic's law
                standalone = masked
        t1 = time.perf_counter()
        hits = self.retriever.search(standalone, k=self.settings.ask_top_k, mode=self.settings.search_mode, flt=flt)
        passages, term_sets = self._passages(hits, standalone)
        t2 = time.perf_counter()
        if passages:
            decision = decide(evidence(standalone, hits, term_sets, self.retriever, passages,
                                       flt), self.settings.gate_bias)
        else:
            decision = Decision(False, 0.0, Evidence(), "none")
        abstain = not decision.answer
        log.info("ask question=%r standalone=%r hits=%d p=%.2f model=%s abstain=%s", masked, standalone, len(hits),
                 decision.probability, decision.model, abstain)
        shown = passages[:REFERENCE_COUNT] if abstain else passages
        yield {"type": "citations", "citations": [p.citation_json() for p in shown], "abstained": abstain}
        report = None
        if abstain:
            text = ABSTAIN_TEXT
            cited = shown
            yield {"type": "token", "text": text}
        else:
            pieces = []
            request = GenerationRequest(task="answer", prompt="answer",
                                        variables={"question": standalone, "detail": "1" if detail else "",
                                                   "asks": question_kind(standalone).description},
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
            if text.startswith(ABSTAIN_TEXT):
                abstain, cited = True, passages[:REFERENCE_COUNT]
            else:
                text, cited = precise_citations(text, passages)
                cited = cited or passages
        t3 = time.perf_counter()
        answer = Answer(question=masked, standalone_question=standalone, answer=text, citations=cited,
                        abstained=abstain, decision=decision, report=report,
                        timings_ms={"prepare": (t1 - t0) * 1e3, "retrieve": (t2 - t1) * 1e3,
                                    "generate": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3})
        yield {"type": "done", "answer": text, "citations": [p.citation_json() for p in cited],
               "abstained": abstain, "_answer": answer}

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

    def _passages(self, hits: Sequence[Hit], question: str = "") -> tuple[list[Passage], list[set[str]]]:
        """Numbered passages and, for each, its content morphemes (stored in the index at ingest) and how
        close each of its chunks is to the question (the semantic layer, when filled)."""
        snapshot = getattr(self.retriever, "snapshot", None)
        built = [_passage(i, h, snapshot, self._chunk_scores(question, h)) for i, h in enumerate(hits, 1)]
        passages = [p for p, _ in built]
        missing = [i for i, (_, terms) in enumerate(built) if terms is None]
        analysed = content_terms_batch([f"{passages[i].title}\n{passages[i].text}" for i in missing])
        terms = [t for _, t in built]
        for i, ts in zip(missing, analysed, strict=True):
            terms[i] = set(ts)
        return passages, [t or set() for t in terms]


    def _chunk_scores(self, question: str, hit: Hit) -> dict[int, float]:
        """Semantic cosine of the question to each chunk (ordinal → score) of a hit; {} without vectors."""
        layer = getattr(self.retriever, "semantic", None)
        if layer is None or not question or not hit.positions:
            return {}
        sims = layer.similarities(self.retriever.semantic_text(question), hit.positions)
        return {o: s for o, s in zip(hit.ordinals, sims, strict=True) if s is not None}


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


def _passage(n: int, hit: Hit, snapshot: Any, chunk_scores: dict[int, float] | None = None,
             ) -> tuple[Passage, set[str] | None]:
    """A numbered passage from a hit: its chunks as segments (with their locations and closeness to the
    question), the 회답 of a 해석례."""
    segments: tuple[tuple[str, str], ...] = ()
    seg_locations: tuple[str, ...] = ()
    seg_scores: tuple[float, ...] = ()
    scores = chunk_scores or {}
    text, location, terms = hit.text, hit.location, None
    if snapshot is not None and hasattr(snapshot, "chunks_of") and hit.ordinals:
        chunks = snapshot.chunks_of(hit.doc_id, hit.ordinals)
        pairs = _trim_continuation(snapshot, hit, [(c.section or "", c.text, c.location, scores.get(c.ordinal, 0.0))
                                                   for c in chunks])
        segments = tuple((s, t) for s, t, _, _ in pairs)
        seg_locations = tuple(loc for _, _, loc, _ in pairs)
        seg_scores = tuple(sc for _, _, _, sc in pairs) if scores else ()
        terms = {t for ts in snapshot.chunk_terms(hit.doc_id, hit.ordinals) for t in ts}
        answer_chunk = snapshot.section_chunk(hit.doc_id, "회답")
        if answer_chunk is not None and answer_chunk[0].ordinal not in hit.ordinals:
            chunk, answer_terms = answer_chunk
            segments = (("회답", chunk.text),) + segments
            seg_locations = ("회답",) + seg_locations
            seg_scores = ((max(seg_scores),) + seg_scores) if seg_scores else ()
            terms |= set(answer_terms)
            text = f"{chunk.text}\n{text}"
            location = f"회답, {location}" if location else "회답"
    passage = Passage(n=n, doc_id=hit.doc_id, title=hit.title, source=hit.source, location=location, text=text,
                      score=hit.score, article=hit.article, page=hit.page, segments=segments,
                      segment_locations=seg_locations, segment_scores=seg_scores)
    return passage, terms


def _trim_continuation(snapshot: Any, hit: Hit,
                       pieces: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """Drop the head of a first chunk that continues a sentence cut at the previous chunk's end.

    The chunker cuts only a sentence longer than its chunk size, at a space, so the piece before the cut is
    the previous chunk's whole last line and at least half a chunk long (assistant.ingest.chunking); a
    sentence fragment is not answer material. A chunk that opens with an article, a 항, an item, a bullet or
    a table row starts something new, whatever the previous chunk ends with: an article after one that
    ends in an item ("4. 그 밖에 … 정보", no period) lost its first 항 — often the one that answers — when
    any previous chunk without a sentence end counted as cut.
    """
    first = min(hit.ordinals)
    if not pieces or first == 0 or _STRUCTURE_START.match(pieces[0][1]):
        return pieces
    prev = snapshot.chunks_of(hit.doc_id, [first - 1])
    if not prev or prev[0].section != pieces[0][0]:
        return pieces
    last_line = prev[0].text.rstrip().rsplit("\n", 1)[-1]
    if len(last_line) < CUT_PIECE_MIN_CHARS or last_line[-1:] in (".", "?", "!", ")", "」", "다", ">", "]"):
        return pieces
    section, text, loc, score = pieces[0]
    cut = _SENTENCE_END.search(text)
    rest = text[cut.end():].lstrip() if cut else ""
    return ([(section, rest, loc, score)] if rest else []) + pieces[1:]
