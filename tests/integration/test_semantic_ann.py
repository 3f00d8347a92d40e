"""Per-segment HNSW over the semantic vectors (assistant.index.semantic_ann) on a real index.

The index holds the bundled statutes and 법제처 interpretations in three segments: two big ones (above a
lowered ``semantic_ann_min_chunks``, so the fill gives them an ANN) and a small one searched exactly. Its
semantic layer is filled with the USE embedder (fast enough to embed the corpus in a test; the ANN code
does not depend on the model). The reference is the exact product over the layer's own matrix, written
here independently of the layer's search code.

What must hold: ANN results match the exact ones (recall@10 >= 0.95; identical with a wide efSearch);
a filtered or deleted chunk is never returned; a missing, corrupt or foreign ANN file means exact
results, not an error; files are written atomically and stale ones are cleaned by the next fill.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
MIN_CHUNKS = 150

QUERIES = ["민원 처리기간은 어떻게 계산하나요", "정보공개 청구 후 공개 여부 결정 기간", "행정처분 사전통지와 의견제출",
           "전자문서로 민원을 신청할 수 있나요", "법령해석 요청 자격", "조례로 정할 수 있는 사무",
           "주민등록 전입신고", "과태료 부과 절차", "민원 접수를 거부할 수 있는 경우", "반복 민원 종결 처리",
           "지방자치단체의 장이 위임한 사무", "건축 허가 취소", "보조금 환수", "공무원 징계 시효",
           "개인정보 제3자 제공", "도로 점용 허가 기간", "영업정지 처분 기준", "이의신청 기간 계산",
           "행정심판 청구 기한", "수수료 면제 대상"]


def _settings(index_dir: Path, **extra):
    from assistant.config import Settings

    return Settings(index_dir=index_dir, index_name="ann", embedder="none", semantic_embedder="use-multilingual",
                    semantic_ann_min_chunks=MIN_CHUNKS, **extra)


def _ingest(settings, files, level="공개"):
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    store = IndexStore(settings.index_dir, settings.index_name)
    report = Ingestor(settings, store, make_embedder(settings), access_level=level).run(files)
    assert report.ok, [o for o in report.outcomes if o.status == "failed"]
    return store


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The index folder after ingest and fill: laws (공개), most interpretations (내부), three more (공개);
    an ingest commits every few files, so there are big segments and small ones."""
    from assistant.index.semantic import fill_index

    settings = _settings(tmp_path_factory.mktemp("ann-index"))
    cases = sorted((SAMPLES / "interpretations").glob("*.md"))
    _ingest(settings, sorted((SAMPLES / "laws").glob("*.md")))
    _ingest(settings, cases[:-3], "내부")
    store = _ingest(settings, cases[-3:])
    report = fill_index(settings, store)
    assert report.done == report.todo > 0 and report.ann is not None
    snap = store.open()
    big = [seg.name for seg in snap.segments if seg.size >= MIN_CHUNKS]
    assert len(big) >= 2 and len(snap.segments) > len(big), [seg.size for seg in snap.segments]
    assert sorted(report.ann.built) == sorted(big)
    return settings.index_dir


@pytest.fixture
def index(built, tmp_path):
    """A private copy of the built index (tests break its files)."""
    shutil.copytree(built, tmp_path / "idx")
    settings = _settings(tmp_path / "idx")
    from assistant.index.store import IndexStore

    return settings, IndexStore(settings.index_dir, settings.index_name)


def _layer(settings, store, **extra):
    from assistant.retrieve.search import semantic_layer

    layer = semantic_layer(settings, store, store.open())
    assert layer is not None
    layer.refresh_s = 0
    for k, v in extra.items():
        setattr(layer, k, v)
    layer.refresh(force=True)
    return layer


def _exact(layer, query: str, n: int, mask=None) -> list[tuple[int, float]]:
    """The reference: one product over every vector, forbidden and vectorless positions excluded."""
    usable = layer._have.copy() if mask is None else layer._have & mask
    scores = layer._matrix @ layer.query_vector(query)
    order = [int(p) for p in np.argsort(-scores, kind="stable") if usable[p]]
    return [(p, float(scores[p])) for p in order[:n]]


def _ann_segments(layer) -> list[str]:
    return layer.anns.names()


def _big(layer) -> list[str]:
    return sorted(seg.name for seg in layer.snapshot.segments if seg.size >= MIN_CHUNKS)


def test_ann_results_match_the_exact_search(index):
    settings, store = index
    layer = _layer(settings, store)
    assert _ann_segments(layer) == _big(layer)
    recalls = []
    for q in QUERIES:
        exact = _exact(layer, q, 10)
        got = layer.search(q, 10, None)
        assert len(got) == 10
        recalls.append(len({p for p, _ in got} & {p for p, _ in exact}) / 10)
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True)
        for p, s in got:   # an ANN score is the exact cosine of that position
            assert s == pytest.approx(float(layer._matrix[p] @ layer.query_vector(q)), abs=1e-5)
    assert np.mean(recalls) >= 0.95, recalls
    wide = _layer(settings, store, ef_search=5000)
    for q in QUERIES:
        got, exact = wide.search(q, 10, None), _exact(wide, q, 10)
        assert [p for p, _ in got] == [p for p, _ in exact]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in exact], atol=1e-5)


def test_hits_come_from_the_ann_segments_and_the_exact_one(index):
    settings, store = index
    layer = _layer(settings, store)
    snap = layer.snapshot
    seen: set[str] = set()
    for q in QUERIES:
        seen.update(snap.segments[snap.locate(p)[0]].name for p, _ in layer.search(q, 50, None))
    assert set(_big(layer)) < seen   # every ANN segment contributes, and so does an exactly searched one


