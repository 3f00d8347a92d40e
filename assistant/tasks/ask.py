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
import math
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
from assistant.generate.extractive import ABSTAIN_TEXT, STOP_TERMS, question_terms
from assistant.index.morph import content_terms_batch, kiwi
from assistant.retrieve.filters import SearchFilter
from assistant.tasks.pii import mask_pii
from assistant.types import Hit

log = logging.getLogger("assistant.ask")

#: passages whose coverage of the question decides whether to answer
EVIDENCE_DEPTH = 3
#: how many of the closest passages an abstention shows for reference
REFERENCE_COUNT = 3
_SENTENCE_END = re.compile(r"[.?!]\s|다\.\s*|\n")
#: questions longer than this are reduced to their core question (:func:`core_question`) for the gate
CORE_MAX_CHARS = 80
_PAREN = re.compile(r"\([^()]*(?:\([^()]*\)[^()]*)*\)")
_PARAGRAPH = re.compile(r"\n\s*\n|있는바\s*,|\?\s+")
#: content tags that name the topic (nouns, roots, foreign words, hanja); the rest (verbs, adverbs,
#: numbers, pronouns) are light: "나오다", "얼마나", "1" say little about whether a passage fits
_TOPIC_TAGS = ("NNG", "NNP", "XR", "SL", "SH")
_CONTENT_TAGS = ("NNG", "NNP", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "MAG")
#: weight of a light (non-topic) term, and of a topic term the index has never seen, relative to IDF
LIGHT_WEIGHT = 0.2
OOV_FACTOR = 1.0
#: power applied to IDF (below 1 damps it); 1.0 was best on the dev split
IDF_POWER = 1.0
#: jamo-bigram Dice above which a question term not found exactly counts as a typo of a passage term
TYPO_MIN_SIMILARITY = 0.7


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
        coverage = self._coverage(standalone, term_sets[:EVIDENCE_DEPTH])  # see weighted_coverage
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

    def _coverage(self, question: str, term_sets: Sequence[set[str]]) -> float:
        df, n_docs = index_df(self.retriever)
        return weighted_coverage(gate_terms(question, df, n_docs, self.settings.threads), term_sets)

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


KEY_MISSING_FACTOR = 1.0  # 1.0 = key-term check off: on the dev split every factor below 1 only added false declines


@dataclass(frozen=True)
class GateTerm:
    """One question term as the abstention gate weighs it."""

    form: str
    weight: float
    topic: bool          # a noun-like term (names the topic) rather than a verb, adverb or number
    known: bool = True   # the index has the term (so it can serve as the key term)


def core_question(question: str, max_chars: int | None = None) -> str:
    """The part of a long question that asks something.

    법제처 질의요지 run to 1,000+ characters of quoted statute ("…라고 규정하고 있는바,") before the actual
    question, usually the last paragraph ending in "…지?". Every quoted term the passages lack would count
    against coverage, so the gate reads only that last part: parentheticals (각주, 이하 "…"이라 함) dropped,
    the last paragraph kept, and at most ``max_chars`` characters from its end.
    """
    max_chars = max_chars or CORE_MAX_CHARS
    q = " ".join(question.split(" "))
    if len(q) <= max_chars:
        return q
    q = _PAREN.sub(" ", q)
    parts = [p.strip() for p in _PARAGRAPH.split(q) if len(p.strip()) >= 10]
    core = parts[-1] if parts else q.strip()
    if len(core) > max_chars:
        core = core[-max_chars:]
        core = core.split(" ", 1)[1] if " " in core else core
    return core.strip()


