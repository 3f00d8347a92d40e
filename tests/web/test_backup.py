"""``assistant backup`` / ``assistant restore`` end to end (issue 16 item 8): a real installation — an index of
the samples with part of its semantic layer filled, users made by the CLI, an upload, a batch summary, a chat
and their audit entries made through the real server — is backed up, wiped and restored; search returns the
same passages with the same scores, the users log in, the uploaded document and the job result are back and
``assistant audit verify`` passes. A damaged backup is refused before anything live is touched."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import pytest
from webtools import PASSWORD, REPO, add_users_cli, cli_env, fresh_client, login, run_cli, serving, wait_job

QUERIES = ["민원 처리기간은 어떻게 계산하나요?", "정보공개 청구 결정 기간", "청사 전기차 충전소 위치",
           "행정절차법 사전통지", "관용차량 배차 신청"]
UPLOAD = ("# 청사 전기차 충전소 안내\n\n청사 전기차 충전소는 지하 2층에 있으며 민원인은 1시간까지 무료로 "
          "충전할 수 있다.\n")


def _settings(index_dir, data_dir):
    from assistant.config import Settings

    return Settings(index_dir=index_dir, index_name="default", data_dir=data_dir, semantic_embedder="e5-small")


def _results(settings) -> list[list[tuple]]:
    """Every query's hits as (doc id, index positions, score): equal lists mean the same ranking."""
    from assistant.retrieve.search import open_retriever

    retriever = open_retriever(settings)
    return [[(h.doc_id, tuple(h.positions), round(h.score, 6)) for h in retriever.search(q, k=5, mode="hybrid")]
            for q in QUERIES]


def _fill_some_semantic_vectors(settings) -> int:
    """One batch of the e5 pass, so the restored index must bring its semantic store along."""
    from assistant.index.semantic import coverage, fill_index
    from assistant.index.store import IndexStore

    store = IndexStore(settings.index_dir, settings.index_name)
    stop = threading.Event()
    fill_index(settings, store, stop=stop, progress=lambda done, total: stop.set())
    return coverage(settings, store)[0]


@pytest.fixture(scope="module")
def installation(web_index, tmp_path_factory):
    """A used installation: what the server wrote, the search results and the job result before backup."""
    root = tmp_path_factory.mktemp("backup")
    index_dir, data_dir = root / "indexes", root / "data"
    shutil.copytree(web_index, index_dir)
    settings = _settings(index_dir, data_dir)
    assert _fill_some_semantic_vectors(settings) > 0
    env = cli_env(index_dir, data_dir, ASSISTANT_SEMANTIC_EMBEDDER="e5-small")
    add_users_cli(env)
    with serving(env, root / "server.log", timeout=180) as (url, _proc, _):
        with fresh_client(url) as c:
            login(c, "officer")
            sent = c.post("/api/documents", data={"access_level": "공개"},
                          files=[("files", ("전기차충전소.md", UPLOAD.encode(), "text/markdown"))])
            assert sent.status_code == 200, sent.text
            assert wait_job(c, sent.json()["job"]["id"])["status"] == "done"
            batch = c.post("/api/batch", data={"formats": "md"},
                           files=[("files", ("주차안내.md", UPLOAD.encode(), "text/markdown"))])
            assert batch.status_code == 200, batch.text
            job = wait_job(c, batch.json()["job"]["id"])
            assert job["status"] == "done" and job["download"], job
            result_zip = c.get(job["download"]).content
            chat = c.post("/api/chat/stream", json={"mode": "ask", "text": "민원 처리기간은 어떻게 계산하나요?",
                                                    "index": "default", "doc_ids": []})
            assert chat.status_code == 200 and '"done"' in chat.text
            conversations = c.get("/api/conversations").json()
    return {"root": root, "env": env, "settings": settings, "index_dir": index_dir, "data_dir": data_dir,
            "results": _results(settings), "result_zip": result_zip, "job": job, "conversations": conversations}


