"""PostgreSQL for real (issue 16, item 5): the web app's schema, locks and claims on a throwaway PostgreSQL
cluster (tests/web/pg.py). The web tests that exercise SQL also run on PostgreSQL through the ``database``
fixture (tests/web/conftest.py); these are the checks only PostgreSQL needs: its own migrations, two
connections or processes racing for one job and for the audit chain, and tampering found by the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from webtools import REPO, cli_env, login, run_cli

ON_POSTGRES = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def _engine(url: str):
    from assistant.web.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def test_migrations_create_exactly_the_models_schema_on_postgresql(pg_cluster):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.web.db import Base

    engine = _engine(pg_cluster.create_database())
    try:
        _engine(engine.url.render_as_string(hide_password=False)).dispose()   # idempotent on every start
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql"
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert conn.execute(text("SELECT last_id FROM audit_chain WHERE id = 1")).scalar() == 0
    finally:
        engine.dispose()


def test_an_old_postgresql_database_with_rows_is_upgraded_masked_and_chained(pg_cluster, caplog):
    """The data migrations (masking, the audit chain's anchor) on PostgreSQL's types, then a new entry."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy.orm import sessionmaker
    from test_pii_at_rest import _leaks, _text

    from assistant.web.audit import chain_key, record, verify
    from assistant.web.db import MIGRATIONS_DIR, make_engine, upgrade

    engine = make_engine(pg_cluster.create_database())
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
        at = "TIMESTAMP '2026-01-01 00:00:00'"
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, is_admin, clearance, department, "
                          f"active, created_at) VALUES ('officer', 'officer', 'x', false, '내부', '', true, {at})"))
        conn.execute(text("INSERT INTO conversations (user_id, title, mode, index_name, doc_ids, created_at, "
                          f"updated_at) VALUES (1, :t, 'ask', '', '[]', {at}, {at})"), {"t": "010-9876-5432 문의"})
        conn.execute(text("INSERT INTO messages (conversation_id, role, mode, content, citations, abstained, "
                          f"created_at) VALUES (1, 'user', 'ask', :c, '[]', false, {at})"), {"c": _text()})
        for name in ("900101-1234567", "officer"):
            conn.execute(text("INSERT INTO audit_log (user_id, username, action, query, doc_ids, detail, created_at) "
                              f"VALUES (NULL, :u, 'login_failed', '', '[]', :d, {at})"), {"u": name, "d": name})
    with caplog.at_level("WARNING"):
        upgrade(engine)
    assert "messages 1행" in caplog.text and "audit_log.login_failed 1행" in caplog.text
    with engine.connect() as conn:
        stored = [str(v) for t in ("messages", "conversations", "audit_log")
                  for row in conn.execute(text(f"SELECT * FROM {t}")) for v in row]
        assert conn.execute(text("SELECT anchor_id, last_id FROM audit_chain")).one() == (2, 2)
    assert stored and not _leaks("\n".join(stored))
    key = chain_key(b"k" * 32)
    with sessionmaker(engine).begin() as db:      # the chain goes on after the rows written before it
        assert record(db, key, user_id=1, username="officer", action="login").id == 3
    with sessionmaker(engine)() as db:
        report = verify(db, key)
    assert report.ok and (report.legacy, report.checked) == (2, 1), report
    engine.dispose()


# ---------------------------------------------------------------------------------------------- job claims

def _queue_jobs(engine, n: int) -> list[str]:
    from sqlalchemy.orm import sessionmaker

    from assistant.web.jobs import new_job

    with sessionmaker(engine).begin() as db:
        return [new_job(db, "summarize", None, {"files": []}, 0, job_id=f"job-{i:03d}").id for i in range(n)]


def test_a_job_two_connections_race_for_is_claimed_by_exactly_one(pg_cluster):
    """Deterministic race: A has claimed the job but not committed; B, having seen it queued, blocks on the row;
    A commits; B's conditional UPDATE finds it running and claims nothing."""
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from assistant.web.db import Job, make_engine
    from assistant.web.jobs import Worker

    url = pg_cluster.create_database()
    engine_a, engine_b, watcher = _engine(url), make_engine(url), make_engine(url)
    (job_id,) = _queue_jobs(engine_a, 1)
    a_claimed, results = threading.Event(), {}

    @event.listens_for(engine_a, "after_cursor_execute")
    def _hold(conn, cursor, statement, *args):
        if statement.startswith("UPDATE jobs"):
            a_claimed.set()
            _wait_for_a_lock_wait(watcher)   # commit only once B is blocked on the row

    def claim(name: str, engine) -> None:
        results[name] = Worker(None, sessionmaker(engine), REPO)._claim()  # type: ignore[arg-type]

    a = threading.Thread(target=claim, args=("a", engine_a))
    a.start()
    assert a_claimed.wait(30)
    claim("b", engine_b)
    a.join(30)
    assert results == {"a": job_id, "b": None}
    with sessionmaker(engine_b)() as db:
        job = db.get(Job, job_id)
        assert (job.status, job.attempts) == ("running", 1)
    for e in (engine_a, engine_b, watcher):
        e.dispose()


