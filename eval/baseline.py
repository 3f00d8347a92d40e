"""The naive baseline: fixed-size character chunks and whitespace-token BM25 (``rank_bm25.BM25Okapi``).

This is what a quick RAG prototype does by default, and why it fails on Korean: particles glue to nouns
("민원을", "민원은", "민원의" are three different tokens), and fixed windows cut articles and pages in half.
It is scored by exactly the same relevance rule as the assistant, so the gap in the report is the gain
of morpheme BM25, structure-aware chunking and dense retrieval.

The baseline also reports where each chunk starts (page marker or article heading before it), so page-
and article-level gold can match it fairly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eval.corpora import CorpusSpec
from eval.retrieval import Retrieved

CHUNK_CHARS = 500
_PAGE = re.compile(r"<!--\s*page\s+(\d+)\s*-->", re.I)
_ARTICLE = re.compile(r"^#{1,6}\s*(제\d+조(?:의\d+)?)", re.M)


@dataclass
class BaselineHit:
    source: str
    location: str
    text: str
    score: float
    section: str = ""


def _markers(text: str) -> list[tuple[int, str]]:
    """(offset, location) for every page marker and article heading, in order; repeated 제N조 headings
    (the converter drops 의N) get 의2, 의3 … like the real parser."""
    out: list[tuple[int, str]] = [(m.start(), f"{m.group(1)}쪽") for m in _PAGE.finditer(text)]
    used: set[str] = set()
    for m in _ARTICLE.finditer(text):
        label = m.group(1)
        if label in used and "의" not in label:
            n = 2
            while f"{label}의{n}" in used:
                n += 1
            label = f"{label}의{n}"
        used.add(label)
        out.append((m.start(), label))
    return sorted(out)


def chunk_text(text: str, size: int = CHUNK_CHARS) -> list[tuple[str, str]]:
    """(chunk, location) pairs: consecutive windows of ``size`` characters, no overlap."""
    marks = _markers(text)
    chunks = []
    for start in range(0, len(text), size):
        piece = text[start:start + size]
        if not piece.strip():
            continue
        inside = [loc for off, loc in marks if start <= off < start + size]
        before = [loc for off, loc in marks if off < start]
        locs = ([before[-1]] if before else []) + inside
        chunks.append((piece, ", ".join(dict.fromkeys(locs))))
    return chunks


class NaiveBM25:
    """Whitespace BM25 over fixed character windows of every file of one evaluation corpus."""

    name = "baseline-naive"

    def __init__(self, spec: CorpusSpec, chunk_chars: int = CHUNK_CHARS) -> None:
        from rank_bm25 import BM25Okapi

        self.spec = spec
        self.rows: list[tuple[str, str, str]] = []   # (gold name, location, text)
        for name, path in sorted(spec.files.items()):
            text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8", errors="replace"))
            for piece, loc in chunk_text(text, chunk_chars):
                self.rows.append((name, loc, piece))
        self.bm25 = BM25Okapi([r[2].split() for r in self.rows])

    def search(self, query: str, k: int = 5, mode: str = "bm25", flt: Any = None) -> list[BaselineHit]:
        scores = np.asarray(self.bm25.get_scores(unicodedata.normalize("NFC", query).split()))
        top = np.argsort(-scores, kind="stable")[:k]
        return [BaselineHit(self.rows[i][0], self.rows[i][1], self.rows[i][2], float(scores[i]))
                for i in top if scores[i] > 0]


def baseline_retrieved(hits: Sequence[Any], spec: CorpusSpec) -> list[Retrieved]:
    """Baseline hits already carry gold-style names."""
    return [Retrieved(h.source, h.location, h.text) for h in hits]
