"""One frozen settings object. Data only: nothing here opens files, models or connections.

Every setting has a default and help text (``description``); ``tests/unit/test_config.py`` fails if a
setting is missing from the README's settings table. Values come from ``ASSISTANT_*`` environment
variables, a ``.env`` file in the working directory, or CLI flags (which call ``with_overrides``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", frozen=True, extra="ignore")

    index_dir: Path = Field(Path("indexes"), description="Folder that holds one sub-folder per index.")
    index_name: str = Field("default", description="Index used when a command names none.")
    max_file_mb: float = Field(50.0, description="Largest file accepted for ingestion, in MB.")

    # chunking
    chunk_max_chars: int = Field(700, description="Largest chunk, in characters (a longer single sentence is cut).")
    chunk_min_chars: int = Field(120, description="Chunks shorter than this are merged with a neighbour in the same section.")
    chunk_overlap_sentences: int = Field(0, description="Sentences repeated at the start of the next chunk of a section.")

    # embedding
    embedder: str = Field("use-multilingual", description="Dense embedder: use-multilingual, sentence-transformers, openai or char-ngram-hash.")
    embedder_model: str = Field("", description="Model folder (sentence-transformers) or model name (openai embeddings).")
    embedder_url: str = Field("", description="Base URL of an OpenAI-compatible embeddings server, e.g. http://127.0.0.1:8080/v1.")
    embedder_api_key: str = Field("", description="API key for the embeddings server, if it needs one.")
    embed_max_chars: int = Field(400, description="Characters of each chunk (title and section first) given to the dense embedder; 0 = all. BM25 always sees the whole chunk.")
    embed_batch_size: int = Field(64, description="Texts per embedding batch.")
    threads: int = Field(2, description="CPU threads for embedding, FAISS and morphological analysis.")

    commit_every_chunks: int = Field(20_000, description="During a long ingest, save a new index generation after this many new chunks.")

    # dense index
    dense_index: Literal["auto", "flat", "hnsw"] = Field("auto", description="FAISS index type; auto picks HNSW above hnsw_threshold vectors.")
    hnsw_threshold: int = Field(200_000, description="Vector count above which 'auto' builds an HNSW index instead of exact search.")
    hnsw_m: int = Field(32, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(128, description="HNSW search breadth (higher: better recall, slower).")

    # retrieval
    search_mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Default retrieval mode.")
    top_k: int = Field(5, description="Hits returned by default.")
    fusion_weight_bm25: float = Field(1.0, description="Weight of the BM25 ranking in hybrid rank fusion.")
    fusion_weight_dense: float = Field(0.5, description="Weight of the dense ranking in hybrid rank fusion.")
    fusion_k: int = Field(60, description="Rank-fusion constant k in weight / (k + rank).")
    fusion_depth: int = Field(50, description="Candidates taken from each retriever before fusion.")
    merge_neighbours: bool = Field(True, description="Merge adjacent hits from the same document into one passage.")

    def with_overrides(self, **values: object) -> Settings:
        """A copy with the given non-None values replaced (used by CLI flags)."""
        clean = {k: v for k, v in values.items() if v is not None}
        return self.model_copy(update=clean) if clean else self

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def load_settings() -> Settings:
    return Settings()
