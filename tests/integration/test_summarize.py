"""``assistant summarize`` end to end: single files, batches with a corrupt file, resume after a kill, indexed docs."""

from __future__ import annotations

import csv
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
from assistant.errors import AssistantError
from assistant.ingest.base import parse_file
from assistant.retrieve.filters import SearchFilter
from assistant.tasks.summarize import summarize_indexed
from assistant.tasks.summarize_batch import INDEX_CSV, STATE_FILE, summarize_batch

REPO = Path(__file__).resolve().parents[2]
DOCS = ["2024년 행정안전부 업무계획.md", "240418 도로터널 결로대책 가이드라인(최종).md",
        "(240411보도자료) 재정동향 4월호.md"]


@pytest.fixture()
def reports(shared_corpus, tmp_path) -> Path:
    """A folder of real reports plus two broken files and one we do not read."""
    src = shared_corpus / "allganize-public-docs"
    folder = tmp_path / "보고서"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(src / name, folder / name)
    (folder / "손상된 보고서.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    (folder / "깨진 문서.hwpx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "목록.jsonl").write_text("{}", encoding="utf-8")
    return folder


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def read_csv(out_dir: Path) -> dict[str, dict[str, str]]:
    with open(out_dir / INDEX_CSV, encoding="utf-8-sig", newline="") as fh:
        return {Path(r["file"]).name: r for r in csv.DictReader(fh)}


def test_single_file_prints_a_summary_and_json(capsys, shared_corpus) -> None:
    path = shared_corpus / "allganize-public-docs" / DOCS[0]
    code, out, err = cli(capsys, "summarize", str(path), "--length", "five-lines")
    assert code == 0, err
    body = out.split("\n\n", 1)[1]
    assert len([ln for ln in body.split("\n") if ln.strip()]) <= 5 and body.startswith("□")
    code, out, err = cli(capsys, "summarize", str(path), "--length", "8 lines", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"title", "text", "source", "sections", "lines"}
    assert data["lines"] <= 8 and data["sections"][0]["items"]


def test_bad_input_is_a_korean_error_without_traceback(capsys, tmp_path) -> None:
    bad = tmp_path / "문서.xyz"
    bad.write_text("x", encoding="utf-8")
    code, out, err = cli(capsys, "summarize", str(bad))
    assert code == 1 and err.startswith("오류:") and "Traceback" not in err
    code, _, err = cli(capsys, "summarize", str(tmp_path / "없는파일.pdf"), "--out", str(tmp_path / "o"))
    assert code == 1 and "오류:" in err
    code, _, err = cli(capsys, "summarize", str(tmp_path), "--length", "반 쪽")
    assert code == 1 and "분량" in err


def test_batch_skips_corrupt_files_writes_csv_and_resumes(capsys, reports, tmp_path) -> None:
    out_dir = tmp_path / "요약"
    code, out, err = cli(capsys, "summarize", str(reports), "--out", str(out_dir), "--format", "md,docx,hwpx",
                         "--length", "12 lines", "--quiet")
    assert code == 1, "a failed file makes the exit status 1"
    assert "실패: " in err and "손상된 보고서.pdf" in err and "Traceback" not in err
    rows = read_csv(out_dir)
    assert {r["status"] for n, r in rows.items() if n in DOCS} == {"ok"}
    assert rows["손상된 보고서.pdf"]["status"] == "failed" and rows["손상된 보고서.pdf"]["error"]
    assert rows["깨진 문서.hwpx"]["status"] == "failed"
    assert rows["목록.jsonl"]["status"] == "unsupported"
    for name in DOCS:
        stem = Path(name).stem
        for ext in ("md", "docx", "hwpx"):
            assert (out_dir / f"{stem}.{ext}").is_file(), (stem, ext)
        assert 0 < int(rows[name]["lines"]) <= 12
        hwpx_lines = [b.text for b in parse_file(out_dir / f"{stem}.hwpx").blocks]
        md = (out_dir / f"{stem}.md").read_text(encoding="utf-8")
        assert [t for t in hwpx_lines if t.startswith("□")] == [ln.strip() for ln in md.split("\n")
                                                                if ln.startswith("□")]
    # rerun: finished files are skipped, the broken ones are tried (and fail) again
    code, out, err = cli(capsys, "summarize", str(reports), "--out", str(out_dir), "--format", "md,docx,hwpx",
                         "--length", "12 lines", "--quiet")
    assert code == 1
    rows = read_csv(out_dir)
    assert {rows[n]["status"] for n in DOCS} == {"skipped"}
    assert rows["손상된 보고서.pdf"]["status"] == "failed"
    # a changed file is summarised again; other options invalidate the record as well
    (reports / DOCS[1]).write_text((reports / DOCS[1]).read_text(encoding="utf-8") + "\n추가 문단입니다.\n",
                                   encoding="utf-8")
    report = summarize_batch([reports / n for n in DOCS], out_dir, settings=_settings(),
                             formats="md,docx,hwpx", length="12 lines")
    assert [i.status for i in report.items] == ["skipped", "ok", "skipped"]
    report = summarize_batch([reports / n for n in DOCS], out_dir, settings=_settings(), formats="md",
                             length="5 lines")
    assert [i.status for i in report.items] == ["ok", "ok", "ok"] and report.ok


def _settings():
    from assistant.config import Settings

    return Settings()