def _wait_for_a_lock_wait(watcher, timeout: float = 30.0) -> None:
    """Until another backend waits for a row lock (pg_stat_activity), polled: the event, not a fixed time."""
    deadline = time.monotonic() + timeout
    with watcher.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))
            if waiting.scalar():
                return
            conn.rollback()
            time.sleep(0.01)
    raise TimeoutError("the second claim never waited for the first one's row lock")


CLAIMER = """
import json, sys
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from assistant.web.db import Job, make_engine
from assistant.web.jobs import Worker

engine = make_engine(sys.argv[1])
sessions = sessionmaker(engine)
worker = Worker(None, sessions, ".")
print("ready", flush=True)
sys.stdin.readline()
claimed, lost = [], 0
while True:
    got = worker._claim()
    if got:
        claimed.append(got)
        continue
    with sessions() as db:
        if not db.scalar(select(func.count()).select_from(Job).where(Job.status == "queued")):
            break
    lost += 1
print(json.dumps({"claimed": claimed, "lost": lost}), flush=True)
"""


def test_two_processes_claiming_queued_jobs_run_each_exactly_once(pg_cluster):
    from assistant.web.db import Job

    url = pg_cluster.create_database()
    engine = _engine(url)
    ids = _queue_jobs(engine, 40)
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, url], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:    # both connected and waiting: then released together
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    first, second = (set(o["claimed"]) for o in outs)
    assert not first & second                      # no job claimed by both
    assert first | second == set(ids)              # and none left behind
    with engine.connect() as conn:
        attempts = conn.execute(select(Job.attempts, func.count()).group_by(Job.attempts)).all()
    assert attempts == [(1, len(ids))]
    engine.dispose()


# ---------------------------------------------------------------------------------------------- audit chain

