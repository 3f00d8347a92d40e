"""BM25 over index segments, scored with statistics of the whole index.

bm25s bakes each term's IDF and each chunk's length normalisation into the scores it stores, so one
bm25s index per segment would score a term by how rare it is *in that segment*: the same chunk would get a
different score depending on which segment it landed in. Each segment therefore stores raw postings (for
every term, the chunks holding it and how often) and chunk lengths; a query computes IDF and the average
chunk length over the live chunks of the whole snapshot (deleted chunks excluded) and scores only the
postings of its own few terms. The formula is bm25s's default ("lucene": k1 = 1.5, b = 0.75,
idf = ln(1 + (N - df + 0.5) / (df + 0.5))), so scores equal those of one bm25s index over the same chunks.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.index.topk import top_n

K1 = 1.5
B = 0.75

#: the term offsets; with docs.npy, tfs.npy, lengths.npy and the vocabulary (vocab.json)
POSTINGS_FILE = "indptr.npy"
VOCAB_FILE = "vocab.json"
FILES = (VOCAB_FILE, "docs.npy", "tfs.npy", "lengths.npy", POSTINGS_FILE)


class Postings:
    """Term frequencies of one segment in compressed-column form: term t's chunks are
    ``docs[indptr[t]:indptr[t + 1]]`` (ascending local positions) with counts ``tfs[...]``."""

    def __init__(self, vocab: list[str], indptr: np.ndarray, docs: np.ndarray, tfs: np.ndarray,
                 lengths: np.ndarray) -> None:
        self.terms = vocab
        self.vocab = {t: i for i, t in enumerate(vocab)}
        self.indptr = indptr
        self.docs = docs
        self.tfs = tfs
        self.lengths = lengths

    @classmethod
    def build(cls, terms: Iterable[Sequence[str]]) -> Postings:
        builder = PostingsBuilder()
        for chunk_terms in terms:
            builder.add(chunk_terms)
        return builder.finish()

    def save(self, folder: Path) -> None:
        """Plain .npy arrays and a JSON vocabulary, the postings file last (it marks completion). Not fsynced
        here: the caller fsyncs the folder's files once, before it is used."""
        _write(folder / VOCAB_FILE, json.dumps(self.terms, ensure_ascii=False).encode("utf-8"))
        for name in ("indptr", "docs", "tfs", "lengths"):
            if name != "indptr":
                _save_array(folder / f"{name}.npy", getattr(self, name))
        _save_array(folder / POSTINGS_FILE, self.indptr)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in ("docs", "tfs", "lengths")}
        indptr = np.load(folder / POSTINGS_FILE, allow_pickle=False)
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(vocab, indptr, arrays["docs"], arrays["tfs"], arrays["lengths"])

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / POSTINGS_FILE).is_file()

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = self.vocab.get(term)
        if i is None:
            return None
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.docs[lo:hi], self.tfs[lo:hi]

    def __len__(self) -> int:
        return len(self.lengths)


