"""Shared fixtures: real embedders, real indexes in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session")
def use_embedder():
    from assistant.index.embedders import UseMultilingual

    return UseMultilingual(threads=2)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {SHARED_CORPUS}")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory):
    """Settings whose index folder holds a real index of the bundled samples (built once per session)."""
    from assistant.config import Settings

    return Settings(index_dir=tmp_path_factory.mktemp("indexes"), index_name="default")


@pytest.fixture(scope="session")
def sample_index(sample_settings, use_embedder):
    """The bundled sample corpus (laws + 법제처 interpretations) ingested with the default embedder."""
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    store = IndexStore(sample_settings.index_dir, sample_settings.index_name)
    report = Ingestor(sample_settings, store, use_embedder).run([SAMPLES])
    assert report.ok, [o for o in report.outcomes if o.status == "failed"]
    return sample_settings


@pytest.fixture(scope="session")
def sample_retriever(sample_index, use_embedder):
    from assistant.retrieve.search import open_retriever

    return open_retriever(sample_index, embedder=use_embedder)
