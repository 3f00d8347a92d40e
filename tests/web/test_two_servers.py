"""Two separate ``assistant serve`` processes on two ports, one database and one index folder — app nodes
behind a load balancer (issue 16 item 6). Whatever one node starts, the other continues: a login and its CSRF
token, the model endpoints' rate limit, a background job (run by exactly one of them) and the index
generation it commits, seen by the other node without a restart."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import ExitStack

import httpx
import pytest
from webtools import add_users_cli, cli_env, fresh_client, login, serving, wait_job


@pytest.fixture(scope="module")
def two_nodes(web_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("two-nodes")
    index_dir = root / "indexes"
    shutil.copytree(web_index, index_dir)          # this module adds a document: keep the shared copy clean
    data_dir = root / "data"
    env = cli_env(index_dir, data_dir, ASSISTANT_RATE_LIMIT_PER_MINUTE="3", ASSISTANT_RATE_LIMIT_BURST="3")
    add_users_cli(env)
    with ExitStack() as stack:
        a = stack.enter_context(serving(env, root / "node-a.log", timeout=180))
        b = stack.enter_context(serving(env, root / "node-b.log", timeout=180))
        assert a[0] != b[0] and a[1].pid != b[1].pid
        yield {"a": a[0], "b": b[0], "data_dir": data_dir, "index_dir": index_dir}


def _on(url: str, first: httpx.Client) -> httpx.Client:
    """A client for another node carrying the browser state (cookie, CSRF header) ``first`` got."""
    return fresh_client(url, cookies=first.cookies, headers={"X-CSRF-Token": first.headers["X-CSRF-Token"]})


def test_a_login_and_its_csrf_token_from_node_a_work_on_node_b(two_nodes):
    with fresh_client(two_nodes["a"]) as a:
        login(a, "officer")
        with _on(two_nodes["b"], a) as b:
            assert b.get("/api/me").json()["username"] == "officer"
            assert b.post("/api/search", json={"query": "민원 처리기간", "k": 1}).status_code == 200
            b.headers.pop("X-CSRF-Token")
            assert b.post("/api/search", json={"query": "민원 처리기간", "k": 1}).status_code == 403
            ended = b.post("/logout", data={"csrf_token": a.headers["X-CSRF-Token"]}, follow_redirects=False)
            assert ended.status_code == 303
        assert a.get("/api/me").status_code == 401            # logged out on B: gone on A too


def test_the_rate_limit_counts_requests_on_both_nodes(two_nodes):
    with fresh_client(two_nodes["a"]) as a:
        login(a, "public")
        with _on(two_nodes["b"], a) as b:
            codes = [(a if i % 2 else b).post("/api/ask", json={"question": "청사 주차장은 몇 시까지 무료인가요?"})
                     .status_code for i in range(6)]
    # burst 3 for the user across both nodes (one bucket per node would have allowed all 6)
    assert codes.count(200) == 3 and codes.count(429) == 3, codes


def test_an_upload_on_node_a_runs_once_and_is_found_on_node_b(two_nodes):
    text = "# 청사 자전거 보관소 안내\n\n청사 자전거 보관소는 본관 동쪽 출입구 옆에 있으며 누구나 무료로 쓸 수 있다.\n"
    with fresh_client(two_nodes["b"]) as b:
        login(b, "officer")
        before = b.post("/api/search", json={"query": "자전거 보관소 위치", "k": 3}).json()["hits"]
        assert all(h["title"] != "청사 자전거 보관소 안내" for h in before)
        with _on(two_nodes["a"], b) as a:
            sent = a.post("/api/documents", data={"access_level": "공개"},
                          files=[("files", ("자전거보관소.md", text.encode(), "text/markdown"))])
            assert sent.status_code == 200, sent.text
            job = wait_job(a, sent.json()["job"]["id"])
        assert job["status"] == "done" and [i["status"] for i in job["items"]] == ["ok"], job
        assert b.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
        found = b.post("/api/search", json={"query": "자전거 보관소 위치", "k": 3}).json()["hits"]
        assert found[0]["title"] == "청사 자전거 보관소 안내"
    with sqlite3.connect(two_nodes["data_dir"] / "assistant.db") as db:
        attempts = db.execute("SELECT attempts FROM jobs WHERE id = ?", (job["id"],)).fetchone()[0]
        uploads = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'upload'").fetchone()[0]
        rows = db.execute("SELECT COUNT(*), MIN(status) FROM documents WHERE job_id = ?", (job["id"],)).fetchone()
    assert attempts == 1 and uploads == 1 and rows == (1, "ok")


def test_starting_another_node_leaves_a_job_a_live_node_is_running_alone(two_nodes, tmp_path):
    """A third node starting (a rolling restart) must not take over a job node A is in the middle of: the
    job's heartbeat is fresh, so no node's start-up or sweep queues it again."""
    import threading

    from sqlalchemy import select, update

    from assistant.web.db import Job, make_engine, session_factory, utcnow
    from assistant.web.jobs import new_job

    engine = make_engine(f"sqlite:///{two_nodes['data_dir'] / 'assistant.db'}")
    sessions = session_factory(engine)
    with sessions.begin() as db:     # as node A's worker leaves it after claiming: running, attempt 1
        job = new_job(db, "ingest", None, {"files": [], "index": "default"}, total=0)
        job.status, job.attempts, job.message = "running", 1, "처리 중"
        job_id = job.id
    stop = threading.Event()

    def heartbeat() -> None:         # node A is alive: it keeps beating however long node C takes to start
        while not stop.wait(1.0):
            with sessions.begin() as db:
                db.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow()))

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    env = cli_env(two_nodes["index_dir"], two_nodes["data_dir"])
    try:
        with serving(env, tmp_path / "node-c.log", timeout=180):
            with sessions() as db:
                status, attempts = db.execute(select(Job.status, Job.attempts).where(Job.id == job_id)).one()
    finally:
        stop.set()
        beating.join()
        with sessions.begin() as db:  # node A finishes it; nothing is left for the other tests' nodes
            db.execute(update(Job).where(Job.id == job_id).values(status="done"))
        engine.dispose()
    assert (status, attempts) == ("running", 1)
