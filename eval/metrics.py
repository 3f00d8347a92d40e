"""Pure metric functions: ranking metrics, bootstrap intervals, conclusion polarity, token F1, groundedness.

Nothing here reads settings, files or models; callers pass lists and strings in. Hand-computed values for
each function are in ``tests/unit/test_eval_metrics.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

# ---------------------------------------------------------------- ranking


def recall_at_k(hit_gold: Sequence[set[int]], n_gold: int, k: int, match: str = "any") -> float:
    """``hit_gold[i]`` = gold indices the i-th result is relevant to.

    match="any": 1.0 when any gold passage appears in the top k (the question is answered by any of
    them — alternatives); match="all": share of the gold passages found in the top k.
    """
    if n_gold <= 0:
        return 0.0
    found: set[int] = set().union(*hit_gold[:k]) if hit_gold[:k] else set()
    if match == "all":
        return len(found) / n_gold
    return 1.0 if found else 0.0


def mrr_at_k(hit_gold: Sequence[set[int]], k: int = 10) -> float:
    for rank, g in enumerate(hit_gold[:k], 1):
        if g:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(hit_gold: Sequence[set[int]], n_gold: int, k: int = 10, match: str = "any") -> float:
    """Binary-relevance nDCG. The ideal list holds as many relevant results as there can be: the number
    of gold passages for match="all", one for "any" — or more, when more relevant results were actually
    retrieved (several chunks of the gold document), so the score never exceeds 1."""
    rels = [1.0 if g else 0.0 for g in hit_gold[:k]]
    dcg = sum(r / math.log2(i + 2) for i, r in enumerate(rels))
    if dcg == 0:
        return 0.0
    ideal_n = max(n_gold if match == "all" else 1, int(sum(rels)))
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(ideal_n, k)))
    return dcg / idcg


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


# ---------------------------------------------------------------- bootstrap


def bootstrap_ci(values: Sequence[float] | np.ndarray, stat: Callable[[np.ndarray], float] = np.mean, n: int = 2000,
                 alpha: float = 0.05, seed: int = 13) -> tuple[float, float, float]:
    """(point estimate, low, high) with a percentile bootstrap over questions.

    Small gold sets are noisy: the interval says how much a figure could move with other questions of
    the same kind. A fixed seed keeps reports reproducible.
    """
    arr = np.asarray(values, dtype=float)
    if len(arr) == 0:
        return float("nan"), float("nan"), float("nan")
    point = float(stat(arr))
    if len(arr) == 1:
        return point, point, point
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n, len(arr)))
    if stat is np.mean:
        samples = arr[idx].mean(axis=1)
    else:  # any statistic of the resampled rows (e.g. Spearman over (x, y) pairs)
        samples = np.array([stat(arr[i]) for i in idx])
    lo, hi = np.percentile(samples, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return point, float(lo), float(hi)


# ---------------------------------------------------------------- conclusions (법제처 회답)

_NEG = re.compile(r"없|않|아니|아닙|못하|못한|불가")
_SENT_END = re.compile(r"(?<=[다요음])[.!]?\s+|\n+")
_PART_HEAD = re.compile(r"^\s*[가-하]\.\s*질의\s*[가-하]?\S*\s*(에\s*대해|관련)?\s*$")


def _tail_polarity(sentence: str, words: int = 4) -> str | None:
    """Polarity of one concluding sentence from its last few words, where Korean puts the verdict.

    Negations are counted in the tail only, so "…규정되어 있지 않은 서류를 요구할 수 있는 것은 아닙니다" reads
    as one negation (negative) and "…할 수 없는 것은 아닙니다" as two (positive).
    """
    s = sentence.strip().rstrip(".")
    # a verdict addressed to the asker is polite ("…할 수 있습니다", "…해요"); statute text quoted as-is
    # ("…위원회를 둔다") is not a conclusion and must not count as one
    if not re.search(r"(니다|해요|어요|아요|예요|에요)$", s):
        return None
    tail = " ".join(s.split()[-words:])
    negations = len(_NEG.findall(tail))
    return "negative" if negations % 2 else "positive"


def conclusion_polarity(text: str) -> str | None:
    """"positive" (할 수 있다 / 해당한다 …), "negative" (할 수 없다 / 해당하지 않는다 …), "mixed" for a
    multi-part answer with both, or None when no concluding sentence is found.

    The first sentence that states a verdict counts; for answers in parts (가. 질의 가에 대해 …) the first
    verdict of each part counts.
    """
    if not text or not text.strip():
        return None
    parts = re.split(r"\n\s*(?=[가-하]\.\s*질의)", text.strip())
    verdicts = []
    for part in parts:
        lines = [ln for ln in part.splitlines() if ln.strip() and not _PART_HEAD.match(ln)]
        for sentence in _SENT_END.split(" ".join(lines)):
            pol = _tail_polarity(sentence)
            if pol:
                verdicts.append(pol)
                break
    if not verdicts:
        return None
    return verdicts[0] if len(set(verdicts)) == 1 else "mixed"


# ---------------------------------------------------------------- token overlap


def token_f1(prediction: Sequence[str], reference: Sequence[str]) -> float:
    """SQuAD-style F1 over token multisets (callers pass Kiwi morphemes)."""
    if not prediction or not reference:
        return 0.0
    common = Counter(prediction) & Counter(reference)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction)
    recall = same / len(reference)
    return 2 * precision * recall / (precision + recall)


def supported(sentence_terms: Sequence[str], passage_terms: Sequence[str], threshold: float = 0.5) -> bool:
    """A sentence is supported when at least ``threshold`` of its distinct content morphemes occur in the
    passages it cites (a cheap, model-free groundedness check)."""
    s = set(sentence_terms)
    if not s:
        return True
    return len(s & set(passage_terms)) / len(s) >= threshold


def groundedness(sentences: Sequence[tuple[Sequence[str], Sequence[str]]], threshold: float = 0.5) -> float:
    """Share of answer sentences supported by their cited passages: [(sentence terms, cited terms)]."""
    if not sentences:
        return float("nan")
    return sum(supported(s, p, threshold) for s, p in sentences) / len(sentences)


def precision_recall(predicted: set[str], gold: set[str]) -> tuple[float, float]:
    """Citation precision / recall over sets of source identifiers; NaN where undefined."""
    p = len(predicted & gold) / len(predicted) if predicted else float("nan")
    r = len(predicted & gold) / len(gold) if gold else float("nan")
    return p, r


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation with average ranks for ties (no scipy needed)."""
    a, b = _ranks(np.asarray(x, dtype=float)), _ranks(np.asarray(y, dtype=float))
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v), dtype=float)
    ranks[order] = np.arange(1, len(v) + 1)
    for value in np.unique(v):
        same = v == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return ranks