def test_filter_and_deletion_never_leak_through_the_ann(index, monkeypatch):
    import assistant.retrieve.search as search_mod
    from assistant.index.embedders import make_embedder
    from assistant.ingest.pipeline import Ingestor
    from assistant.retrieve.filters import SearchFilter, position_mask

    settings, store = index
    snap = store.open()
    big = next(i for i, seg in enumerate(snap.segments) if seg.size >= MIN_CHUNKS)
    victim = snap.segments[big].documents
    doc_id = sorted(victim)[1]
    victim_text = snap.chunks_of(doc_id)[0].text
    Ingestor(settings, store, make_embedder(settings)).remove([victim[doc_id].source])
    layer = _layer(settings, store)
    assert _ann_segments(layer) == _big(layer) and layer.snapshot.live is not None
    dead = ~layer.snapshot.live
    assert dead.any()
    public = position_mask(layer.snapshot, SearchFilter(clearance="공개"))
    assert public is not None and 0 < public.sum() < layer.snapshot.live_count
    for walk in (False, True):   # the exact scan under a selector, then the filtered HNSW walk itself
        if walk:
            monkeypatch.setattr(search_mod, "EXACT_SCAN_PER_EF", 0)
        recalls = []
        for q in [victim_text, *QUERIES]:
            got = layer.search(q, 30, layer.snapshot.live)
            assert got and not any(dead[p] for p, _ in got)
            filtered = layer.search(q, 30, public)
            assert len(filtered) == 30 and all(public[p] for p, _ in filtered)
            exact = _exact(layer, q, 30, public)
            recalls.append(len({p for p, _ in filtered} & {p for p, _ in exact}) / 30)
        assert np.mean(recalls) >= 0.95, (walk, recalls)


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "foreign-dim", "foreign-model"])
def test_a_broken_or_foreign_ann_file_falls_back_to_exact(index, damage, caplog):
    from assistant.index.semantic_ann import ann_paths

    settings, store = index
    probe = _layer(settings, store)
    seg = next(s for s in probe.snapshot.segments if probe.anns.get(s) is not None)
    target, meta = ann_paths(probe.store.folder, seg.name)
    if damage == "missing":
        target.unlink()
        meta.unlink()
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif damage == "garbage":
        target.write_bytes(b"\0" * target.stat().st_size)
    else:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if damage == "foreign-dim":
            info["embedder"]["dim"] = 384
        else:
            info["embedder"]["model"] = "another-model"
        meta.write_text(json.dumps(info), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="assistant.semantic"):
        layer = _layer(settings, store)
        layer.refresh(force=True)   # checked again: the failure is remembered, not logged twice
    assert _ann_segments(layer) == [s for s in _big(layer) if s != seg.name]
    notes = [r for r in caplog.records if seg.name in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == (logging.INFO if damage == "missing" else logging.WARNING)
    for q in QUERIES[:8]:
        got, exact = layer.search(q, 10, None), _exact(layer, q, 10)
        ann_part = {p for p, _ in got if layer.anns.get(layer.snapshot.segments[layer.snapshot.locate(p)[0]])}
        # positions outside the remaining ANN segment are ranked exactly
        assert [p for p, _ in got if p not in ann_part] == [p for p, _ in exact if p not in ann_part]


def test_the_next_fill_rebuilds_and_cleans_and_a_server_picks_it_up(index):
    from assistant.index.semantic import fill_index
    from assistant.index.semantic_ann import ann_paths

    settings, store = index
    layer = _layer(settings, store)
    folder = layer.store.folder
    names = _ann_segments(layer)
    target, meta = ann_paths(folder, names[0])
    assert not [p.name for p in (folder / "ann").iterdir() if ".tmp-" in p.name]
    # a build killed before its JSON was renamed into place: the FAISS file alone is never used
    meta.unlink()
    leftover = target.with_name(f".{target.name}.tmp-999999")
    leftover.write_bytes(b"partial")
    stale = ann_paths(folder, "seg-999999")
    for p in stale:
        p.write_bytes(b"{}")
    fresh = _layer(settings, store)
    assert _ann_segments(fresh) == names[1:]
    report = fill_index(settings, store)
    assert report.todo == 0 and report.ann is not None
    assert report.ann.built == [names[0]] and report.ann.kept == len(names) - 1 and report.ann.removed == 1
    assert not leftover.exists() and not any(p.exists() for p in stale)
    fresh.refresh(force=True)   # a running server's layer loads the new file on its next refresh
    assert _ann_segments(fresh) == names


def test_a_new_snapshot_keeps_the_loaded_anns_of_shared_segments(index):
    from assistant.retrieve.search import semantic_layer

    settings, store = index
    first = _layer(settings, store)
    _ingest(settings, sorted((SAMPLES / "laws").glob("*.md"))[:1], "내부")   # re-ingest: one small new segment
    snap = store.open()
    second = semantic_layer(settings, store, snap, previous=first)
    assert second is not None
    second.refresh(force=True)
    shared = [seg for seg in snap.segments if first.anns.get(seg) is not None]
    assert shared and all(second.anns.get(seg) is first.anns.get(seg) for seg in shared)


def test_threshold_zero_builds_nothing(tmp_path):
    from assistant.index.semantic import fill_index

    settings = _settings(tmp_path / "idx").with_overrides(semantic_ann_min_chunks=0)
    store = _ingest(settings, sorted((SAMPLES / "laws").glob("*.md"))[:2])
    report = fill_index(settings, store)
    assert report.done > 0 and report.ann is not None and report.ann.built == []
    layer = _layer(settings, store)
    assert not layer.anns.names()
    q = QUERIES[0]
    assert layer.search(q, 10, None) == _exact(layer, q, 10)
