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
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

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

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and any(term in post.vocab for _, post, _ in self.parts)

    def df(self, term: str) -> int:
        """Live chunks holding ``term``."""
        total = 0
        for _, post, alive in self.parts:
            got = post.postings(term)
            if got is not None:
                total += len(got[0]) if alive is None else int(np.count_nonzero(alive[got[0]]))
        return total

    def idf(self, df: int) -> float:
        return math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5))

    def scores(self, terms: Sequence[str], weight: float = 1.0, out: np.ndarray | None = None) -> np.ndarray:
        """Summed BM25 scores of ``terms`` (a repeated term counts again, as in bm25s) for every position,
        added to ``out`` when given."""
        if out is None:
            out = np.zeros(self.size, dtype=np.float32)
        if not self.num_docs:
            return out
        norm_b = B / self.avgdl if self.avgdl else 0.0
        for term, times in Counter(terms).items():
            df = self.df(term)
            if not df:
                continue
            factor = weight * times * self.idf(df)
            for offset, post, alive in self.parts:
                got = post.postings(term)
                if got is None:
                    continue
                docs, tfs = got
                tf = tfs.astype(np.float64)
                lengths = post.lengths[docs]
                part = factor * tf / (tf + K1 * ((1 - B) + norm_b * lengths))
                if alive is not None:
                    part *= alive[docs]
                out[offset + docs] += part.astype(np.float32)
        return out

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
