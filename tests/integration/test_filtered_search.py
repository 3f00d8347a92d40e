"""Filtered search on a real index: access levels and departments applied inside every search layer.

The index holds real documents (the bundled statutes and 법제처 interpretations) ingested at four access
levels. Its FAISS layer and its semantic layer are filled with the USE embedder, which is fast enough to
embed the whole corpus in a test; the filtering code does not depend on which model made the vectors.

What is exactly checkable: a filter is a restriction, so a filtered ranking must equal the unfiltered
ranking of the same index with the forbidden chunks removed — same chunks, same order, same scores (BM25
statistics stay those of the whole index: a filter changes who may see a chunk, not how well it matches).
That holds for BM25, the semantic matrix and flat FAISS; HNSW is approximate, so for it we check that it
never returns a forbidden chunk, always returns as many as it was asked for, and finds the exact top.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

QUERIES = ["민원 처리기간은 어떻게 계산하나요", "정보공개 청구 후 공개 여부 결정 기간", "행정처분 사전통지와 의견제출",
           "전자문서로 민원을 신청할 수 있나요", "법령해석 요청 자격", "조례로 정할 수 있는 사무",
           "주민등록 전입신고", "과태료 부과 절차"]

LEVELS = ("공개", "내부", "부서")

FILTERS = [
    dict(clearance="공개"),
    dict(clearance="내부"),
    dict(clearance="부서", department="복지정책과"),
    dict(clearance="부서", department="민원봉사과"),
    dict(clearance="부서"),                       # 부서 cleared but no department: 부서 documents stay hidden
    dict(source_prefix=str(SAMPLES / "laws")),
    dict(clearance="내부", source_prefix=str(SAMPLES / "interpretations")),
]


def allowed(flt: dict, level: str, department: str, source: str, doc_id: str) -> bool:
    """The access rule, written independently of the SQL the filter generates."""
    if "clearance" in flt:
        if LEVELS.index(level) > LEVELS.index(flt["clearance"]):
            return False
        if level == "부서" and department != flt.get("department"):
            return False
    if "source_prefix" in flt and not source.startswith(flt["source_prefix"]):
        return False
    return not ("doc_ids" in flt and doc_id not in flt["doc_ids"])


def _ingest(tmp_path_factory, kind: str):
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.semantic import fill_index
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    settings = Settings(index_dir=tmp_path_factory.mktemp(f"acl-{kind}"), index_name="acl",
                        embedder="use-multilingual", semantic_embedder="use-multilingual", dense_index=kind)
    store = IndexStore(settings.index_dir, settings.index_name)
    embedder = make_embedder(settings)
    cases = sorted((SAMPLES / "interpretations").glob("*.md"))
    groups = [(sorted((SAMPLES / "laws").glob("*.md")), "공개", ""),
              (cases[0::4], "공개", ""), (cases[1::4], "내부", ""),
              (cases[2::4], "부서", "복지정책과"), (cases[3::4], "부서", "민원봉사과")]
    for files, level, dept in groups:
        report = Ingestor(settings, store, embedder, access_level=level, department=dept).run(files)
        assert report.ok, [o for o in report.outcomes if o.status == "failed"]
    fill_index(settings, store)
    return settings


@pytest.fixture(scope="module", params=["flat", "hnsw"])
def acl_index(request, tmp_path_factory):
    return _ingest(tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def retriever(acl_index):
    from assistant.retrieve.search import open_retriever

    r = open_retriever(acl_index)
    assert r.snapshot.faiss is not None and r.semantic is not None
    assert r.semantic.coverage[0] == r.snapshot.size
    return r


def _rows(retriever) -> list:
    return [r for r in retriever.snapshot.db().execute(
        "SELECT c.pos, c.doc_id, d.access_level, d.department, d.source FROM chunks c "
        "JOIN documents d USING(doc_id) ORDER BY c.pos")]


def _expected_mask(retriever, flt: dict) -> np.ndarray:
    return np.array([allowed(flt, r["access_level"], r["department"], r["source"], r["doc_id"])
                     for r in _rows(retriever)], dtype=bool)


def _filter(flt: dict):
    from assistant.retrieve.filters import SearchFilter

    return SearchFilter(**flt)


def test_the_index_mixes_access_levels_and_departments(retriever):
    rows = _rows(retriever)
    assert {r["access_level"] for r in rows} == set(LEVELS)
    assert {r["department"] for r in rows if r["access_level"] == "부서"} == {"복지정책과", "민원봉사과"}


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: ",".join(f"{k}={v}"[:30] for k, v in f.items()))
def test_the_position_mask_is_the_access_rule(retriever, flt):
    from assistant.retrieve.filters import position_mask

    expected = _expected_mask(retriever, flt)
    mask = position_mask(retriever.snapshot, _filter(flt))
    got = np.ones(retriever.snapshot.size, dtype=bool) if mask is None else mask
    assert np.array_equal(got, expected)
    assert mask is None or 0 < expected.sum() < len(expected)
    # resolved once per snapshot and filter, and nobody can change the shared copy
    assert position_mask(retriever.snapshot, _filter(flt)) is mask
    if mask is not None:
        with pytest.raises(ValueError):
            mask[0] = not mask[0]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: ",".join(f"{k}={v}"[:30] for k, v in f.items()))
def test_filtered_search_never_returns_a_forbidden_chunk_and_fills_k(retriever, mode, flt):
    k = 8
    n_allowed = int(_expected_mask(retriever, flt).sum())
    assert n_allowed > 3 * k
    for q in QUERIES:
        hits = retriever.search(q, k=k, mode=mode, flt=_filter(flt))
        for h in hits:
            assert allowed(flt, h.access_level, h.department, h.source, h.doc_id), (mode, q, h.doc_id)
        if mode != "bm25":  # dense layers rank every allowed chunk; BM25 only those sharing a term
            assert len(hits) == k, (mode, q, len(hits))


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: ",".join(f"{k}={v}"[:30] for k, v in f.items()))
def test_filtered_rankings_are_the_unfiltered_ones_restricted(retriever, flt, monkeypatch):
    """BM25, the semantic matrix and flat FAISS: exact; HNSW: allowed-only, full length, exact top.

    This index is small enough that a filtered HNSW search would scan the allowed vectors exactly (cheaper
    than a graph walk at this size); the threshold is set to zero here so the filtered walk itself is tested.
    """
    from assistant.retrieve import search as search_mod
    from assistant.retrieve.filters import position_mask

    monkeypatch.setattr(search_mod, "EXACT_SCAN_PER_EF", 0)
    mask = position_mask(retriever.snapshot, _filter(flt))
    ok = _expected_mask(retriever, flt)
    size, depth = retriever.snapshot.size, 50
    layers = {"bm25": retriever.sparse, "semantic": retriever.semantic_search, "faiss": retriever.dense_faiss}
    hnsw = retriever.snapshot.manifest.dense_index == "hnsw"
    for q in QUERIES:
        for name, search in layers.items():
            filtered = search(q, depth, mask)
            assert all(ok[p] for p, _ in filtered), (name, q)
            if name == "faiss" and hnsw:
                assert len(filtered) == depth, (q, len(filtered))
                exact = [x for x in retriever.dense_faiss(q, size, None) if ok[x[0]]]
                assert filtered[0][0] == exact[0][0] or filtered[0][1] == pytest.approx(exact[0][1], abs=1e-5)
                continue
            full = [x for x in search(q, size, None) if ok[x[0]]][:depth]
            assert [round(s, 4) for _, s in filtered] == [round(s, 4) for _, s in full], (name, q)
            tied = {round(s, 4) for _, s in full if sum(1 for _, t in full if round(t, 4) == round(s, 4)) > 1}
            assert [p for p, s in filtered if round(s, 4) not in tied] == \
                   [p for p, s in full if round(s, 4) not in tied], (name, q)


@pytest.mark.parametrize("walk", [False, True], ids=["as-configured", "hnsw-walk-first"])
def test_a_narrow_filter_returns_every_allowed_chunk(retriever, walk, monkeypatch):
    """One document's chunks (fewer than the search depth): the dense layers return all of them, HNSW
    included — a walk through a graph where almost every node is forbidden would miss some, so so few
    allowed vectors are scanned exactly (and when told to walk first, a short walk is completed by the scan)."""
    from assistant.retrieve import search as search_mod
    from assistant.retrieve.filters import SearchFilter, position_mask

    if walk:
        monkeypatch.setattr(search_mod, "EXACT_SCAN_PER_EF", 0)

    doc = next(r["doc_id"] for r in _rows(retriever) if r["access_level"] == "내부")
    flt = SearchFilter(doc_ids=(doc,), clearance="내부")
    mask = position_mask(retriever.snapshot, flt)
    assert mask is not None
    positions = set(np.flatnonzero(mask).tolist())
    assert positions == set(retriever.snapshot.doc_chunk_positions(doc))
    for q in QUERIES[:3]:
        assert {p for p, _ in retriever.dense_faiss(q, 50, mask)} == positions
        assert {p for p, _ in retriever.semantic_search(q, 50, mask)} == positions
        hits = retriever.search(q, k=50, mode="dense", flt=flt)
        assert hits and {h.doc_id for h in hits} == {doc}
    hidden = SearchFilter(doc_ids=(doc,), clearance="공개")
    assert all(not retriever.search(q, k=5, mode=m, flt=hidden) for q in QUERIES[:3] for m in ("bm25", "hybrid"))


def test_a_changed_access_level_is_seen_by_the_next_snapshot(acl_index, tmp_path):
    """Masks are cached per snapshot: after an access change the new generation's filter hides the document."""
    from assistant.index.store import IndexStore
    from assistant.retrieve.filters import SearchFilter
    from assistant.retrieve.search import open_retriever

    settings = acl_index.with_overrides(index_dir=tmp_path / "copy")
    shutil.copytree(acl_index.index_dir, settings.index_dir)
    before = open_retriever(settings)
    public = SearchFilter(clearance="공개")
    q = "민원 처리기간은 어떻게 계산하나요"
    top = before.search(q, k=3, mode="hybrid", flt=public)[0]
    store = IndexStore(settings.index_dir, settings.index_name)
    assert store.set_access(top.doc_id, "부서", "감사과")
    after = open_retriever(settings)
    assert top.doc_id not in {h.doc_id for h in after.search(q, k=10, mode="hybrid", flt=public)}
    assert top.doc_id in {h.doc_id for h in before.search(q, k=10, mode="hybrid", flt=public)}
    audit = SearchFilter(clearance="부서", department="감사과")
    assert top.doc_id in {h.doc_id for h in after.search(q, k=10, mode="hybrid", flt=audit)}