@ON_POSTGRES
def test_the_audit_chain_head_is_a_row_lock_on_postgresql(make_app):
    """What record() relies on: once a writer has touched the head row, another connection cannot take it."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    from assistant.web.audit import _lock_chain

    app = make_app(users=False)
    sessions = app.state.assistant.sessions
    with sessions.begin() as holder:
        _lock_chain(holder)
        with sessions() as other, pytest.raises(OperationalError) as refused:
            other.execute(text("SELECT id FROM audit_chain WHERE id = 1 FOR UPDATE NOWAIT"))
        assert isinstance(refused.value.orig, psycopg.errors.LockNotAvailable)
    with sessions() as other:    # released at commit
        assert other.execute(text("SELECT id FROM audit_chain WHERE id = 1 FOR UPDATE NOWAIT")).scalar() == 1


@ON_POSTGRES
def test_audit_entries_written_at_once_from_two_connections_keep_a_valid_chain(make_app, web_index, tmp_path):
    from assistant.web.audit import record
    from assistant.web.db import AuditEntry

    data = tmp_path / "audit-data"
    app = make_app(data_dir=data, users=False)
    sessions = app.state.assistant.sessions
    start, per_writer, errors = threading.Barrier(2), 60, []

    def write(name: str) -> None:
        start.wait()
        try:
            for i in range(per_writer):
                with sessions.begin() as db:
                    record(db, db.info["audit_key"], user_id=None, username=name, action="search", query=f"질의 {i}")
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below, not lost in the thread
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in ("writer-a", "writer-b")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    assert not errors, errors
    with sessions() as db:
        names = list(db.scalars(select(AuditEntry.username).order_by(AuditEntry.id)))
    assert len(names) == 2 * per_writer
    assert sum(a != b for a, b in zip(names, names[1:], strict=False)) > 1   # the writers did interleave
    env = cli_env(web_index, data, ASSISTANT_DATABASE_URL=app.state.assistant.settings.database_url)
    ok = run_cli(env, "audit", "verify")
    assert ok.returncode == 0 and "지워지거나 고쳐진 기록이 없습니다" in ok.stdout, ok.stdout + ok.stderr


@ON_POSTGRES
def test_audit_verify_finds_a_deleted_and_an_edited_entry_on_postgresql(make_app, web_index, tmp_path):
    data = tmp_path / "audit-data"
    app = make_app(data_dir=data)
    with TestClient(app, client=("10.0.0.50", 50000)) as c:
        login(c, "officer")
        for q in ("민원 처리기간", "정보공개 청구", "주차장 이용 시간", "전자문서 효력"):
            c.post("/api/search", json={"query": q})
    url = app.state.assistant.settings.database_url
    env = cli_env(web_index, data, ASSISTANT_DATABASE_URL=url)
    assert run_cli(env, "audit", "verify").returncode == 0
    engine = app.state.assistant.sessions.kw["bind"]
    with engine.begin() as conn:
        ids = list(conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars())
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
        conn.execute(text("UPDATE audit_log SET query = '다른 질문' WHERE id = :i"), {"i": ids[3]})
    bad = run_cli(env, "audit", "verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"기록 #{ids[2]} 앞의 기록이 지워졌거나" in bad.stdout and f"기록 #{ids[3]}" in bad.stdout
    assert "내용이 바뀌었습니다" in bad.stdout


# ---------------------------------------------------------------------------------------------- the app

@ON_POSTGRES
def test_two_apps_on_one_database_share_sessions_and_rate_limits(make_app, tmp_path):
    """As two server processes behind a load balancer: a login made on one is valid on the other, and the
    model endpoints' bucket is one bucket."""
    data = tmp_path / "shared-data"      # the same secret key file, as two processes of one deployment
    first = make_app(data_dir=data, rate_limit_per_minute=2, rate_limit_burst=2)
    second = make_app(data_dir=data, users=False, rate_limit_per_minute=2, rate_limit_burst=2)
    with TestClient(first) as a, TestClient(second) as b:
        login(a, "public")
        b.cookies.update(a.cookies)
        b.headers["X-CSRF-Token"] = a.headers["X-CSRF-Token"]
        assert a.post("/api/ask", json={"question": "민원 처리기간?"}).status_code == 200
        assert b.post("/api/ask", json={"question": "민원 처리기간?"}).status_code == 200
        refused = a.post("/api/ask", json={"question": "민원 처리기간?"})
        assert refused.status_code == 429 and "초 뒤" in refused.json()["detail"]
        assert b.post("/api/ask", json={"question": "민원 처리기간?"}).status_code == 429


@ON_POSTGRES
def test_an_upload_is_ingested_by_the_worker_and_personal_data_stays_masked(make_app):
    from test_pii_at_rest import _leaks, _text
    from test_web_api import wait_job

    from assistant.web.db import Base

    app = make_app(private_index=True)
    planted = _text()
    memo = "# 주차 민원 회신 메모\n\n청사 주차장 야간 개방은 평일 오후 9시까지이다.\n".encode()
    with TestClient(app, client=("10.0.0.90", 50000)) as c:
        login(c, "officer")
        r = c.post("/api/documents", files=[("files", ("주차메모.md", memo, "text/markdown"))],
                   data={"access_level": "공개"})
        assert r.status_code == 200, r.text
        assert wait_job(c, r.json()["job"]["id"])["status"] == "done"
        hits = c.post("/api/search", json={"query": "주차장 야간 개방 시간", "k": 3}).json()["hits"]
        assert hits and hits[0]["title"] == "주차 민원 회신 메모"
        stream = c.post("/api/chat/stream", json={"mode": "ask", "text": f"주차 문의입니다. {planted}"})
        message_id = int(json.loads(next(line[6:] for line in reversed(stream.text.splitlines())
                                         if line.startswith("data: ")))["message_id"])
        c.post(f"/api/messages/{message_id}/feedback", json={"rating": -1, "comment": planted})
    engine = app.state.assistant.sessions.kw["bind"]
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM documents WHERE original_name = '주차메모.md'")).scalar()
        rows = [str(v) for t in Base.metadata.sorted_tables for row in conn.execute(t.select()) for v in row]
    assert status == "ok"
    blob = "\n".join(rows)
    assert "주차 문의입니다" in blob and not _leaks(blob), _leaks(blob)


def test_every_test_chosen_for_both_databases_exists():
    """A renamed test would silently stop running on PostgreSQL: the list in pg.py must name real tests."""
    import importlib

    from pg import ON_BOTH_DATABASES

    for module, names in ON_BOTH_DATABASES.items():
        found = importlib.import_module(module)
        assert names and all(callable(getattr(found, n, None)) for n in names), (module, names)
