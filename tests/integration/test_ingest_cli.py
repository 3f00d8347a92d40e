"""The ``assistant`` CLI end to end on real files: ingest, search, incremental updates, bad input, kills."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.index.store import IndexStore

REPO = Path(__file__).resolve().parents[2]
LAWS = REPO / "samples" / "laws"
CASES = REPO / "samples" / "interpretations"


@pytest.fixture(autouse=True)
def _no_semantic_pass(monkeypatch):
    """These tests are about ingest itself; the e5 pass after it has its own test (test_semantic_layer)."""
    monkeypatch.setenv("ASSISTANT_SEMANTIC_EMBEDDER", "none")


def cli(capsys, index_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--index-dir", str(index_dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def laws_copy(tmp_path) -> Path:
    dest = tmp_path / "laws"
    shutil.copytree(LAWS, dest)
    return dest


def search_json(capsys, index_dir, query, *extra):
    code, out, err = cli(capsys, index_dir, "search", query, "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_ingest_then_search_returns_cited_passages(tmp_path, capsys, laws_copy):
    idx = tmp_path / "idx"
    code, out, err = cli(capsys, idx, "ingest", str(laws_copy), "--quiet")
    assert code == 0, err
    assert "성공 5개" in out and "실패 0개" in out
    data = search_json(capsys, idx, "민원인에게 구비서류 외의 서류를 추가로 요구해도 되나요?", "-k", "5")
    assert data["query"].startswith("민원인에게")
    hits = data["hits"]
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert set(hits[0]) >= {"rank", "score", "doc_id", "title", "source", "location", "text"}
    top = hits[0]
    assert top["title"] == "민원 처리에 관한 법률" and "제10조" in top["location"], hits[:2]
    assert top["source"].endswith("민원처리에관한법률_법률.md")
    assert search_json(capsys, idx, "정보공개 청구", "--mode", "bm25")["hits"]

    code, out, err = cli(capsys, idx, "index", "info", "default")
    assert code == 0, err
    assert "문서 5개" in out and "세그먼트" in out
    assert "밀집 벡터 없음" in out and "(, 0차원)" not in out     # the default embedder 'none', said plainly


def test_reingest_unchanged_does_no_work_and_changed_file_replaces_its_chunks(tmp_path, capsys, laws_copy):
    idx = tmp_path / "idx"
    assert cli(capsys, idx, "ingest", str(laws_copy), "--quiet")[0] == 0
    store = IndexStore(idx, "default")
    gen = store.manifest().generation
    code, out, _ = cli(capsys, idx, "ingest", str(laws_copy), "--quiet")
    assert code == 0 and "건너뜀 5개" in out and "청크 0개" in out
    assert store.manifest().generation == gen  # nothing was rewritten

    target = laws_copy / "민원처리에관한법률_법률.md"
    text = target.read_text(encoding="utf-8")
    marker = "시범 조항: 청사 주차장은 민원인에게 무료로 개방한다."
    target.write_text(text + f"\n\n##### 제99조 (주차장 개방)\n\n{marker}\n", encoding="utf-8")
    code, out, _ = cli(capsys, idx, "ingest", str(laws_copy), "--quiet")
    assert code == 0 and "성공 1개" in out and "건너뜀 4개" in out
    manifest = store.manifest()
    assert len(manifest.documents) == 5  # replaced, not duplicated
    hits = search_json(capsys, idx, "청사 주차장 무료 개방", "--mode", "bm25")["hits"]
    assert marker in hits[0]["text"] and "제99조" in hits[0]["location"]


def test_an_index_keeps_the_chunking_it_was_built_with(tmp_path, capsys, laws_copy, monkeypatch):
    """Changed chunk settings apply to new indexes; files added later to an old one are chunked like the rest."""
    idx = tmp_path / "idx"
    monkeypatch.setenv("ASSISTANT_CHUNK_MAX_CHARS", "300")
    monkeypatch.setenv("ASSISTANT_EMBED_MAX_CHARS", "200")
    first = laws_copy / "민원처리에관한법률_법률.md"
    code, out, err = cli(capsys, idx, "ingest", str(first), "--quiet")
    assert code == 0, err
    store = IndexStore(idx, "default")
    # the summary counts the chunks stored (a file's count is fixed when its batch is chunked)
    stored = store.open().db().execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert f"청크 {stored}개" in out and stored > 20, (out, stored)
    assert store.manifest().chunking == {"max_chars": 300, "min_chars": 120, "overlap_sentences": 0,
                                         "embed_max_chars": 200}
    monkeypatch.setenv("ASSISTANT_CHUNK_MAX_CHARS", "1500")
    monkeypatch.setenv("ASSISTANT_EMBED_MAX_CHARS", "0")
    assert cli(capsys, idx, "ingest", str(laws_copy), "--quiet")[0] == 0
    snap = store.open()
    assert snap.manifest.chunking["max_chars"] == 300 and snap.manifest.chunking["embed_max_chars"] == 200
    longest = snap.db().execute("SELECT max(length(text)), count(DISTINCT doc_id) FROM chunks").fetchone()
    # article heads are repeated on split 항 chunks, so allow their length on top of the limit
    assert longest[1] == 5 and longest[0] <= 300 + 40, longest


def test_remove_and_prune_documents(tmp_path, capsys, laws_copy):
    idx = tmp_path / "idx"
    assert cli(capsys, idx, "ingest", str(laws_copy), "--quiet")[0] == 0
    code, out, _ = cli(capsys, idx, "remove", str(laws_copy / "전자정부법_법률.md"))
    assert code == 0 and "1개" in out
    titles = {e.title for e in IndexStore(idx, "default").manifest().documents.values()}
    assert "전자정부법" not in titles and len(titles) == 4
    (laws_copy / "행정절차법_법률.md").unlink()
    code, out, _ = cli(capsys, idx, "ingest", str(laws_copy), "--prune", "--quiet")
    assert code == 0 and "삭제 1개" in out
    # 전자정부법 is still in the folder, so the re-ingest adds it back; 행정절차법 is gone
    titles = {e.title for e in IndexStore(idx, "default").manifest().documents.values()}
    assert "행정절차법" not in titles and "전자정부법" in titles and len(titles) == 4


def test_bad_input_is_reported_per_file_and_the_batch_continues(tmp_path, capsys, laws_copy, monkeypatch):
    idx = tmp_path / "idx"
    assert cli(capsys, idx, "ingest", str(laws_copy / "민원처리에관한법률_법률.md"), "--quiet")[0] == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "random.hwp").write_bytes(os.urandom(4096))
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\n" + os.urandom(300))
    (bad / "big.txt").write_text("가" * 5000, encoding="utf-8")
    (bad / "good.txt").write_text("청사 내 전기차 충전구역 운영 지침입니다. 충전은 평일 주간에만 가능합니다.",
                                  encoding="utf-8")
    odd = tmp_path / "notes.xyz"
    odd.write_text("무엇", encoding="utf-8")
    missing = tmp_path / "없는파일.pdf"
    monkeypatch.setenv("ASSISTANT_MAX_FILE_MB", "0.01")
    code, out, err = cli(capsys, idx, "ingest", str(bad), str(odd), str(missing), "--quiet")
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.startswith("실패:")]
    for name in ("empty.txt", "random.hwp", "corrupt.pdf", "big.txt", "notes.xyz", "없는파일.pdf"):
        matching = [ln for ln in lines if name in ln]
        assert len(matching) == 1, (name, lines)
    assert "성공 1개" in out and "실패 6개" in out
    good = search_json(capsys, idx, "전기차 충전구역", "--mode", "bm25")["hits"]
    assert good and good[0]["source"].endswith("good.txt")
    old = search_json(capsys, idx, "불필요한 서류 요구의 금지", "--mode", "bm25")["hits"]
    assert old and "제10조" in old[0]["location"]  # nothing already indexed was lost


#: ``assistant`` started with Ctrl-C in its default state, as a terminal starts it. A test run launched as a
#: background job of a non-interactive shell (``make test &``, nohup) has SIGINT *ignored*; its children inherit
#: that, Python then installs no KeyboardInterrupt handler, and the CLI rightly keeps ignoring the signal — so
#: the command ran to the end. What these tests check is the command's own handling of Ctrl-C.
INTERRUPTIBLE_CLI = [sys.executable, "-c",
                     "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                     "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
                     "runpy.run_module('assistant.cli', run_name='__main__')"]


def _subprocess_ingest(idx: Path, path: Path) -> subprocess.Popen:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(idx)}
    # --semantic later: the signal is meant for the ingest itself, not for the vector pass that follows it
    # (which a Ctrl-C ends gracefully, exit 0, the index already committed)
    return subprocess.Popen([*INTERRUPTIBLE_CLI, "ingest", str(path), "--quiet", "--semantic", "later"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)


def _searchable(capsys, idx) -> dict:
    data = search_json(capsys, idx, "불필요한 서류 요구의 금지", "--mode", "bm25")
    assert data["hits"] and "제10조" in data["hits"][0]["location"]
    return data


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_ingest_leaves_the_last_good_index_usable(tmp_path, capsys, laws_copy, sig):
    idx = tmp_path / "idx"
    assert cli(capsys, idx, "ingest", str(laws_copy), "--quiet")[0] == 0
    store = IndexStore(idx, "default")
    cases = tmp_path / "cases"
    shutil.copytree(CASES, cases)
    seen_generations = set()
    interrupted = 0
    for delay in (0.5, 2.0, 4.0, 6.0):
        proc = _subprocess_ingest(idx, cases)
        # wait for the child to report that it is ingesting (its signal handling is in place by then), not
        # for a fixed time: a cold machine may take longer than any fixed delay to start Python
        assert proc.stderr is not None
        assert proc.stderr.readline().decode().startswith("색인 시작")
        time.sleep(delay)
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            break            # it finished between the poll and the signal: nothing was interrupted
        interrupted += 1
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "마지막으로 저장된 색인" in err.decode()
        manifest = store.manifest()  # opens, parses
        seen_generations.add(manifest.generation)
        assert len(manifest.documents) >= 5
        _searchable(capsys, idx)
        snap = store.open()
        assert snap.size == manifest.chunk_count == sum(e.chunks for e in manifest.documents.values())
    assert interrupted >= 1, "no ingest was interrupted: the cases folder was ingested before any signal"
    # a final uninterrupted run completes the work from where the checkpoints left it
    code, out, err = cli(capsys, idx, "ingest", str(cases), "--quiet")
    assert code == 0, err
    manifest = store.manifest()
    assert len(manifest.documents) == 5 + 101
    assert not list(store.path.glob(".gen-*"))  # stale temporary generations were cleaned up
    _searchable(capsys, idx)