def test_killed_batch_resumes_where_it_stopped(shared_corpus, tmp_path) -> None:
    src = shared_corpus / "allganize-public-docs"
    folder = tmp_path / "많은 보고서"
    folder.mkdir()
    names = sorted(p.name for p in src.glob("*.md") if p.name != "README.md")
    for copy in range(3):
        for name in names:
            shutil.copy(src / name, folder / f"{copy}-{name}")
    out_dir = tmp_path / "요약"
    cmd = [sys.executable, "-m", "assistant.cli", "summarize", str(folder), "--out", str(out_dir), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state = out_dir / STATE_FILE
    deadline = time.time() + 120
    done_before = 0
    while time.time() < deadline and proc.poll() is None:
        if state.is_file():
            try:
                done_before = sum(1 for e in json.loads(state.read_text(encoding="utf-8"))["files"].values()
                                  if e["status"] == "ok")
            except (json.JSONDecodeError, KeyError):
                done_before = 0
            if done_before >= 3:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be interrupted"
    assert 3 <= done_before < len(names) * 3
    # the kill may land inside an atomic write: its temporary file may remain, but every file under its
    # final name is complete (the state file parses, every summary written so far is whole)
    json.loads(state.read_text(encoding="utf-8"))
    for md in out_dir.glob("*.md"):
        assert md.read_text(encoding="utf-8").strip(), md
    rerun = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(out_dir.glob(".*.tmp")), "the rerun removes temporaries a killed run left behind"
    rows = read_csv(out_dir)
    assert len(rows) == len(names) * 3
    skipped = [n for n, r in rows.items() if r["status"] == "skipped"]
    assert len(skipped) >= done_before
    assert {r["status"] for r in rows.values()} <= {"ok", "skipped"}
    assert all((out_dir / f"{Path(n).stem}.md").is_file() for n in rows)


def test_a_second_batch_into_the_same_folder_is_refused_while_one_runs(tmp_path) -> None:
    import fcntl

    from assistant.errors import AssistantError
    from assistant.tasks.summarize_batch import LOCK_FILE

    src = tmp_path / "보고서"
    src.mkdir()
    (src / "a.md").write_text("# 보고\n\n민원 처리 기간을 단축했다. 처리 건수는 1,204건이다.\n", encoding="utf-8")
    out_dir = tmp_path / "요약"
    out_dir.mkdir()
    stale = out_dir / ".a.md.x1y2z3.tmp"
    stale.write_text("반쯤 쓴 파일", encoding="utf-8")
    with open(out_dir / LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another batch is running here
        with pytest.raises(AssistantError, match="다른 일괄 요약"):
            summarize_batch([src], out_dir, settings=_settings(), formats="md", length="5 lines")
        assert stale.exists(), "nothing is touched while the other batch holds the folder"
        fcntl.flock(held, fcntl.LOCK_UN)
    report = summarize_batch([src], out_dir, settings=_settings(), formats="md", length="5 lines")
    assert report.ok and not stale.exists() and (out_dir / "a.md").is_file()


def test_interrupt_with_ctrl_c_is_reported_and_resumable(shared_corpus, tmp_path) -> None:
    src = shared_corpus / "allganize-public-docs"
    folder = tmp_path / "보고서"
    folder.mkdir()
    for copy in range(3):
        for p in src.glob("*.md"):
            shutil.copy(p, folder / f"{copy}-{p.name}")
    out_dir = tmp_path / "요약"
    # Ctrl-C in its default state in the child, as a terminal starts it (see test_ingest_cli.INTERRUPTIBLE_CLI)
    cmd = [sys.executable, "-c", "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
           "runpy.run_module('assistant.cli', run_name='__main__')",
           "summarize", str(folder), "--out", str(out_dir), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not (out_dir / STATE_FILE).is_file():
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "다시 실행하면 이어서" in err and "Traceback" not in err


def test_indexed_document_is_summarised_with_access_control(sample_index) -> None:
    from assistant.index.store import IndexStore

    snap = IndexStore(sample_index.index_dir, sample_index.index_name).open()
    doc = next(r for r in snap.documents() if r["title"] == "민원 처리에 관한 법률")
    summary = summarize_indexed(doc["doc_id"], settings=sample_index, length="6 lines")
    assert summary.doc_id == doc["doc_id"] and summary.title == "민원 처리에 관한 법률"
    assert 1 <= summary.lines <= 6 and summary.text.startswith("□")
    by_source = summarize_indexed(doc["source"], settings=sample_index, length="6 lines")
    assert by_source.text == summary.text
    # a filter that excludes the document answers exactly like a missing document
    hidden = SearchFilter(doc_types=("pdf",))
    with pytest.raises(AssistantError, match="찾을 수 없거나 열람 권한이 없습니다"):
        summarize_indexed(doc["doc_id"], settings=sample_index, flt=hidden)
    with pytest.raises(AssistantError, match="찾을 수 없거나 열람 권한이 없습니다"):
        summarize_indexed("d0000000000000000", settings=sample_index)


def test_cli_summarizes_an_indexed_document(capsys, sample_index) -> None:
    from assistant.index.store import IndexStore

    snap = IndexStore(sample_index.index_dir, sample_index.index_name).open()
    doc = next(r for r in snap.documents() if r["title"] == "행정절차법")
    code, out, err = cli(capsys, "--index-dir", str(sample_index.index_dir), "summarize", doc["doc_id"],
                         "--index", sample_index.index_name, "--json", "--length", "five-lines")
    assert code == 0, err
    data = json.loads(out)
    assert data["doc_id"] == doc["doc_id"] and data["lines"] <= 5