class PostingsBuilder:
    """Collects postings chunk by chunk in compact arrays (4 bytes per entry, not a Python int), so a
    merge of a million chunks does not hold every term list in memory."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.term_ids = array("i")
        self.doc_ids = array("i")
        self.counts = array("f")
        self.lengths = array("i")

    def add(self, chunk_terms: Sequence[str]) -> None:
        pos = len(self.lengths)
        self.lengths.append(len(chunk_terms))
        vocab = self.vocab
        for term, tf in Counter(chunk_terms).items():
            self.term_ids.append(vocab.setdefault(term, len(vocab)))
            self.doc_ids.append(pos)
            self.counts.append(tf)

    def finish(self) -> Postings:
        tid = np.frombuffer(self.term_ids, dtype=np.int32) if len(self.term_ids) else np.zeros(0, np.int32)
        order = np.argsort(tid, kind="stable")   # stable: each term's chunks stay in ascending order
        indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(tid, minlength=len(self.vocab)), out=indptr[1:])
        docs = np.frombuffer(self.doc_ids, dtype=np.int32) if len(self.doc_ids) else np.zeros(0, np.int32)
        tfs = np.frombuffer(self.counts, dtype=np.float32) if len(self.counts) else np.zeros(0, np.float32)
        lengths = np.array(self.lengths, dtype=np.int32)
        return Postings(list(self.vocab), indptr, docs[order], tfs[order], lengths)


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


class SegmentedBM25:
    """BM25 over the segments of one snapshot, with index-wide IDF and average chunk length.

    ``parts`` are (offset of the segment's first position, its postings, its live mask or None when none of
    its chunks is deleted). Scores are returned over all positions; deleted positions score 0.
    """

    def __init__(self, parts: Sequence[tuple[int, Postings, np.ndarray | None]], size: int) -> None:
        self.parts = list(parts)
        self.size = size
        live_lengths = 0
        live = 0
        for _, post, alive in self.parts:
            if alive is None:
                live += len(post)
                live_lengths += int(post.lengths.sum(dtype=np.int64))
            else:
                live += int(np.count_nonzero(alive))
                live_lengths += int(post.lengths[alive].sum(dtype=np.int64))
        self.num_docs = live
        self.avgdl = live_lengths / live if live else 0.0
        self._df: dict[str, int] | None = None
        self._term_df: dict[str, int] = {}      # df of the terms queried so far (a snapshot never changes)
        self._norms: list[np.ndarray | None] = [None] * len(self.parts)
        self._live: np.ndarray | None = None

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and any(term in post.vocab for _, post, _ in self.parts)

    def df(self, term: str) -> int:
        """Live chunks holding ``term``."""
        cached = self._term_df.get(term)
        if cached is not None:
            return cached
        total = 0
        for _, post, alive in self.parts:
            got = post.postings(term)
            if got is not None:
                total += len(got[0]) if alive is None else int(np.count_nonzero(alive[got[0]]))
        if len(self._term_df) > 100_000:
            self._term_df.clear()
        self._term_df[term] = total
        return total

    def idf(self, df: int) -> float:
        return math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5))

    def scores(self, terms: Sequence[str], weight: float = 1.0, out: np.ndarray | None = None) -> np.ndarray:
        """Summed BM25 scores of ``terms`` (a repeated term counts again, as in bm25s) for every position,
        added to ``out`` when given; deleted positions score 0."""
        if out is None:
            out = np.zeros(self.size, dtype=np.float32)
        for term, times in Counter(terms).items():
            self._add(out, term, weight * times)
        live = self._allowed(None)
        if live is not None:
            out *= live
        return out

    def top(self, weighted: Sequence[tuple[str, float]], n: int,
            mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``n`` best allowed positions for terms with weights (a term twice in the query weighs 2), with
        their scores; ``mask`` is applied before the top n is taken, and deleted positions never come back.

        The same ranking as :meth:`scores`, computed for speed at a million chunks (a query's terms hold
        ~1.3M postings there): float32 throughout, each chunk's length normalisation computed once per
        snapshot, no per-posting liveness lookup (deleted positions are masked once at the end), and the
        top n found without partitioning the whole array (:func:`top_n`). Skipping postings that cannot
        reach the top n (MaxScore) was measured and lost at 1M chunks (p50 13–27 ms against 11 ms): on
        three queries in four the common terms, which hold most postings, still decide the ranking.
        """
        allowed = self._allowed(mask)
        out = np.zeros(self.size, dtype=np.float32)
        for term, weight in weighted:
            self._add(out, term, weight)
        if allowed is not None:
            out *= allowed
        return [(int(p), float(out[p])) for p in top_n(out, n, floor=0.0)]

    def _add(self, out: np.ndarray, term: str, weight: float) -> None:
        df = self.df(term)
        if not df or weight <= 0:
            return
        factor = weight * self.idf(df)
        for i, offset, post, docs, tfs in self._postings(term):
            view = out[offset:offset + len(post)]
            view[docs] += self._weights(i, docs, tfs, factor)

    def _postings(self, term: str) -> Iterator[tuple[int, int, Postings, np.ndarray, np.ndarray]]:
        for i, (offset, post, _) in enumerate(self.parts):
            got = post.postings(term)
            if got is not None:
                yield i, offset, post, got[0], got[1]

    def _weights(self, part: int, docs: np.ndarray, tfs: np.ndarray, factor: float) -> np.ndarray:
        """factor × tf / (tf + k1 (1 - b + b · length / avgdl)) for the given postings, in float32."""
        norms = self._norms[part]
        if norms is None:
            lengths = self.parts[part][1].lengths
            norms = (K1 * ((1 - B) + (B / self.avgdl if self.avgdl else 0.0) * lengths)).astype(np.float32)
            self._norms[part] = norms
        w = norms[docs]
        w += tfs
        np.divide(tfs, w, out=w)
        w *= np.float32(factor)
        return w

    def _allowed(self, mask: np.ndarray | None) -> np.ndarray | None:
        """The positions a result may come from: the mask's, never a deleted one (None = every position)."""
        if self._live is None and any(alive is not None for _, _, alive in self.parts):
            self._live = np.concatenate([alive if alive is not None else np.ones(len(post), dtype=bool)
                                         for _, post, alive in self.parts])
        if self._live is None:
            return mask
        return self._live if mask is None else mask & self._live

    def term_df(self) -> dict[str, int]:
        """Document frequency (live chunks) of every term in any segment; computed once."""
        if self._df is None:
            df: dict[str, int] = {}
            for _, post, alive in self.parts:
                if not len(post.docs):
                    continue
                if alive is None:
                    counts = np.diff(post.indptr)
                else:
                    flags = alive[post.docs].astype(np.int64)
                    counts = np.add.reduceat(flags, post.indptr[:-1]) if len(flags) else np.zeros(0, np.int64)
                    counts[np.diff(post.indptr) == 0] = 0
                for term, n in zip(post.terms, counts.tolist(), strict=True):
                    if n:
                        df[term] = df.get(term, 0) + n
            self._df = df
        return self._df
