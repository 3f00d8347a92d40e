"""Answer evaluation through the real ``assistant.tasks.ask.AskService`` (retriever + generator + citations).

Per question: did it abstain; for answerable questions the conclusion polarity (법제처 회답: 할 수 있다/없다,
해당한다/않는다), morpheme token F1 against the reference, citation precision/recall against the gold
passages, groundedness (share of answer sentences whose cited passages contain most of their content
morphemes) and law citations in the answer that no cited passage supports. When ``AskService`` cannot be
imported the caller records a note instead of numbers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.korean.sentences import display_sentences, first_sentence
from assistant.korean.statute import labels_in
from eval.corpora import CorpusSpec
from eval.metrics import conclusion_polarity, groundedness, token_f1
from eval.retrieval import gold_passages
from eval.textmatch import article_labels, passage_relevant

_CITE = re.compile(r"\[(\d+)\]")


def ask_service_class() -> Any | None:
    try:
        from assistant.tasks.ask import AskService
    except ImportError:
        return None
    return AskService


@dataclass
class AnswerRun:
    id: str
    set: str
    split: str
    answerable: bool
    abstained: bool
    metrics: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    answer: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "set": self.set, "split": self.split, "answerable": self.answerable,
                "abstained": self.abstained, **{k: (round(v, 4) if v == v else None) for k, v in self.metrics.items()},
                "latency_ms": round(self.latency_ms, 1), "answer": self.answer[:600]}


def split_sentences(text: str) -> list[str]:
    return [s for s in display_sentences(text) if len(s) >= 2]


def sentence_support(answer: str, passages: dict[int, str], terms: Callable[[Sequence[str]], list[list[str]]],
                     threshold: float = 0.5) -> float:
    """Groundedness of an answer: each sentence against the passages it cites (uncited = unsupported;
    a sentence that only carries a citation marker attaches to the sentence before it)."""
    pairs: list[tuple[str, list[int]]] = []
    for s in split_sentences(answer):
        cited = [int(n) for n in _CITE.findall(s)]
        body = _CITE.sub("", s).strip(" .")
        if not body and pairs:
            pairs[-1][1].extend(cited)
            continue
        if body:
            pairs.append((body, cited))
    if not pairs:
        return float("nan")
    bodies = terms([b for b, _ in pairs])
    cited_texts = terms([" ".join(passages.get(n, "") for n in c) for _, c in pairs])
    return groundedness([(b, c if cited else []) for b, c, (_, cited) in zip(bodies, cited_texts, pairs, strict=True)],
                        threshold)


def unsupported_law_citations(answer: str, cited_texts: Sequence[str]) -> int:
    """Article numbers (제N조) in the answer that appear in none of the cited passages."""
    available = set()
    for t in cited_texts:
        available |= article_labels(t)
    return sum(1 for label in labels_in(answer or "") if label not in available)


def score_answer(row: dict[str, Any], ans: Any, spec: CorpusSpec,
                 terms: Callable[[Sequence[str]], list[list[str]]]) -> dict[str, float]:
    nan = float("nan")
    out: dict[str, float] = {}
    citations = list(getattr(ans, "citations", []) or [])
    if ans.abstained or not row.get("answerable", True):
        return out
    golds = gold_passages(row)
    rel = [any(passage_relevant(g, spec.gold_name(p.source) or p.source, p.location or "", p.text) for g in golds)
           for p in citations]
    out["citation_precision"] = sum(rel) / len(rel) if rel else nan
    found = any(passage_relevant(g, spec.gold_name(p.source) or p.source, p.location or "", p.text)
                for g in golds for p in citations)
    out["citation_recall"] = 1.0 if found else 0.0
    passages = {p.n: p.text for p in citations}
    out["groundedness"] = sentence_support(ans.answer, passages, terms)
    out["unsupported_law_citations"] = float(unsupported_law_citations(ans.answer, [p.text for p in citations]))
    lead = row.get("lead") or []
    if lead:
        from eval.gold.people import lead_found

        out["answer_first"] = 1.0 if lead_found(lead, first_sentence(ans.answer)) else 0.0
        out["lead_anywhere"] = 1.0 if lead_found(lead, ans.answer) else 0.0
    reference = row.get("reference") or ""
    if reference:
        pred, ref = terms([_CITE.sub("", ans.answer), reference])
        out["token_f1"] = token_f1(pred, ref)
    gold_pol = row.get("polarity")
    if gold_pol in ("positive", "negative"):
        pol = conclusion_polarity(_CITE.sub("", ans.answer))
        out["conclusion_stated"] = 1.0 if pol in ("positive", "negative") else 0.0
        out["conclusion_accuracy"] = 1.0 if pol == gold_pol else 0.0
    return out


def run_answers(service: Any, spec: CorpusSpec, rows: Sequence[dict[str, Any]],
                terms: Callable[[Sequence[str]], list[list[str]]],
                progress: Callable[[int, int], None] | None = None, judge: Any = None) -> list[AnswerRun]:
    """Every question through ``service.ask``; ``judge`` (eval.judge.Judge) adds ``judge_agreement``."""
    runs = []
    for i, row in enumerate(rows, 1):
        t0 = time.perf_counter()
        ans = service.ask(row["question"])
        latency = (time.perf_counter() - t0) * 1000
        metrics = score_answer(row, ans, spec, terms)
        if row.get("lead") and ans.abstained and row.get("answerable", True):
            metrics["answer_first"] = 0.0     # a declined answerable question does not lead with its fact
            metrics["lead_anywhere"] = 0.0
        decision = getattr(ans, "decision", None)
        if decision is not None and decision.model != "none":
            p = min(max(decision.probability, 1e-6), 1 - 1e-6)
            t = _threshold(decision.model)
            metrics["gate_logit"] = math.log(p / (1 - p)) - math.log(t / (1 - t))
        if judge is not None and metrics and row.get("reference"):
            metrics["judge_agreement"] = judge.verdict(row["question"], row["reference"], _CITE.sub("", ans.answer))
        runs.append(AnswerRun(row["id"], row["set"], row["split"], bool(row.get("answerable", True)),
                              bool(ans.abstained), metrics, latency, ans.answer))
        if progress:
            progress(i, len(rows))
    return runs


def _threshold(model: str) -> float:
    from assistant.tasks.gate import load_models

    return load_models()[model].threshold


def make_service(settings: Any) -> Any:
    """AskService over the cached index with the configured generator (extractive by default)."""
    from assistant.generate.factory import make_generator
    from assistant.retrieve.search import open_retriever

    cls = ask_service_class()
    if cls is None:
        raise ImportError("assistant.tasks.ask.AskService")
    return cls(open_retriever(settings, settings.index_name), make_generator(settings), settings)
