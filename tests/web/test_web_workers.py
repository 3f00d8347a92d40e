"""``assistant serve --workers 2``: two real server processes on one loopback port share everything that
must be shared — logins, the failed-login back-off, the model endpoints' rate limit, background jobs
(each claimed once) and new index generations (issue 16)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import httpx
import pytest
from webtools import PASSWORD, add_users_cli, cli_env, serving

WORKERS = 2


@pytest.fixture(scope="module")
def two_workers(web_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    index_dir = root / "indexes"
    shutil.copytree(web_index, index_dir)          # this module adds documents: keep the shared copy clean
    data_dir = root / "data"
    env = cli_env(index_dir, data_dir, ASSISTANT_RATE_LIMIT_PER_MINUTE="3", ASSISTANT_RATE_LIMIT_BURST="3")
    add_users_cli(env)
    with serving(env, root / "server.log", "--workers", str(WORKERS), timeout=180) as (url, proc, _):
        yield {"url": url, "data_dir": data_dir, "proc": proc}


def _fresh(url: str) -> httpx.Client:
    """A client whose every request opens a new connection, so the kernel spreads them over the workers."""
    return httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0))


def _login(c: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": "/"},
                  follow_redirects=False)


def _csrf(c: httpx.Client) -> None:
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)


def _worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in out:
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            pids.append(int(pid))
    return pids


def test_a_login_holds_on_every_worker(two_workers):
    assert len(_worker_pids(two_workers["proc"].pid)) == WORKERS   # really two server processes
    with _fresh(two_workers["url"]) as c:
        assert _login(c, "officer").status_code == 303
        assert all(c.get("/api/me").status_code == 200 for _ in range(12))


def test_the_failed_login_back_off_is_shared(two_workers):
    with _fresh(two_workers["url"]) as c:
        codes = [_login(c, "auditor", f"wrong-password-{i}").status_code for i in range(5)]
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}, codes


def test_the_rate_limit_counts_requests_on_every_worker(two_workers):
    with _fresh(two_workers["url"]) as c:
        assert _login(c, "public").status_code == 303
        _csrf(c)
        codes = [c.post("/api/ask", json={"question": "청사 주차장은 몇 시까지 무료인가요?"}).status_code
                 for _ in range(6)]
    # burst 3 for the user, whichever process answered (per-process buckets would have allowed 6)
    assert codes.count(200) == 3 and codes.count(429) == 3, codes


def test_a_job_runs_once_and_every_worker_sees_the_new_document(two_workers):
    text = ("# 청사 전기차 충전소 안내\n\n청사 전기차 충전소는 지하 2층에 있으며 민원인은 1시간까지 무료로 "
            "충전할 수 있다.\n")
    with _fresh(two_workers["url"]) as c:
        assert _login(c, "officer").status_code == 303
        _csrf(c)
        sent = c.post("/api/documents", data={"access_level": "공개"},
                      files=[("files", ("전기차충전소.md", text.encode(), "text/markdown"))])
        assert sent.status_code == 200, sent.text
        job_id = sent.json()["job"]["id"]
        deadline = time.monotonic() + 300
        job = c.get(f"/api/jobs/{job_id}").json()
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)                    # polling the job's state, the event this waits for
            job = c.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "done" and [i["status"] for i in job["items"]] == ["ok"], job
        found = [c.post("/api/search", json={"query": "전기차 충전소 위치", "k": 3}).json()["hits"][0]["title"]
                 for _ in range(8)]
        assert found == ["청사 전기차 충전소 안내"] * 8
    import sqlite3

    with sqlite3.connect(two_workers["data_dir"] / "assistant.db") as db:
        attempts = db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
        uploads = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'upload'").fetchone()[0]
    assert attempts == 1 and uploads == 1