def gate_terms(question: str, df: dict[str, int] | None, n_docs: int, threads: int = 2) -> list[GateTerm]:
    """The question's content morphemes with weights: IDF over the index for topic terms, so a rare term
    (청년내일채움, 층간소음) decides and a common one (법, 지원, 신청) hardly matters; verbs, adverbs and
    numbers weigh :data:`LIGHT_WEIGHT`; a topic term the index has never seen weighs :data:`OOV_FACTOR` of a
    once-seen term (it may be a typo or colloquial word, or the very thing the corpus lacks).
    Without index statistics (``df`` None) every topic term weighs 1.
    """
    top_idf = _idf(1, n_docs) ** IDF_POWER if df is not None else 1.0
    out: dict[str, GateTerm] = {}
    for tok in kiwi(threads).tokenize(unicodedata.normalize("NFC", core_question(question))):
        tag = tok.tag
        if not tag.startswith(_CONTENT_TAGS):
            continue
        form = tok.form.lower() if tag == "SL" else tok.form
        if tag.startswith(("VV", "VA")):
            form += "다"
        if form in STOP_TERMS or form in out:
            continue
        topic = tag.startswith(_TOPIC_TAGS) and len(form) >= 2   # one syllable (애, 집, 안) is ambiguous
        n = df.get(form, 0) if df is not None else 1
        if not topic:
            weight = LIGHT_WEIGHT * top_idf
        elif df is None:
            weight = 1.0
        else:
            weight = (_idf(n, n_docs) if n else OOV_FACTOR * top_idf) ** IDF_POWER
        out[form] = GateTerm(form, weight, topic, known=n > 0)
    return list(out.values())


def _idf(df: int, n_docs: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def weighted_coverage(terms: Sequence[GateTerm], passage_terms: Sequence[set[str]]) -> float:
    """The abstention signal: the best single passage's IDF-weighted share of the question's terms.

    A term not found exactly counts by its similarity to the closest passage term when that is a likely
    typo (:func:`typo_similarity` ≥ :data:`TYPO_MIN_SIMILARITY`: 기쥰/기준). The key term — the rarest
    topic term of two or more syllables that the index knows — must be in the passage; without it the passage's share is multiplied by
    :data:`KEY_MISSING_FACTOR`: "여권 재발급 수수료" is not answered by a clause on some other 수수료.
    """
    if not terms or not passage_terms:
        return 0.0
    total = sum(t.weight for t in terms)
    key = _key_term(terms)
    best = 0.0
    for seen in passage_terms:
        got, key_found = 0.0, key is None
        for t in terms:
            match = 1.0 if t.form in seen else _typo_match(t.form, seen)
            got += t.weight * match
            if t is key and match > 0:
                key_found = True
        share = got / total if total else 0.0
        best = max(best, share if key_found else share * KEY_MISSING_FACTOR)
    return best


def _key_term(terms: Sequence[GateTerm]) -> GateTerm | None:
    known = [t for t in terms if t.topic and t.known and len(t.form) >= 2]
    return max(known, key=lambda t: t.weight) if known else None


def _typo_match(term: str, seen: set[str]) -> float:
    if len(term) < 2:
        return 0.0
    best = 0.0
    for other in seen:
        if len(other) >= 2 and abs(len(other) - len(term)) <= 1:
            best = max(best, typo_similarity(term, other))
    return best if best >= TYPO_MIN_SIMILARITY else 0.0


def typo_similarity(a: str, b: str) -> float:
    """Dice coefficient of the two words' jamo bigrams: 기쥰/기준 differ by one vowel and score high,
    which syllable bigrams cannot see (two-syllable words share no syllable bigram after one typo)."""
    ja, jb = _bigrams(_jamo(a)), _bigrams(_jamo(b))
    return 2 * len(ja & jb) / (len(ja) + len(jb)) if ja and jb else 0.0


def _jamo(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out += [chr(0x1100 + code // 588), chr(0x1161 + (code % 588) // 28)]
            if code % 28:
                out.append(chr(0x11A7 + code % 28))
        else:
            out.append(ch)
    return "".join(out)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def index_df(retriever: object) -> tuple[dict[str, int] | None, int]:
    """Document frequency of every indexed morpheme (from the BM25 matrix) and the number of chunks,
    cached on the snapshot; (None, 0) for a backend without one."""
    snapshot = getattr(retriever, "snapshot", None)
    bm25 = getattr(snapshot, "bm25", None)
    if snapshot is None or bm25 is None:
        return None, 0
    cached = getattr(snapshot, "_gate_df", None)
    if cached is None:
        indptr = bm25.scores["indptr"]
        last = len(indptr) - 1
        df = {t: int(indptr[i + 1] - indptr[i]) if i < last else 0 for t, i in snapshot.vocab.items()}
        cached = (df, int(bm25.scores["num_docs"]))
        snapshot._gate_df = cached
    return cached


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
