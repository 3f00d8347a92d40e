"""Hostile input costs only itself (issue 17): the crafted files of tests/hostile are ingested in one batch
through the real pipeline (budgeted worker process, real Kiwi, real index); every file ends with an outcome
a person can read, the good documents among them are searchable, and the budgets themselves work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile import files as hostile

from assistant.config import Settings
from assistant.errors import ParseError
from assistant.index.embedders import make_embedder
from assistant.index.store import IndexStore
from assistant.ingest.budget import Budget, ParseWorker
from assistant.ingest.chunking import ChunkParams
from assistant.ingest.pipeline import Ingestor
from assistant.retrieve.search import Retriever, retrieval_params

#: a library's exception in a reason ("KeyError: …", "MemoryError") — reasons are for people
LIBRARY_WORDS = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|Traceback")


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    made = hostile.write_all(root / "files")
    settings = Settings(index_dir=root / "idx", index_name="h", parse_timeout_s=60, semantic_embedder="none")
    store = IndexStore(settings.index_dir, "h")
    report = Ingestor(settings, store, make_embedder(settings)).run(sorted(made.values()))
    outcomes = {Path(o.path).name: o for o in report.outcomes}
    return made, outcomes, settings, store


def test_every_hostile_file_ends_with_a_readable_outcome(hostile_batch):
    made, outcomes, _, _ = hostile_batch
    assert {p.name for p in made.values()} == set(outcomes)
    for name, o in outcomes.items():
        assert o.status in ("ok", "failed"), (name, o)
        if o.status == "failed":
            assert re.search("[가-힣]", o.reason) and not LIBRARY_WORDS.search(o.reason), (name, o.reason)
        # nothing here needed the time budget: each shape is handled in proportion to its size
        assert "처리 시간이 너무 깁니다" not in o.reason, (name, o.reason)


def test_shapes_that_used_to_explode_are_read_in_proportion(hostile_batch):
    made, outcomes, _, _ = hostile_batch
    by = {key: outcomes[path.name] for key, path in made.items()}
    assert by["alias_bomb"].status == "ok"                # the aliases are refused, the body is read
    assert by["quadratic_heading"].status == "ok"
    assert by["form_feeds"].status == "ok" and by["form_feeds"].chunks < 2_000      # was 100,000 chunks
    assert any("쪽 나눔" in w for w in by["form_feeds"].warnings)
    assert by["no_spaces"].status == "ok" and any("띄어쓰기" in w for w in by["no_spaces"].warnings)
    assert by["short_lines"].status == "ok" and any("짧은 줄" in w for w in by["short_lines"].warnings)
    for bomb in ("docx_bomb", "hwpx_bomb"):
        assert by[bomb].status == "failed", by[bomb]
    assert by["nul_flood"].status == "failed"
    # one damaged byte no longer rejects a UTF-8 file: it is read, and the outcome says what was replaced
    assert by["bad_byte_utf8"].status == "ok" and any("대체" in w for w in by["bad_byte_utf8"].warnings)


def test_the_good_documents_of_the_batch_are_searchable(hostile_batch):
    made, outcomes, settings, store = hostile_batch
    retriever = Retriever(store.open(), make_embedder(settings), retrieval_params(settings))
    hits = retriever.search("민원 처리 안내 7일 이내", k=20, mode="bm25")
    found = {Path(h.source).name for h in hits}
    for key in ("alias_bomb", "quadratic_heading", "bidi_name", "long_korean_name"):
        assert made[key].name in found, (key, sorted(found))


def test_a_file_over_the_time_budget_fails_alone_and_the_next_file_is_read(tmp_path):
    made = hostile.write_all(tmp_path)
    worker = ParseWorker()
    params = ChunkParams(1200, 200, 0)
    try:
        # 1 ms cannot read three megabytes in another process: the worker is killed, the file fails
        with pytest.raises(ParseError) as slow:
            worker.parse(made["no_spaces"], "d1", params, Budget(timeout_s=0.001))
        assert "처리 시간이 너무 깁니다" in slow.value.reason
        # a fresh worker reads the next file
        got = worker.parse(made["bidi_name"], "d2", params, Budget(timeout_s=60))
        assert got.estimate >= 1 and "민원" in got.document.blocks[0].text + got.document.title
    finally:
        worker.close()


def test_a_file_over_the_memory_budget_fails_alone(tmp_path):
    made = hostile.write_all(tmp_path)
    worker = ParseWorker()
    params = ChunkParams(1200, 200, 0)
    try:
        # an address space of 64 MB is less than reading any file takes (the interpreter alone is larger):
        # the allocation fails in the worker, not in this process
        with pytest.raises(ParseError) as big:
            worker.parse(made["short_lines"], "d1", params, Budget(timeout_s=120, memory_mb=64))
        assert "메모리" in big.value.reason
        assert worker.parse(made["bidi_name"], "d2", params, Budget(timeout_s=60)).estimate >= 1
    finally:
        worker.close()
