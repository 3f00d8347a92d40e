"""The LangChain-defaults baseline: what a user would assemble for hybrid search over the same data.

RecursiveCharacterTextSplitter (chunk_size = our chunk_max_chars, other parameters default) + LangChain's
FAISS vector store (default IndexFlatL2) + BM25Retriever (rank_bm25 BM25Okapi on whitespace tokens),
fused by EnsembleRetriever with weights 0.5/0.5. The dense model is our USE embedder wrapped as a LangChain
``Embeddings``, so the comparison is of pipelines, not models.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

warnings.filterwarnings("ignore", message=".*langchain-community.*", category=DeprecationWarning)

from langchain_classic.retrievers import EnsembleRetriever  # noqa: E402
from langchain_community.document_loaders import TextLoader  # noqa: E402
from langchain_community.retrievers import BM25Retriever  # noqa: E402
from langchain_community.vectorstores import FAISS  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402

from assistant.index.embedders import Embedder  # noqa: E402


class WrappedEmbedder(Embeddings):
    """Our embedder as a LangChain Embeddings; counts the seconds spent embedding."""

    def __init__(self, embedder: Embedder, batch_size: int = 64) -> None:
        self.embedder = embedder
        self.batch_size = batch_size
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        out = self.embedder.embed(texts, self.batch_size).tolist()
        self.seconds += time.perf_counter() - t0
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out += sorted(p.rglob("*.md")) if p.is_dir() else [p]
    return out


def ensemble(faiss_store: FAISS, bm25: BM25Retriever, k: int) -> EnsembleRetriever:
    bm25.k = k
    return EnsembleRetriever(retrievers=[bm25, faiss_store.as_retriever(search_kwargs={"k": k})], weights=[0.5, 0.5])


def ingest(paths: list[Path], embedder: Embedder, chunk_size: int, k: int = 5) -> dict[str, Any]:
    """Load, split, embed + FAISS, BM25: the baseline's whole ingest, timed by stage."""
    wrapped = WrappedEmbedder(embedder)
    t0 = time.perf_counter()
    docs = [d for f in _files(paths) for d in TextLoader(str(f), encoding="utf-8").load()]
    chunks = RecursiveCharacterTextSplitter(chunk_size=chunk_size).split_documents(docs)
    t1 = time.perf_counter()
    store = FAISS.from_documents(chunks, wrapped)
    t2 = time.perf_counter()
    bm25 = BM25Retriever.from_documents(chunks)
    ensemble(store, bm25, k)
    t3 = time.perf_counter()
    total = t3 - t0
    return {
        "documents": len(docs), "chunks": len(chunks), "seconds": total,
        "docs_per_s": len(docs) / total, "chunks_per_s": len(chunks) / total,
        "source_chars": sum(len(d.page_content) for d in docs),
        "avg_chunk_chars": float(np.mean([len(c.page_content) for c in chunks])) if chunks else 0.0,
        "stages": {"load+split": t1 - t0, "embed": wrapped.seconds, "faiss": t2 - t1 - wrapped.seconds,
                   "bm25": t3 - t2},
    }


def build(texts: list[str], vectors: np.ndarray, embedder: Embedder, k: int = 5) -> tuple[EnsembleRetriever, dict]:
    """The baseline over precomputed passages and vectors (FAISS.from_embeddings), timed."""
    wrapped = WrappedEmbedder(embedder)
    metas = [{"source": f"/bench/synthetic/{i // 20:06d}.md", "chunk": i} for i in range(len(texts))]
    t0 = time.perf_counter()
    store = FAISS.from_embeddings(list(zip(texts, vectors, strict=True)), wrapped, metadatas=metas)
    t1 = time.perf_counter()
    bm25 = BM25Retriever.from_documents([Document(t, metadata=m) for t, m in zip(texts, metas, strict=True)])
    t2 = time.perf_counter()
    return ensemble(store, bm25, k), {"faiss_s": t1 - t0, "bm25_s": t2 - t1}


def time_queries(retriever: EnsembleRetriever, queries: list[str], warmup: int = 5) -> list[float]:
    for q in queries[:warmup]:
        retriever.invoke(q)
    out = []
    for q in queries:
        t0 = time.perf_counter()
        retriever.invoke(q)
        out.append(time.perf_counter() - t0)
    return out
