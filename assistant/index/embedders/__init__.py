"""Dense embedders behind one abstract class, found by name in one registry (assistant.registry).

An embedder fills in one method, ``embed_batch``; ``embed`` batches, L2-normalises and returns float32.
``identity`` is written into the index manifest: an index may only be searched with the embedder that
built it. No embedder downloads anything: model folders must exist locally, servers are named in config.

One module per backend (``none``, ``use``, ``e5``, ``folder``, ``openai``, ``hashing``), each registering its
factory with ``@EMBEDDERS.register(name)``; a plug-in package adds its own through the
``assistant.embedders`` entry-point group.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.registry import EMBEDDERS as BUILTIN_EMBEDDERS
from assistant.registry import Registry

EmbedderFactory = Callable[[Settings], "Embedder"]


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


EMBEDDERS: Registry[EmbedderFactory] = Registry("임베더", BUILTIN_EMBEDDERS, "assistant.embedders")
#: decorator for a backend module: ``@register("name")`` on a ``Settings -> Embedder`` factory
register = EMBEDDERS.register


def available() -> list[str]:
    return EMBEDDERS.names()


def make_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The embedder named ``name`` (default: ``settings.embedder``), built from the registry."""
    name = name or settings.embedder
    factory = EMBEDDERS.find(name)
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


def __getattr__(name: str) -> Any:
    """The backend classes by their old names (``from assistant.index.embedders import E5Small``)."""
    import importlib

    where = {"NoDense": "none", "UseMultilingual": "use", "E5Small": "e5", "SentenceTransformerFolder": "folder",
             "OpenAICompatible": "openai", "CharNgramHashing": "hashing"}.get(name)
    if where is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"assistant.index.embedders.{where}"), name)
