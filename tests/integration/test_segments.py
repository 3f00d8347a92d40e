"""The segmented index on real documents: commits add segments, deletions are tombstones, merges compact.

The index holds the bundled statutes and 법제처 interpretations, ingested in several runs at three access
levels (so it has several segments), then some documents are removed and one is changed (tombstones). What
must hold: BM25 scores equal those of one bm25s index over the live chunks (index-wide IDF and length
normalisation); searches equal those of a freshly built single-segment index of the same files; a deleted
chunk is never returned, by any layer, under any filter; merging changes nothing a search sees; and
``kill -9`` inside a commit or a merge leaves the last committed generation readable and searchable.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"

QUERIES = ["민원 처리기간은 어떻게 계산하나요", "정보공개 청구 후 공개 여부 결정 기간", "행정처분 사전통지와 의견제출",
           "전자문서로 민원을 신청할 수 있나요", "법령해석 요청 자격", "조례로 정할 수 있는 사무", "과태료 부과 절차"]

FILTERS = [None, dict(clearance="공개"), dict(clearance="내부"), dict(clearance="부서", department="복지정책과"),
           dict(clearance="부서", department="민원봉사과")]


def _settings(index_dir: Path):
    from assistant.config import Settings

    return Settings(index_dir=index_dir, index_name="seg", embedder="use-multilingual", semantic_embedder="none",
                    dense_index="flat")


def _ingest(settings, files, level="공개", dept=""):
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    store = IndexStore(settings.index_dir, settings.index_name)
    report = Ingestor(settings, store, make_embedder(settings), access_level=level, department=dept).run(files)
    assert report.ok, [o for o in report.outcomes if o.status == "failed"]
    return store


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """Copies of the sample files (one will be changed) and the groups they are ingested in."""
    root = tmp_path_factory.mktemp("seg-files")
    shutil.copytree(SAMPLES / "laws", root / "laws")
    shutil.copytree(SAMPLES / "interpretations", root / "cases")
    cases = sorted((root / "cases").glob("*.md"))
    return {"laws": sorted((root / "laws").glob("*.md")), "a": cases[:40], "b": cases[40:70], "c": cases[70:]}


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, corpus) -> dict:
    """Built in four runs, then two documents removed, one changed and one removed document re-added."""
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor, doc_id_for

    settings = _settings(tmp_path_factory.mktemp("seg-index"))
    _ingest(settings, corpus["laws"])
    _ingest(settings, corpus["a"], "내부")
    _ingest(settings, corpus["b"], "부서", "복지정책과")
    _ingest(settings, corpus["c"], "부서", "민원봉사과")
    store = IndexStore(settings.index_dir, settings.index_name)
    removed = [corpus["a"][3], corpus["b"][5]]
    readded = corpus["a"][7]
    from assistant.index.embedders import make_embedder

    ingestor = Ingestor(settings, store, make_embedder(settings))
    assert sorted(ingestor.remove([str(p) for p in [*removed, readded]])) == sorted(
        doc_id_for(p) for p in [*removed, readded])
    changed = corpus["c"][2]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n덧붙임: 처리기간 계산에 관한 추가 설명.\n",
                       encoding="utf-8")
    _ingest(settings, [changed], "부서", "민원봉사과")
    _ingest(settings, [readded], "내부")
    snap = store.open()
    assert len(snap.segments) >= 3 and snap.live is not None, "the fixture must have segments and tombstones"
    final = [p for group in ("laws", "a", "b", "c") for p in corpus[group] if p not in removed]
    return {"settings": settings, "store": store, "removed": [doc_id_for(p) for p in removed],
            "changed": doc_id_for(changed), "final": final}


def _retriever(store, settings, merge=False):
    from assistant.index.embedders import make_embedder
    from assistant.retrieve.search import RetrievalParams, Retriever

    return Retriever(store.open(), make_embedder(settings), RetrievalParams(merge_neighbours=merge))


def _live_rows(snap) -> list[tuple[int, str, int, list[str]]]:
    """(global position, doc id, ordinal, terms) of every live chunk, read segment by segment."""
    rows = []
    for i, seg in enumerate(snap.segments):
        for r in seg.db().execute("SELECT pos, doc_id, ordinal, terms FROM chunks ORDER BY pos"):
            if r["doc_id"] not in snap.deleted[i]:
                rows.append((int(snap.offsets[i]) + r["pos"], r["doc_id"], r["ordinal"],
                             r["terms"].split(" ") if r["terms"] else []))
    return rows


def test_bm25_scores_equal_one_index_over_the_live_chunks(segmented):
    import bm25s

    from assistant.korean.morph import content_terms

    snap = segmented["store"].open()
    rows = _live_rows(snap)
    live = np.array([p for p, *_ in rows])
    assert len(rows) == snap.live_count < snap.size
    reference = bm25s.BM25()
    reference.index([t for *_, t in rows], show_progress=False)
    for q in QUERIES + ["처리기간 처리기간 계산"]:   # a repeated term counts twice, in both
        terms = content_terms(q)
        ours = snap.bm25.scores(terms)
        theirs = reference.get_scores(terms)
        assert np.count_nonzero(theirs) > 0, q
        np.testing.assert_allclose(ours[live], theirs, rtol=1e-5, atol=1e-6)
        dead = np.ones(snap.size, dtype=bool)
        dead[live] = False
        assert not ours[dead].any(), "a deleted chunk scored"
        # the ranking search uses: the same scores, the filter applied before the top n, no deleted chunk
        weighted = [(t, float(c)) for t, c in Counter(terms).items()]
        for mask in (None, np.arange(snap.size) % 2 == 0):
            allowed = ours if mask is None else ours * mask
            want = np.flatnonzero(allowed)
            want = want[np.lexsort((want, -allowed[want]))][:10]
            got = snap.bm25.top(weighted, 10, mask)
            assert [p for p, _ in got] == want.tolist(), q
            np.testing.assert_allclose([s for _, s in got], allowed[want], rtol=1e-6)
    df, n = snap.term_df()
    expected = Counter(t for *_, terms in rows for t in set(terms))
    assert n == len(rows) and df == dict(expected)


def _ranking(retriever, q, mode, flt=None, k=10):
    return [((h.doc_id, h.ordinals), h.score) for h in retriever.search(q, k=k, mode=mode, flt=flt)]


def _same_ranking(got, want, tol=1e-4):
    """Same scores (within ``tol``: vectors embedded in other batches differ in the last bits) and the same
    chunks in the same order, except among scores too close to order reliably."""
    assert len(got) == len(want)
    assert all(abs(s - t) <= tol for (_, s), (_, t) in zip(got, want, strict=True)), (got, want)
    for i, (key, score) in enumerate(want):
        if not any(abs(score - other) <= tol for j, (_, other) in enumerate(want) if j != i):
            assert got[i][0] == key, (i, got, want)


def test_search_equals_a_fresh_single_index_of_the_same_files(segmented, corpus, tmp_path):
    from assistant.retrieve.filters import SearchFilter

    settings = _settings(tmp_path / "fresh")
    # the same files at the same access levels, ingested afresh, then merged into one segment
    groups = [("laws", "공개", ""), ("a", "내부", ""), ("b", "부서", "복지정책과"), ("c", "부서", "민원봉사과")]
    for group, level, dept in groups:
        fresh = _ingest(settings, [p for p in corpus[group] if p in segmented["final"]], level, dept)
    fresh.merge(force=True)
    assert len(fresh.open().segments) == 1 and fresh.open().live is None
    seg_r = _retriever(segmented["store"], segmented["settings"])
    one_r = _retriever(fresh, settings)
    assert set(seg_r.snapshot.manifest.documents) == set(one_r.snapshot.manifest.documents)
    assert seg_r.snapshot.live_count == one_r.snapshot.size
    for q in QUERIES:
        for flt in (None, SearchFilter(clearance="내부")):
            _same_ranking(_ranking(seg_r, q, "bm25", flt), _ranking(one_r, q, "bm25", flt))
            _same_ranking(_ranking(seg_r, q, "dense", flt), _ranking(one_r, q, "dense", flt))
            assert [key for key, _ in _ranking(seg_r, q, "hybrid", flt, k=3)] == \
                   [key for key, _ in _ranking(one_r, q, "hybrid", flt, k=3)]


def test_a_deleted_chunk_is_never_returned(segmented):
    from assistant.retrieve.filters import SearchFilter, position_mask

    r = _retriever(segmented["store"], segmented["settings"], merge=True)
    snap = r.snapshot
    live = snap.live
    size = snap.size
    for q in QUERIES:
        for f in FILTERS:
            flt = SearchFilter(**f) if f else None
            mask = position_mask(snap, flt)
            for layer in (r.sparse, r.dense_faiss):   # every layer, as deep as the index
                got = [p for p, _ in layer(q, size, mask)]
                assert got and all(live[p] for p in got), (layer, q, f)
            for mode in ("bm25", "dense", "hybrid"):
                hits = r.search(q, k=50, mode=mode, flt=flt)
                assert all(live[p] for h in hits for p in h.positions), (mode, q, f)
                assert not {h.doc_id for h in hits} & set(segmented["removed"])
        for gone in segmented["removed"]:   # a filter naming a deleted document finds nothing
            for mode in ("bm25", "dense", "hybrid"):
                assert r.search(q, k=10, mode=mode, flt=SearchFilter(doc_ids=(gone,))) == []
    # the changed document is found once, at its new positions only
    changed = segmented["changed"]
    positions = snap.doc_chunk_positions(changed)
    assert positions and all(live[p] for p in positions)
    old = [p for i, seg in enumerate(snap.segments) if changed in snap.deleted[i]
           for p in (seg.positions_of([changed]) + snap.offsets[i]).tolist()]
    assert old and not any(live[p] for p in old)
    assert snap.document(changed) is not None and len(snap.chunks_of(changed)) == len(positions)


def test_merging_compacts_and_changes_no_result(segmented, tmp_path):
    from assistant.index.store import IndexStore, add_merge_listener, remove_merge_listener

    shutil.copytree(segmented["settings"].index_dir, tmp_path / "copy")
    settings = segmented["settings"].with_overrides(index_dir=tmp_path / "copy")
    store = IndexStore(settings.index_dir, settings.index_name)
    before = _retriever(store, settings)
    want = {(q, m): _ranking(before, q, m) for q in QUERIES for m in ("bm25", "dense", "hybrid")}
    told: list[tuple] = []

    def listener(path, size):
        told.append((path, size))

    add_merge_listener(listener)
    try:
        n_before, n_after = store.merge(force=True)
    finally:
        remove_merge_listener(listener)
    assert n_before >= 3 and n_after == 1
    assert told == [(store.path, before.snapshot.live_count)]   # the web app's filler hears of the merge
    after = _retriever(store, settings)
    assert after.snapshot.live is None and after.snapshot.size == before.snapshot.live_count
    assert after.snapshot.manifest.documents == before.snapshot.manifest.documents
    for (q, m), ranking in want.items():
        _same_ranking(_ranking(after, q, m), ranking)
    # the old snapshot still reads: its segments stay on disk while its generation is one of the newest
    assert _ranking(before, QUERIES[0], "hybrid") == want[(QUERIES[0], "hybrid")]


def test_merging_an_index_whose_documents_were_all_removed_does_nothing(corpus, tmp_path):
    from assistant.index.embedders import make_embedder
    from assistant.ingest.pipeline import Ingestor

    settings = _settings(tmp_path / "idx")
    store = _ingest(settings, corpus["laws"][:1])
    Ingestor(settings, store, make_embedder(settings)).remove([str(corpus["laws"][0])])
    assert store.manifest().segments == [] and store.manifest().documents == {}
    assert store.merge(force=True) == (0, 0)     # was an IndexError
    assert store.merge() == (0, 0)


def test_size_tiered_merging_bounds_segments_and_rewrites():
    """3,000 commits of one 20-chunk document: few segments at any time, each chunk rewritten a few times."""
    from assistant.index.store import plan_merge

    segments: list[int] = []
    written = added = peak = 0
    for _ in range(3000):
        segments.append(20)
        written += 20
        added += 20
        while plan := plan_merge([(s, s) for s in segments]):
            merged = sum(segments[i] for i in plan)
            written += merged
            segments = [s for i, s in enumerate(segments) if i not in plan] + [merged]
        peak = max(peak, len(segments))
    assert sum(segments) == 60_000
    assert peak <= 16, peak
    assert written / added < 8, written / added


def _wait_for(path: Path, proc: subprocess.Popen, what: str) -> None:
    """Until ``path`` exists (the child reached the pause point) or the child ends (a failure)."""
    deadline = time.monotonic() + 300
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"{what}: the child ended ({proc.returncode}) before pausing: "
                                 f"{proc.stderr.read().decode() if proc.stderr else ''}")
        assert time.monotonic() < deadline, f"{what}: no pause within 300 s"
        time.sleep(0.05)


def _child(settings, args: list[str], pause: str, marker: Path, **env_extra: str) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(settings.index_dir), "ASSISTANT_INDEX_NAME": "seg",
           "ASSISTANT_EMBEDDER": "use-multilingual", "ASSISTANT_SEMANTIC_EMBEDDER": "none",
           "ASSISTANT_DENSE_INDEX": "flat", "ASSISTANT_INDEX_PAUSE": pause,
           "ASSISTANT_INDEX_PAUSE_FILE": str(marker), **env_extra}
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _state(store) -> tuple[int, dict, list]:
    m = store.manifest()
    return m.generation, {k: v.sha256 for k, v in m.documents.items()}, [s.name for s in m.segments]


@pytest.mark.parametrize("stage", ["commit", "merge"])
def test_kill_9_inside_a_commit_or_merge_leaves_the_last_committed_state(segmented, corpus, tmp_path, stage):
    from assistant.index.store import IndexStore

    shutil.copytree(segmented["settings"].index_dir, tmp_path / "copy")
    settings = segmented["settings"].with_overrides(index_dir=tmp_path / "copy")
    store = IndexStore(settings.index_dir, settings.index_name)
    state = _state(store)
    want = _ranking(_retriever(store, settings), QUERIES[0], "hybrid")
    extra = tmp_path / "extra.md"
    extra.write_text("# 새 지침\n\n민원 처리기간 계산에 관한 새 지침입니다. 접수일은 산입하지 않습니다.\n",
                     encoding="utf-8")
    args = ["ingest", str(extra), "--quiet", "--semantic", "later"] if stage == "commit" else \
        ["index", "merge", "--all"]
    marker = tmp_path / "paused"
    proc = _child(settings, args, stage, marker)
    _wait_for(marker, proc, stage)
    written = store.path / f"gen-{state[0] + 1:06d}"
    assert written.is_dir(), "the child paused after writing its generation, before switching to it"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # the last committed generation is what a reader sees, complete and searchable
    assert _state(store) == state
    assert _ranking(_retriever(store, settings), QUERIES[0], "hybrid") == want
    # the next writer cleans up what the killed one left, and its work lands
    if stage == "commit":
        _ingest(settings, [extra])
        assert len(store.manifest().documents) == len(state[1]) + 1
    else:
        assert store.merge(force=True)[1] == 1
        _same_ranking(_ranking(_retriever(store, settings), QUERIES[0], "hybrid"), want)
    assert not list(store.path.glob(".*.tmp-*"))


def test_a_killed_batch_keeps_every_file_committed_before_the_kill(corpus, tmp_path):
    """Issue 17: commits are cheap, so a batch commits as each group of files is embedded; killing it
    keeps every committed file (before, only those up to the last save every 20,000 chunks)."""
    settings = _settings(tmp_path / "idx")
    store = _ingest(settings, corpus["laws"])
    base = store.manifest()
    cases = tmp_path / "cases"
    cases.mkdir()
    for p in corpus["a"] + corpus["b"]:
        shutil.copy(p, cases / p.name)
    proc = _child(settings, ["ingest", str(cases), "--quiet", "--semantic", "later"], "none", tmp_path / "x")
    deadline = time.monotonic() + 300
    while store.manifest().generation < base.generation + 3:   # three commits of the batch are on disk
        assert proc.poll() is None, "the batch finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    manifest = store.manifest()
    kept = set(manifest.documents) - set(base.documents)
    assert kept, "nothing of the killed batch was kept"
    snap = store.open()
    for doc_id in kept:   # each kept file is whole: all its chunks, searchable by its own filter
        assert len(snap.doc_chunk_positions(doc_id)) == manifest.documents[doc_id].chunks
    _ingest(settings, [cases])
    assert len(store.manifest().documents) == len(base.documents) + 70


def test_a_new_snapshot_reuses_the_semantic_rows_of_the_segments_it_shares(corpus, tmp_path):
    """A server opens a new snapshot after every commit; its semantic layer copies the rows of unchanged
    segments from the previous layer and reads only new segments' vectors — and ends up exactly as a layer
    built from scratch."""
    from assistant.index.embedders import make_embedder
    from assistant.index.semantic import SemanticLayer, fill_index, open_semantic
    from assistant.ingest.pipeline import Ingestor

    settings = _settings(tmp_path / "idx").with_overrides(semantic_embedder="use-multilingual")
    store = _ingest(settings, corpus["laws"] + corpus["a"][:10])
    fill_index(settings, store)
    embedder, vectors = open_semantic(settings, store)
    first = SemanticLayer(store.open(), vectors, embedder, refresh_s=0)
    assert first.coverage[0] == first.coverage[1] > 0
    _ingest(settings, corpus["a"][10:14])
    Ingestor(settings, store, make_embedder(settings)).remove([str(corpus["a"][2])])
    fill_index(settings, store)
    snap = store.open()
    assert snap.live is not None and len(snap.segments) > 1
    carried = SemanticLayer(snap, vectors, embedder, refresh_s=0, previous=first)
    scratch = SemanticLayer(snap, vectors, embedder, refresh_s=0)
    carried.refresh(force=True)
    scratch.refresh(force=True)
    assert carried.coverage == scratch.coverage == (snap.live_count, snap.live_count)
    np.testing.assert_array_equal(carried._have, scratch._have)
    have = scratch._have   # rows without a vector (deleted chunks among them) are never read
    np.testing.assert_array_equal(carried._matrix[have], scratch._matrix[have])
    for q in QUERIES[:3]:
        assert carried.search(q, 10, None) == scratch.search(q, 10, None)


def test_a_merge_runs_beside_commits_and_never_brings_a_document_back(segmented, corpus, tmp_path):
    """A merge writes its segment without holding the writer: while it is paused after writing, a document
    of its sources is removed, one is changed and a new one is added — each commit lands at once. When the
    merge then switches, the removed and the old version stay deleted, and a plain merge afterwards changes
    no search result (the concurrent merge left a consistent index)."""
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import doc_id_for
    from assistant.retrieve.filters import SearchFilter

    shutil.copytree(segmented["settings"].index_dir, tmp_path / "copy")
    settings = segmented["settings"].with_overrides(index_dir=tmp_path / "copy")
    store = IndexStore(settings.index_dir, settings.index_name)
    before = store.manifest()
    sources = [ref.name for ref in before.segments]
    gone, changed = corpus["laws"][1], corpus["a"][0]
    fresh = tmp_path / "new.md"
    fresh.write_text("# 새 안내\n\n민원 처리기간 연장은 한 번만 할 수 있습니다. 연장 사유를 알려야 합니다.\n",
                     encoding="utf-8")
    marker, resume = tmp_path / "paused", tmp_path / "resume"
    proc = _child(settings, ["index", "merge", "--all"], "merged", marker, ASSISTANT_INDEX_RESUME_FILE=str(resume))
    original = changed.read_text(encoding="utf-8")
    try:
        _wait_for(marker, proc, "merged")
        from assistant.index.embedders import make_embedder
        from assistant.ingest.pipeline import Ingestor

        assert Ingestor(settings, store, make_embedder(settings)).remove([str(gone)]) == [doc_id_for(gone)]
        changed.write_text(original + "\n\n덧붙임: 병합 중에 바뀐 내용입니다.\n", encoding="utf-8")
        _ingest(settings, [changed], "내부")
        _ingest(settings, [fresh])
        assert store.manifest().generation == before.generation + 3, "the commits waited for the merge"
        resume.write_text("go", encoding="utf-8")
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        changed.write_text(original, encoding="utf-8")
        if proc.poll() is None:
            proc.kill()
    manifest = store.manifest()
    assert manifest.generation == before.generation + 4
    assert set(manifest.documents) == set(before.documents) - {doc_id_for(gone)} | {doc_id_for(fresh)}
    assert manifest.documents[doc_id_for(changed)].sha256 != before.documents[doc_id_for(changed)].sha256
    merged = [ref for ref in manifest.segments if ref.name not in sources]
    assert len(merged) == 3   # the merged segment, then the changed and the new document's segments
    assert {doc_id_for(gone), doc_id_for(changed)} <= set(merged[0].deleted)
    snap = store.open()
    positions = snap.doc_chunk_positions(doc_id_for(changed))
    assert positions and all(snap.live[p] for p in positions)
    assert len(positions) == manifest.documents[doc_id_for(changed)].chunks
    r = _retriever(store, settings)
    for q in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            assert doc_id_for(gone) not in {h.doc_id for h in r.search(q, k=50, mode=mode)}
            assert r.search(q, k=5, mode=mode, flt=SearchFilter(doc_ids=(doc_id_for(gone),))) == []
    want = {(q, m): _ranking(r, q, m) for q in QUERIES for m in ("bm25", "dense", "hybrid")}
    assert store.merge(force=True)[1] == 1
    after = _retriever(store, settings)
    assert after.snapshot.live is None and after.snapshot.size == snap.live_count
    for (q, m), ranking in want.items():
        _same_ranking(_ranking(after, q, m), ranking)
    assert not list(store.path.glob(".*.tmp-*")) and not (store.path / "MERGING").exists()
