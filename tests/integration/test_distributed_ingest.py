"""Bulk ingest on a Dask cluster (issue 16 item 7): a real local cluster of two worker processes on
loopback parses, analyses and embeds; the test process commits. The index it builds must be the index a
single process builds from the same files — same documents, chunks, terms, vectors and search results —
and a bad file must fail alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.index.embedders import make_embedder
from assistant.index.store import IndexStore
from assistant.ingest.pipeline import Ingestor
from assistant.retrieve.search import open_retriever

distributed = pytest.importorskip("distributed")

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

from assistant.ingest.distributed import (  # noqa: E402
    ClusterEmbedder,
    DistributedIngestor,
    cluster_client,
    fill_semantic_on_cluster,
)

QUERIES = ["민원 처리기간 연장", "정보공개 청구 비공개 결정 이의신청", "행정절차법 사전통지 의견제출",
           "법제처 해석 회신"]


@pytest.fixture(scope="module")
def client():
    with cluster_client(workers=2) as c:
        yield c


def _snapshot_view(store: IndexStore) -> dict[str, tuple]:
    snap = store.open()
    out = {}
    for doc in snap.find_documents():
        chunks = snap.chunks_of(doc["doc_id"])
        terms = snap.chunk_terms(doc["doc_id"], [c.ordinal for c in chunks])
        out[doc["doc_id"]] = (doc["sha256"], doc["title"], doc["access_level"],
                              [(c.text, c.location, c.section) for c in chunks], terms)
    return out


def test_the_cluster_builds_the_index_one_process_builds(client, sample_index, tmp_path):
    settings = Settings(index_dir=tmp_path, index_name="dist")
    store = IndexStore(tmp_path, "dist")
    seen = []
    report = DistributedIngestor(settings, store, make_embedder(settings), client).run([SAMPLES], on_file=seen.append)
    assert report.ok and report.count("ok") > 100
    assert len(seen) == len(report.outcomes)
    assert [o.path for o in report.outcomes] == sorted(o.path for o in report.outcomes)   # file order

    single = IndexStore(sample_index.index_dir, sample_index.index_name)
    assert _snapshot_view(store) == _snapshot_view(single)

    mine = open_retriever(settings, "dist")
    theirs = open_retriever(sample_index)
    for q in QUERIES:
        assert [(h.doc_id, h.ordinals, round(h.score, 6)) for h in mine.search(q, k=5, mode="bm25")] == \
               [(h.doc_id, h.ordinals, round(h.score, 6)) for h in theirs.search(q, k=5, mode="bm25")]

    again = DistributedIngestor(settings, store, make_embedder(settings), client).run([SAMPLES])
    assert again.count("skipped") == again.count("ok") + again.count("skipped") == len(report.outcomes)


def test_vectors_computed_on_workers_equal_local_ones_and_a_bad_file_fails_alone(client, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("민원처리에관한법률_시행령.md", "행정절차법_법률.md"):
        shutil.copy(SAMPLES / "laws" / name, folder / name)
    (folder / "깨진파일.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref")
    (folder / "빈파일.docx").write_bytes(b"")

    settings = Settings(index_dir=tmp_path / "idx", index_name="dist", embedder="use-multilingual")
    local = Settings(index_dir=tmp_path / "idx", index_name="local", embedder="use-multilingual")
    embedder = make_embedder(settings)
    dist = DistributedIngestor(settings, IndexStore(settings.index_dir, "dist"), embedder, client).run([folder])
    one = Ingestor(local, IndexStore(local.index_dir, "local"), embedder).run([folder])

    by_name = {o.path.rsplit("/", 1)[-1]: o for o in dist.outcomes}
    assert by_name["깨진파일.pdf"].status == "failed" and by_name["빈파일.docx"].status == "failed"
    assert by_name["행정절차법_법률.md"].status == "ok" and by_name["민원처리에관한법률_시행령.md"].status == "ok"
    assert [(o.status, o.reason, o.chunks) for o in dist.outcomes] == [(o.status, o.reason, o.chunks)
                                                                       for o in one.outcomes]

    a, b = IndexStore(settings.index_dir, "dist").open(), IndexStore(local.index_dir, "local").open()
    assert a.size == b.size > 100
    for doc in a.find_documents():
        pa, pb = a.doc_chunk_positions(doc["doc_id"]), b.doc_chunk_positions(doc["doc_id"])
        va = a.faiss.reconstruct_batch(np.array(pa, dtype=np.int64))
        vb = b.faiss.reconstruct_batch(np.array(pb, dtype=np.int64))
        np.testing.assert_allclose(va, vb, atol=1e-5)


def test_the_semantic_pass_on_the_cluster_stores_the_vectors_a_local_pass_would(client, tmp_path):
    from assistant.index.embedders import shared_embedder
    from assistant.index.semantic import SemanticStore, text_key

    settings = Settings(index_dir=tmp_path / "idx", index_name="sem")
    store = IndexStore(settings.index_dir, "sem")
    folder = tmp_path / "docs"
    folder.mkdir()
    for path in sorted((SAMPLES / "interpretations").glob("*.md"))[:3]:
        shutil.copy(path, folder / path.name)
    assert Ingestor(settings, store, make_embedder(settings)).run([folder]).ok
    remote = ClusterEmbedder(client, settings, settings.semantic_embedder, slice_size=8)
    local = shared_embedder(settings, settings.semantic_embedder)
    assert (remote.name, remote.dim) == (local.name, local.dim)

    report = fill_semantic_on_cluster(client, settings, store)
    texts = store.open().position_texts()
    assert report.done == report.todo == len(set(texts)) > 0
    vectors = SemanticStore(store.path, local.name, local.dim)
    keys, got, _ = vectors.vectors_since(0)
    row = {k: got[i] for i, k in enumerate(keys)}
    sample = texts[:6]
    want = local.embed(sample)
    for i, t in enumerate(sample):
        np.testing.assert_allclose(row[text_key(t)], want[i], atol=2e-3)


def test_the_cli_ingests_with_local_workers(tmp_path):
    env_cmd = [sys.executable, "-m", "assistant.cli", "--index-dir", str(tmp_path), "ingest",
               str(SAMPLES / "interpretations"), "--index", "cli", "--workers", "2", "--semantic", "later"]
    done = subprocess.run(env_cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "분산 색인: 작업자 2개" in done.stderr
    assert "실패 0개" in done.stdout
    files = len(list((SAMPLES / "interpretations").glob("*.md")))
    assert len(IndexStore(tmp_path, "cli").manifest().documents) == files


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="스케줄러 tcp://127.0.0.1:9"), \
            cluster_client("tcp://127.0.0.1:9", timeout=3):
        pass


def test_a_local_cluster_leaves_this_process_environment_as_it_was(monkeypatch):
    """Dask's nannies write their workers' settings (OMP_NUM_THREADS, PYTHONHASHSEED, ...) into the parent's
    environment; every later child of a long-lived caller would inherit them."""
    import os

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED"):
        monkeypatch.delenv(name, raising=False)   # as a process that never ran a cluster
    before = dict(os.environ)
    with cluster_client(workers=1) as c:
        assert c.submit(lambda: 1 + 1).result() == 2
        changed = {k for k in set(os.environ) | set(before) if os.environ.get(k) != before.get(k)}
    assert changed, "the nanny no longer changes the environment: this test and the restore can go"
    assert dict(os.environ) == before
