"""No dense layer at ingest: BM25 plus the semantic layer only."""

from __future__ import annotations

import numpy as np

from assistant.config import Settings
from assistant.index.embedders import Embedder, register


class NoDense(Embedder):
    """No synchronous dense layer: the index is BM25 plus the semantic layer filled after ingest
    (assistant.index.semantic). Ingest then costs parsing, chunking and Kiwi only."""

    name = "none"
    dim = 0

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)


@register("none")
def _none(settings: Settings) -> Embedder:
    return NoDense()