def test_backup_wipe_restore_gives_back_the_same_installation(installation):
    inst, env = installation, installation["env"]
    assert all(len(hits) == 5 for hits in inst["results"])
    target = inst["root"] / "backup-1"
    made = run_cli(env, "backup", str(target))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((target / "backup.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["users"] == 4 and manifest["counts"]["jobs"] == 2
    assert manifest["counts"]["conversations"] == 1 and manifest["counts"]["audit_log"] >= 4
    paths = {f["path"] for f in manifest["files"]}
    assert "database/assistant.db" in paths and "secret_key" in paths
    assert any(p.startswith("indexes/default/") and p.endswith("vectors.sqlite") for p in paths)
    assert any(p.startswith("data/uploads/default/") for p in paths)
    assert f"data/jobs/{inst['job']['id']}/result.zip" in paths

    refused = run_cli(env, "restore", str(target))    # the live installation is still there
    assert refused.returncode == 1 and "--force" in refused.stderr

    shutil.rmtree(inst["data_dir"])
    shutil.rmtree(inst["index_dir"])
    restored = run_cli(env, "restore", str(target))
    assert restored.returncode == 0, restored.stderr

    assert _results(inst["settings"]) == inst["results"]
    verified = run_cli(env, "audit", "verify")
    assert verified.returncode == 0 and "지워지거나 고쳐진 기록이 없습니다" in verified.stdout, verified.stdout
    with serving(env, inst["root"] / "server-restored.log", timeout=180) as (url, _proc, _):
        with fresh_client(url) as c:
            login(c, "officer", PASSWORD)
            hits = c.post("/api/search", json={"query": "전기차 충전소 위치", "k": 3}).json()["hits"]
            assert hits[0]["title"] == "청사 전기차 충전소 안내"
            assert c.get(inst["job"]["download"]).content == inst["result_zip"]
            assert c.get("/api/conversations").json() == inst["conversations"]
            # a session made before the backup is not a login after it: only the restored secret makes
            # new ones verifiable, and every user can still sign in
            for name in ("admin", "public", "auditor"):
                with fresh_client(url) as other:
                    login(other, name, PASSWORD)
    assert run_cli(env, "audit", "verify").returncode == 0     # with the server's new entries too


def test_a_damaged_backup_is_refused_before_anything_changes(installation, tmp_path):
    inst, env = installation, installation["env"]
    target = tmp_path / "backup-2"
    assert run_cli(env, "backup", str(target)).returncode == 0
    before = _results(inst["settings"])
    intact = tmp_path / "backup-2-intact"
    shutil.copytree(target, intact)
    meta = next((target / "indexes" / "default").glob("*/meta.sqlite"))
    with open(meta, "r+b") as fh:           # one flipped byte in the middle of the index database
        fh.seek(meta.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    checked = run_cli(env, "restore", "--check", str(target))
    assert checked.returncode == 1 and "meta.sqlite" in checked.stderr and "sha256" in checked.stderr
    forced = run_cli(env, "restore", "--force", str(target))
    assert forced.returncode == 1 and "meta.sqlite" in forced.stderr
    assert _results(inst["settings"]) == before          # the live index was not touched
    assert not list(inst["root"].glob("*before-restore*"))
    assert not list(inst["root"].glob(".*.restore-*"))

    not_a_backup = run_cli(env, "restore", str(tmp_path))
    assert not_a_backup.returncode == 1 and "백업 폴더가 아닙니다" in not_a_backup.stderr

    # restored somewhere else (a drill on the same machine): it works, and says what will not
    elsewhere = cli_env(tmp_path / "drill" / "indexes", tmp_path / "drill" / "data")
    drill = run_cli(elsewhere, "restore", str(intact))
    assert drill.returncode == 0, drill.stderr
    assert "주의" in drill.stdout and str(inst["data_dir"]) in drill.stdout
    assert _results(_settings(tmp_path / "drill" / "indexes", tmp_path / "drill" / "data")) == before
    assert run_cli(elsewhere, "audit", "verify").returncode == 0


def test_backup_and_restore_on_postgresql(web_index, pg_cluster, tmp_path):
    """The same drill with the database on PostgreSQL (pg_dump / pg_restore in one transaction): the
    database is dropped and created empty, as on a new server, and the restore brings users and chain back."""
    import psycopg
    from sqlalchemy.engine import make_url

    index_dir, data_dir = tmp_path / "indexes", tmp_path / "data"
    shutil.copytree(web_index, index_dir)
    url = pg_cluster.create_database()
    env = cli_env(index_dir, data_dir, ASSISTANT_DATABASE_URL=url)
    add_users_cli(env)
    users = run_cli(env, "user", "list").stdout
    made = run_cli(env, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text(encoding="utf-8"))
    assert manifest["database"] == "postgresql" and manifest["counts"]["users"] == 4
    assert "database/postgresql.dump" in {f["path"] for f in manifest["files"]}

    name = make_url(url).database
    with psycopg.connect(host=str(pg_cluster.socket_dir), user="postgres", dbname="postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(data_dir)
    shutil.rmtree(index_dir)
    restored = run_cli(env, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    assert run_cli(env, "user", "list").stdout == users
    verified = run_cli(env, "audit", "verify")
    assert verified.returncode == 0 and "감사 기록 5개를" in verified.stdout, verified.stdout   # 4 users + the restore
    again = run_cli(env, "restore", str(tmp_path / "backup"))
    assert again.returncode == 1 and "PostgreSQL" in again.stderr and "--force" in again.stderr


def test_a_backup_waits_for_the_index_writer_and_leaves_nothing_half_made(web_index, tmp_path):
    """The index's write lock is held (as by an ingest): the backup says it waits, finishes once the lock is
    released, and gives up with a clear error — leaving no backup folder — when told not to wait."""
    from assistant.index.store import IndexStore

    index_dir, data_dir = tmp_path / "indexes", tmp_path / "data"
    shutil.copytree(web_index, index_dir)
    env = cli_env(index_dir, data_dir)
    assert run_cli(env, "user", "add", "admin", "--admin", "--password-stdin", "--keep-password",
                   stdin=PASSWORD + "\n").returncode == 0
    store = IndexStore(index_dir, "default")
    with store.write_lock():
        refused = run_cli(env, "backup", str(tmp_path / "b0"), "--lock-wait", "0")
        assert refused.returncode == 1 and "다른 작업이 쓰고 있어" in refused.stderr and "--lock-wait" in refused.stderr
        assert not list(tmp_path.glob("b0*")) and not list(index_dir.glob(".backup-snapshot-*"))
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "backup", str(tmp_path / "b1")], env=env,
                                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:                 # the event: the backup reports that it is waiting
            if "기다립니다" in line:
                break
        assert proc.poll() is None and not (tmp_path / "b1").exists()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "백업을 만들었습니다" in out and (tmp_path / "b1" / "backup.json").is_file()
    assert run_cli(env, "restore", "--check", str(tmp_path / "b1")).returncode == 0
