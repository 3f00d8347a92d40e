"""The fast evaluation subset that runs in ``make test``, and its regression thresholds.

The subset: dev questions over the five statutes (민원처리법, 시행령, 행정절차법, 정보공개법, 전자정부법) —
small enough to index and search in well under a minute on 2 cores. Thresholds were set from measured
results of the default configuration on this subset (see eval/README.md) minus a margin for small
changes; a retriever that ranks at random, or one that only has the model-free char-ngram vectors, falls
far below them — ``tests/integration/test_eval_ci.py`` checks both directions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eval.corpora import CorpusSpec
from eval.retrieval import QuestionRun, run_questions

CI_SETS = ("korean-laws-minwon", "korean-laws-admin")
CI_CORPUS = "statutes"
#: minimum mean over the CI subset (answerable dev questions); measured values are in eval/README.md
CI_THRESHOLDS = {"recall@5": 0.90, "recall@1": 0.80, "mrr@10": 0.85}


def means(runs: Sequence[QuestionRun]) -> dict[str, float]:
    keys = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    return {k: float(np.mean([r.metrics[k] for r in runs])) if runs else 0.0 for k in keys}


def check(metrics: dict[str, float], thresholds: dict[str, float] = CI_THRESHOLDS) -> list[str]:
    """Threshold violations, in Korean ("" list = pass)."""
    return [f"{name} {metrics.get(name, 0.0):.3f} < 기준 {minimum:.2f}"
            for name, minimum in thresholds.items() if metrics.get(name, 0.0) < minimum]


@dataclass
class RandomRanker:
    """A deliberately broken retriever: the snapshot's chunks in a random order (seeded).

    It returns real hits from the real index, so it exercises the same scoring path; only the ranking
    is destroyed. Used to prove that the CI thresholds catch a broken retriever.
    """

    retriever: Any
    seed: int = 7

    def search(self, query: str, k: int = 5, mode: str = "hybrid", flt: Any = None) -> list[Any]:
        snap = self.retriever.snapshot
        seed = int(hashlib.sha1(f"{self.seed}:{query}".encode()).hexdigest()[:8], 16)
        picks = np.random.default_rng(seed).choice(snap.size, size=min(k, snap.size), replace=False)
        rows = snap.chunk_rows([int(p) for p in picks])
        return [_Row(rows[int(p)]["source"], rows[int(p)]["location"], rows[int(p)]["section"], rows[int(p)]["text"])
                for p in picks]


@dataclass
class _Row:
    source: str
    location: str
    section: str
    text: str


def run_subset(backend: Any, spec: CorpusSpec, rows: Sequence[dict[str, Any]],
               mode: str = "hybrid") -> dict[str, float]:
    return means(run_questions(backend, spec, rows, [mode]))


def main() -> int:
    """Print the CI check for the default configuration and for deliberately degraded ones."""
    import sys
    from pathlib import Path

    from assistant.retrieve.search import open_retriever
    from eval.baseline import NaiveBM25, baseline_retrieved
    from eval.corpora import corpus_spec, default_corpus_root
    from eval.evalconfig import load_config
    from eval.retrieval import ensure_index
    from eval.runner import load_gold

    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("eval/reports/.cache")
    spec = corpus_spec(CI_CORPUS, default_corpus_root(), work / "derived")
    rows = load_gold(list(CI_SETS), "dev")

    def retriever(config: str) -> Any:
        info = ensure_index(load_config(config).make_settings(), spec, work, log=lambda _m: None)
        return open_retriever(info.settings, info.settings.index_name)

    default = retriever("default")
    cases = [("default · hybrid", lambda: run_subset(default, spec, rows, "hybrid")),
             ("random ranking (broken)", lambda: run_subset(RandomRanker(default), spec, rows)),
             ("char-ngram · dense", lambda: run_subset(retriever("char-ngram"), spec, rows, "dense")),
             ("baseline-naive", lambda: means(run_questions(NaiveBM25(spec), spec, rows, ["bm25"],
                                                            convert=baseline_retrieved)))]
    print(f"CI subset: {sum(r['answerable'] for r in rows)} answerable dev questions; thresholds {CI_THRESHOLDS}")
    print("| configuration | recall@1 | recall@5 | recall@10 | mrr@10 | CI check |")
    print("|---|---|---|---|---|---|")
    for name, fn in cases:
        m = fn()
        failures = check(m)
        verdict = "pass" if not failures else "FAIL: " + "; ".join(failures)
        figures = " | ".join(f"{m[k]:.3f}" for k in ("recall@1", "recall@5", "recall@10", "mrr@10"))
        print(f"| {name} | {figures} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
