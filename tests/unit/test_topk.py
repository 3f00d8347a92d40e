"""top_n must return exactly what a full sort returns, whichever way its sampled threshold falls."""

import numpy as np
import pytest

from assistant.index.topk import SMALL, top_n


def _expected(scores: np.ndarray, n: int, floor: float | None) -> list[int]:
    idx = np.arange(len(scores)) if floor is None else np.flatnonzero(scores > floor)
    order = np.lexsort((idx, -scores[idx]))
    return idx[order][:n].tolist()


@pytest.mark.parametrize("size", [10, SMALL + 1, 300_000])
@pytest.mark.parametrize("shape", ["uniform", "mostly_zero", "ties", "few_positive", "negative"])
def test_top_n_equals_a_full_sort(size, shape):
    rng = np.random.default_rng(size)
    if shape == "uniform":
        scores = rng.random(size, dtype=np.float32)
    elif shape == "mostly_zero":     # a BM25 score array: most chunks match no query term
        scores = np.where(rng.random(size) < 0.05, rng.random(size), 0).astype(np.float32)
    elif shape == "ties":            # few distinct values: the threshold lands inside a tie
        scores = rng.integers(0, 4, size).astype(np.float32)
    elif shape == "few_positive":    # fewer matches than asked for
        scores = np.zeros(size, dtype=np.float32)
        scores[rng.choice(size, 7, replace=False)] = rng.random(7, dtype=np.float32) + 0.5
    else:
        scores = -rng.random(size, dtype=np.float32)
    for n in (1, 50, 200):
        for floor in (None, 0.0):
            got = top_n(scores, n, floor).tolist()
            want = _expected(scores, n, floor)
            assert got == want, (shape, size, n, floor)   # ties too: the lower index first

def test_top_n_of_nothing():
    assert top_n(np.zeros(0, dtype=np.float32), 5).tolist() == []
    assert top_n(np.ones(3, dtype=np.float32), 0).tolist() == []
    assert top_n(np.zeros(100_000, dtype=np.float32), 5, floor=0.0).tolist() == []
