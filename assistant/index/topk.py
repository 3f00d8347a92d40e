"""The n best entries of a large score array without sorting or partitioning all of it.

``np.argpartition`` over a million scores costs ~9 ms (and a negated copy); a query wants the best 50.
A strided sample of the scores gives a threshold that about 4n entries reach; one comparison pass finds
them and only those are partitioned (a tie at the threshold may let more through, never fewer). When the
sample misjudges and fewer than n reach the threshold, the full partition runs, so the result is always the
exact top n.
"""

from __future__ import annotations

import numpy as np

#: below this many scores a plain argpartition is as fast as sampling
SMALL = 65_536
SAMPLE = 16_384


def top_n(scores: np.ndarray, n: int, floor: float | None = None) -> np.ndarray:
    """Indices of the ``n`` highest scores, best first; among equal scores the lower index comes first and
    wins a place at the boundary, so the result is deterministic. With ``floor``, only scores
    above it count (e.g. 0 for "matched at all", -inf for "has a score"), so fewer than n may come back."""
    size = len(scores)
    if n <= 0 or size == 0:
        return np.zeros(0, dtype=np.int64)
    picked: np.ndarray | None = None
    if size > SMALL:
        stride = size // SAMPLE
        sample = scores[::stride]
        rank = max(1, (4 * n * len(sample)) // size + 1)
        if floor is not None:   # without them: numpy's partition slows down ~50x on a sample of mostly zeros
            sample = sample[sample > floor]
        if len(sample) >= rank:
            cut = float(np.partition(sample, len(sample) - rank)[len(sample) - rank])
            candidates = np.flatnonzero(scores >= cut)
            if len(candidates) >= n:   # a superset of the top n (a tie at the cut may make it larger)
                picked = candidates
    if picked is None:
        picked = np.flatnonzero(scores > floor) if floor is not None else np.arange(size)
    values = scores[picked]
    if len(picked) > n:
        nth = np.partition(values, len(values) - n)[len(values) - n]
        above = values > nth
        tied = np.flatnonzero(values == nth)[:n - int(np.count_nonzero(above))]   # the first positions win
        keep = np.concatenate([np.flatnonzero(above), tied])
        picked, values = picked[keep], values[keep]
    order = np.lexsort((picked, -values))
    return picked[order]
