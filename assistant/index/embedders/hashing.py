"""Deterministic character n-gram hashing: no model, the tests' backend."""

from __future__ import annotations

import numpy as np

from assistant.config import Settings
from assistant.index.embedders import Embedder, register


class CharNgramHashing(Embedder):
    """Deterministic character n-gram hashing (no model). Fast; lexical rather than semantic.

    Useful as a tiny-footprint fallback and as the deterministic backend the tests use; it goes through
    the same registry and manifest checks as every other embedder.
    """

    name = "char-ngram-hash"

    def __init__(self, dim: int = 256, n: int = 2) -> None:
        self.dim = dim
        self._n = n

    @property
    def model(self) -> str:
        return f"n{self._n}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        import zlib

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            compact = "".join(text.split())
            for i in range(max(len(compact) - self._n + 1, 0)):
                out[row, zlib.crc32(compact[i:i + self._n].encode("utf-8")) % self.dim] += 1.0
        return out


@register("char-ngram-hash")
def _hash(settings: Settings) -> Embedder:
    return CharNgramHashing()
