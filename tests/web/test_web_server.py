"""The real server: ``assistant serve`` under uvicorn on a loopback port, driven over HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import httpx
from webtools import PASSWORD, REPO, SECRET_PHRASE, run_cli


def _login(url: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303, r.text
    home = c.get("/")
    assert home.status_code == 200, (home.status_code, home.headers, home.text[:300], r.headers)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)
    c.headers["X-CSRF-Token"] = csrf
    return c


def test_server_becomes_ready_and_streams_an_answer_with_citations(live_server):
    url = live_server["url"]
    assert httpx.get(url + "/healthz").json() == {"status": "ok", "ready": True}
    c = _login(url, "officer")
    t0 = time.perf_counter()
    arrivals: list[tuple[float, dict]] = []
    with c.stream("POST", "/api/ask/stream", json={"question": "민원 처리기간은 어떻게 계산하나요?"}) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.perf_counter() - t0, json.loads(line[5:])))
    kinds = [e["type"] for _, e in arrivals]
    assert kinds[0] == "citations" and kinds[-1] == "done" and kinds.count("token") >= 2
    done = arrivals[-1][1]
    assert done["citations"] and re.search(r"\[\d+\]", done["answer"])
    assert all("source" not in cit for cit in done["citations"])  # no server paths leave the server
    first_token = next(t for t, e in arrivals if e["type"] == "token")
    assert first_token <= arrivals[-1][0]


def test_bearer_token_over_http_and_access_rules(live_server):
    url = live_server["url"]
    c = _login(url, "public")
    token = c.post("/api/tokens", json={"name": "배치"}).json()["token"]
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r = api.post("/api/ask", json={"question": "청렴감사 암호명과 특별감사 대상 부서는?"})
    assert r.status_code == 200 and SECRET_PHRASE not in r.text
    docs = api.get("/api/documents").json()["documents"]
    assert docs and all(d["access_level"] == "공개" for d in docs)
    assert api.post("/api/search", json={"query": ""}).status_code == 422


def test_cli_user_errors_are_korean_and_serve_refuses_a_busy_port(live_server):
    env = live_server["env"]
    dup = run_cli(env, "user", "add", "officer", "--password-stdin", stdin=PASSWORD + "\n")
    assert dup.returncode == 1 and dup.stderr.startswith("오류:") and "이미 있습니다" in dup.stderr
    weak = run_cli(env, "user", "add", "newbie", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "8자 이상" in weak.stderr
    listed = run_cli(env, "user", "list")
    assert "auditor\t부서\t감사관실" in listed.stdout
    port = live_server["url"].rsplit(":", 1)[1]
    busy = subprocess.run([sys.executable, "-m", "assistant.cli", "serve", "--port", port], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert busy.returncode == 1 and "다른 포트" in busy.stderr
