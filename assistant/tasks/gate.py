"""Answerability: do the retrieved passages answer the question, or do the documents not say?

One calibrated decision instead of a lexical threshold. Evidence from retrieval is combined by a logistic
model fitted on the evaluation's dev split (``python -m eval.fit_gate``; coefficients, the operating point
and the data they came from in ``gate_model.json`` beside this module) and judged on held-out questions:

- ``coverage``: the best top-3 passage's IDF-weighted share of the question's content morphemes (the core
  question only; typos tolerated by jamo similarity);
- ``coverage_official``: the same, counting the official words the question's everyday wording stands for
  (assistant.korean.lexicon: 며칠 → 기간·이내) at reduced weight;
- ``semantic``: e5 cosine of the question to the best top-3 passage (the semantic layer; absent until its
  vectors are filled, and then the lexical model decides);
- ``bm25``: the top BM25 score relative to the question's total IDF (how much of the question one passage
  matches, on BM25's scale);
- ``agreement``: the top passage is among the first five of both the BM25 and the semantic ranking;
- ``unknown``: the IDF-weighted share of the question's topic words the index has never seen;
- ``best_unit``: how much of the question the best single sentence or statute item covers (the answer
  composer's scoring, assistant.generate.compose) — a passage on the right topic may still lack the fact;
- ``fact``: the same for the best unit that states the kind of fact asked (an amount for "얼마", a period
  for "며칠"); a question about a fee whose passages state no amount scores low;
- ``numbers``: the share of the question's numbers (years, amounts, counts) found in the top passages —
  "2024년 부모급여" is not answered by the 2023 figures.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.korean.lexicon import EXPANSION_WEIGHT, official_terms
from assistant.korean.morph import STOP_TERMS, TOPIC_TAGS, content_terms, is_content, kiwi, term_of
from assistant.korean.scoring import best_typo_match, idf
from assistant.types import Hit

MODEL_FILE = Path(__file__).with_name("gate_model.json")
#: passages whose evidence decides
EVIDENCE_DEPTH = 3
#: questions longer than this are reduced to their core question (:func:`core_question`)
CORE_MAX_CHARS = 80
#: weight of a light (non-topic) term relative to the top IDF
LIGHT_WEIGHT = 0.2
_PAREN = re.compile(r"\([^()]*(?:\([^()]*\)[^()]*)*\)")
_PARAGRAPH = re.compile(r"\n\s*\n|있는바\s*,|\?\s+")

FEATURES = ("coverage", "coverage_official", "semantic", "bm25", "agreement", "unknown", "best_unit", "fact",
            "numbers")
LEXICAL_FEATURES = ("coverage", "coverage_official", "bm25", "unknown", "best_unit", "fact", "numbers")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Evidence:
    coverage: float = 0.0
    coverage_official: float = 0.0
    semantic: float | None = None
    bm25: float = 0.0
    agreement: float = 0.0
    unknown: float = 0.0
    best_unit: float = 0.0
    fact: float = 0.0
    numbers: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class GateTerm:
    """One question term as the gate weighs it."""

    form: str
    weight: float
    topic: bool          # a noun-like term (names the topic) rather than a verb, adverb or number
    known: bool = True   # the index has the term


@dataclass(frozen=True)
class Decision:
    answer: bool
    probability: float
    evidence: Evidence
    model: str           # "semantic" | "lexical" | "none"


# ---------------------------------------------------------------- evidence


def core_question(question: str, max_chars: int = CORE_MAX_CHARS) -> str:
    """The part of a long question that asks something.

    법제처 질의요지 run to 1,000+ characters of quoted statute ("…라고 규정하고 있는바,") before the actual
    question, usually the last paragraph ending in "…지?". The gate reads only that last part:
    parentheticals dropped, the last paragraph kept, at most ``max_chars`` characters from its end.
    """
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


def gate_terms(question: str, df: dict[str, int] | None, n_docs: int) -> list[GateTerm]:
    """The core question's content morphemes with weights: IDF over the index for topic terms (a rare term
    decides, a common one — 법, 지원, 신청 — hardly matters); verbs, adverbs and numbers weigh
    :data:`LIGHT_WEIGHT` of the top IDF; a topic term the index has never seen weighs like a once-seen one.
    """
    top_idf = idf(1, n_docs) if df is not None else 1.0
    out: dict[str, GateTerm] = {}
    for tok in kiwi().tokenize(unicodedata.normalize("NFC", core_question(question))):
        if not is_content(tok.tag):
            continue
        form = term_of(tok.form, tok.tag)
        if form in STOP_TERMS or form in out:
            continue
        topic = tok.tag.startswith(TOPIC_TAGS) and len(form) >= 2   # one syllable (애, 집, 안) is ambiguous
        n = df.get(form, 0) if df is not None else 1
        if not topic:
            weight = LIGHT_WEIGHT * top_idf
        elif df is None:
            weight = 1.0
        else:
            weight = idf(n, n_docs) if n else top_idf
        out[form] = GateTerm(form, weight, topic, known=n > 0)
    return list(out.values())


def names_only_unknown_topics(question: str, retriever: Any) -> bool:
    """True when the question names topic words and the index has never seen any of them ("김치찌개 끓이는
    법"): nothing in the documents is about what is asked."""
    snapshot = getattr(retriever, "snapshot", None)
    if snapshot is None or not hasattr(snapshot, "term_df"):
        return False
    df, n_docs = snapshot.term_df()
    topics = [t for t in gate_terms(question, df, n_docs) if t.topic]
    return bool(topics) and not any(t.known for t in topics)


def weighted_coverage(terms: Sequence[GateTerm], passage_terms: Sequence[set[str]],
                      extra: dict[str, float] | None = None) -> float:
    """The best single passage's weighted share of the question's terms (a likely typo counts by its
    similarity); ``extra`` adds official terms with their own weights to both sides of the share."""
    weights = {t.form: t.weight for t in terms}
    for form, w in (extra or {}).items():
        weights.setdefault(form, w)
    total = sum(weights.values())
    if not total or not passage_terms:
        return 0.0
    best = 0.0
    for seen in passage_terms:
        got = sum(w * (1.0 if form in seen else best_typo_match(form, seen)) for form, w in weights.items())
        best = max(best, got / total)
    return best


def evidence(question: str, hits: Sequence[Hit], passage_terms: Sequence[set[str]], retriever: Any,
             passages: Sequence[Any] = (), flt: Any = None) -> Evidence:
    """The gate's evidence for one question and its retrieved passages (best first).

    ``flt`` is the user's access filter: the rankings the evidence compares are computed within it, so
    documents a user may not see cannot sway whether that user gets an answer.
    """
    ev = Evidence()
    snapshot = getattr(retriever, "snapshot", None)
    mask = None
    if flt is not None and snapshot is not None:
        from assistant.retrieve.filters import position_mask

        mask = position_mask(snapshot, flt)
    if passages:
        _answer_evidence(ev, question, passages)
    df, n_docs = snapshot.term_df() if snapshot is not None and hasattr(snapshot, "term_df") else (None, 0)
    terms = gate_terms(question, df, n_docs)
    top = list(passage_terms[:EVIDENCE_DEPTH])
    ev.coverage = weighted_coverage(terms, top)
    have = {t.form for t in terms}
    official = {t: EXPANSION_WEIGHT * (idf(df.get(t, 0), n_docs) if df else 1.0)
                for t in dict.fromkeys(content_terms(" ".join(official_terms(question))))
                if t not in have and t not in STOP_TERMS}
    ev.coverage_official = weighted_coverage(terms, top, official) if official else ev.coverage
    topic_total = sum(t.weight for t in terms if t.topic)
    ev.unknown = sum(t.weight for t in terms if t.topic and not t.known) / topic_total if topic_total else 0.0
    if df:
        # BM25 counts every term at its full IDF, light ones included: normalise on the same scale
        top_idf = idf(1, n_docs)
        q_idf = sum(idf(df[t.form], n_docs) if t.known else top_idf for t in terms)
        sparse = retriever.sparse(question, 5, mask) if hasattr(retriever, "sparse") else []
        ev.bm25 = (sparse[0][1] / q_idf) if sparse and q_idf else 0.0
    else:
        sparse = []
    layer = getattr(retriever, "semantic", None)
    if layer is not None and hits:
        text = retriever.semantic_text(question)
        sims = [s for h in hits[:EVIDENCE_DEPTH] for s in layer.similarities(text, h.positions) if s is not None]
        if sims:
            ev.semantic = max(sims)
            dense_top = {p for p, _ in layer.search(text, 5, mask)}
            sparse_top = {p for p, _ in sparse[:5]}
            first = set(hits[0].positions)
            ev.agreement = 1.0 if first & dense_top and first & sparse_top else 0.0
    return ev


def _answer_evidence(ev: Evidence, question: str, passages: Sequence[Any]) -> None:
    from assistant.generate.compose import score_units
    from assistant.korean.questions import question_kind, states

    top = list(passages[:EVIDENCE_DEPTH])
    scored = score_units(question, top)
    ev.best_unit = max((s.coverage for s in scored), default=0.0)
    kind = question_kind(question).kind
    if kind in ("기타", "가능여부", "방법", "정의"):
        ev.fact = ev.best_unit
    else:
        ev.fact = max((s.coverage for s in scored if states(kind, s.unit.text)
                       or any(states(kind, it.text) for it in (s.unit.parent or s.unit).items)), default=0.0)
    numbers = [n for n in _NUMBER.findall(core_question(question)) if n not in ("1", "2", "3")]
    if numbers:
        text = "".join(" ".join(p.text.split()) for p in top)
        found = sum(1 for n in numbers if n in text or (len(n) == 2 and f"20{n}" in text))
        ev.numbers = found / len(numbers)


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float          # probability at or above which the question is answered

    def probability(self, ev: Evidence) -> float:
        z = self.intercept
        for name, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            value = getattr(ev, name)
            z += c * ((float(value) if value is not None else m) - m) / (s or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LogisticModel:
        return cls(tuple(d["features"]), tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]),
                   float(d["intercept"]), float(d["threshold"]))


@lru_cache(maxsize=4)
def load_models(path: str = str(MODEL_FILE)) -> dict[str, LogisticModel]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: LogisticModel.from_json(d) for name, d in data["models"].items()}


def decide(ev: Evidence, bias: float = 0.0, models: dict[str, LogisticModel] | None = None) -> Decision:
    """Answer or decline. ``bias`` shifts the operating point in log-odds (positive: answer more often)."""
    models = models if models is not None else load_models()
    name = "semantic" if ev.semantic is not None and "semantic" in models else "lexical"
    model = models[name]
    p = model.probability(ev)
    if name == "lexical" and ev.unknown >= 0.999 and bias <= 0:
        # no semantic evidence, and not one of the question's topic words occurs in the index: nothing to
        # answer from (on the dev split no answerable question looked like this)
        return Decision(False, p, ev, name)
    logit_p = math.log(max(p, 1e-9) / max(1 - p, 1e-9)) + bias
    logit_t = math.log(max(model.threshold, 1e-9) / max(1 - model.threshold, 1e-9))
    return Decision(logit_p >= logit_t, p, ev, name)
