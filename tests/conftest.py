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
def sample_index(sample_settings):
    """The bundled sample corpus (laws + 법제처 interpretations) ingested with the default settings.

    Its semantic vectors are not filled (the e5 pass takes minutes for 1,800 chunks): these tests see the
    index as it is right after ingest — BM25 with lexicon expansion, and the lexical gate. The semantic
    path has its own, smaller fixture (``semantic_index``).
    """
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    store = IndexStore(sample_settings.index_dir, sample_settings.index_name)
    report = Ingestor(sample_settings, store, make_embedder(sample_settings)).run([SAMPLES])
    assert report.ok, [o for o in report.outcomes if o.status == "failed"]
    return sample_settings


@pytest.fixture(scope="session")
def sample_retriever(sample_index):
    from assistant.retrieve.search import open_retriever

    return open_retriever(sample_index)


@pytest.fixture(scope="session")
def semantic_index(tmp_path_factory):
    """The two 민원 statutes (법률 + 시행령, ~200 chunks) with their e5 semantic vectors filled — the
    default configuration end to end, small enough to embed in a test session (~40 s on 2 cores)."""
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.semantic import fill_index
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    settings = Settings(index_dir=tmp_path_factory.mktemp("semantic"), index_name="minwon", embedder="none",
                        semantic_embedder="e5-small")
    store = IndexStore(settings.index_dir, settings.index_name)
    files = [SAMPLES / "laws" / "민원처리에관한법률_법률.md", SAMPLES / "laws" / "민원처리에관한법률_시행령.md"]
    assert Ingestor(settings, store, make_embedder(settings)).run(files).ok
    report = fill_index(settings, store)
    assert report.done == report.todo > 100
    return settings
