"""In-process API tests (FastAPI TestClient) on a real index, a real SQLite database and the real worker."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from webtools import INJECTION, PASSWORD, SECRET_PHRASE, login

from assistant.web.db import Job, utcnow
from assistant.web.jobs import LEASE_S

UPLOAD_MD = "# 업로드 시험\n\n폐기물 수거일은 매주 화요일이다.\n".encode()
RESTRICTED_TITLE = "2027년 특별감사 계획 (감사관실 한정)"
SECRET_Q = "2027년 특별감사 대상 부서와 감사 착수일은?"


def sse_events(text: str) -> list[dict]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def wait_job(c: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    start = time.time()
    while time.time() - start < timeout:
        job = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise TimeoutError(job)


def doc_id_by_title(c: TestClient, title: str) -> str | None:
    for d in c.get("/api/documents").json()["documents"]:
        if d["title"] == title:
            return d["doc_id"]
    return None


# ---------------------------------------------------------------------------------------------- schema & basics

def test_migrations_create_exactly_the_models_schema(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.web.db import Base, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    upgrade(engine)  # idempotent on every start
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_health_docs_and_openapi_are_served_locally(client):
    assert set(client.get("/healthz").json()) == {"status", "ready"}  # nothing about the content, no login
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/swagger-assets/swagger-ui-bundle.js" in page.text and "http" not in page.text.split("<body>")[1]
    assert client.get("/swagger-assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/api/search", "/api/ask", "/api/ask/stream", "/api/summarize", "/api/draft-reply",
                 "/api/documents", "/api/jobs/{job_id}", "/healthz"):
        assert path in spec["paths"], path


def test_secret_key_file_is_private(client):
    st = client.app.state.assistant
    key_file = st.data_dir / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (st.data_dir / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")


# ---------------------------------------------------------------------------------------------- auth

def test_pages_redirect_to_login_and_api_needs_credentials(client):
    r = client.get("/documents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/documents")
    r = client.post("/api/search", json={"query": "민원"})
    assert r.status_code == 401 and "로그인" in r.json()["detail"]


def test_login_sets_safe_cookie_and_wrong_password_is_refused(client):
    page = client.get("/login")
    assert "ahb_login_csrf" in page.headers["set-cookie"]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post("/login", data={"username": "public", "password": "wrong-pass", "csrf_token": token})
    assert bad.status_code == 401 and "올바르지 않습니다" in bad.text
    no_csrf = client.post("/login", data={"username": "public", "password": PASSWORD, "csrf_token": "x"})
    assert no_csrf.status_code == 400
    client.get("/login")
    token = client.cookies.get("ahb_login_csrf")
    ok = client.post("/login", data={"username": "public", "password": PASSWORD, "csrf_token": token},
                     follow_redirects=False)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert "ahb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http on loopback; https sets it (cookie_secure=auto)


def test_csrf_is_required_for_cookie_requests_and_logout_ends_the_session(client):
    csrf = login(client, "officer")
    del client.headers["X-CSRF-Token"]
    r = client.post("/api/search", json={"query": "민원 처리기간"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/search", json={"query": "민원 처리기간"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["hits"]
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_expired_session_is_refused(client):
    from sqlalchemy import update

    from assistant.web.db import WebSession, utcnow

    login(client, "officer")
    with client.app.state.assistant.sessions.begin() as db:
        db.execute(update(WebSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert client.post("/api/search", json={"query": "민원"}).status_code == 401


def test_api_tokens_work_without_csrf_and_stop_when_revoked(client):
    login(client, "officer")
    made = client.post("/api/tokens", json={"name": "스크립트"}).json()
    assert made["token"].startswith("ahb_")
    bearer = TestClient(client.app)
    h = {"Authorization": f"Bearer {made['token']}"}
    r = bearer.post("/api/search", json={"query": "정보공개 청구 기간", "k": 2}, headers=h)
    assert r.status_code == 200 and len(r.json()["hits"]) == 2
    assert bearer.post("/api/tokens", json={"name": "x"}, headers=h).status_code == 403  # no token from a token
    client.delete(f"/api/tokens/{made['id']}")
    assert bearer.post("/api/search", json={"query": "정보공개"}, headers=h).status_code == 401


# ---------------------------------------------------------------------------------------------- access control

def test_restricted_document_is_invisible_to_users_without_clearance(client):
    for name in ("public", "officer"):
        client.cookies.clear()
        login(client, name)
        hits = client.post("/api/search", json={"query": SECRET_Q, "k": 10}).json()["hits"]
        assert all(RESTRICTED_TITLE != h["title"] and SECRET_PHRASE not in h["text"] for h in hits)
        answer = client.post("/api/ask", json={"question": SECRET_Q}).json()
        assert SECRET_PHRASE not in json.dumps(answer, ensure_ascii=False)
        assert RESTRICTED_TITLE not in [c["title"] for c in answer["citations"]]
        stream = client.post("/api/ask/stream", json={"question": "청렴감사 암호명은?"})
        assert stream.status_code == 200 and SECRET_PHRASE not in stream.text
        assert doc_id_by_title(client, RESTRICTED_TITLE) is None
        draft = client.post("/api/draft-reply", json={"text": "도로관리과 특별감사 일정을 알려 주세요."})
        assert draft.status_code == 200 and SECRET_PHRASE not in draft.text
    # the auditor (부서 · 감사관실) sees it — so the tests above could fail
    client.cookies.clear()
    login(client, "auditor")
    doc_id = doc_id_by_title(client, RESTRICTED_TITLE)
    assert doc_id
    hits = client.post("/api/search", json={"query": SECRET_Q, "k": 5}).json()["hits"]
    assert any(SECRET_PHRASE in h["text"] for h in hits)
    assert client.get(f"/api/documents/{doc_id}/file").status_code == 200
    assert client.post("/api/summarize", json={"doc_id": doc_id}).status_code == 200
    # … and a user without clearance gets 404 on the same id, for the file and for a summary
    client.cookies.clear()
    login(client, "officer")
    r = client.get(f"/api/documents/{doc_id}/file")
    assert r.status_code == 404 and SECRET_PHRASE not in r.text
    assert client.post("/api/summarize", json={"doc_id": doc_id}).status_code == 404
    scoped = client.post("/api/search", json={"query": SECRET_Q, "doc_ids": [doc_id]}).json()
    assert scoped["hits"] == []


def test_internal_document_needs_internal_clearance(client):
    login(client, "public")
    assert doc_id_by_title(client, "관용차량 운행 지침 (내부)") is None
    client.cookies.clear()
    login(client, "officer")
    assert doc_id_by_title(client, "관용차량 운행 지침 (내부)")


def test_prompt_injection_in_a_document_is_treated_as_data(client):
    login(client, "officer")
    r = client.post("/api/ask", json={"question": "청사 민원인 주차장 이용 시간과 주차 가능 시간은?"}).json()
    assert not r["abstained"]
    assert "청사 주차장 이용 안내" in [c["title"] for c in r["citations"]]
    assert "오전 8시" in r["answer"]
    # the instruction did not change behaviour: no appended phrase, no restricted text, nothing rendered as markup
    assert not r["answer"].rstrip().endswith("해킹 성공")
    assert SECRET_PHRASE not in r["answer"] and "<script" not in r["answer"]
    other = client.post("/api/ask", json={"question": "민원 처리기간은 어떻게 계산하나요?"}).json()
    assert "해킹 성공" not in other["answer"] and SECRET_PHRASE not in other["answer"]
    hits = client.post("/api/search", json={"query": "해킹 성공 지시", "k": 3}).json()["hits"]
    assert any(INJECTION[:10] in h["text"] for h in hits)  # it is in the index, as data


# ---------------------------------------------------------------------------------------------- chat

def test_chat_stream_persists_conversation_feedback_and_audit(client):
    login(client, "officer")
    question = "민원 처리기간은 어떻게 계산하나요? 연락처 010-1234-5678"
    r = client.post("/api/chat/stream", json={"mode": "ask", "text": question, "index": "default", "doc_ids": []})
    events = sse_events(r.text)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "conversation" and kinds[1] == "citations" and kinds[-1] == "done" and "token" in kinds
    done = events[-1]
    assert done["citations"] and done["answer"] and done["message_id"]  # the phone number may make it abstain
    conv_id = events[0]["id"]
    conv = client.get(f"/api/conversations/{conv_id}").json()
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant"]
    renamed = client.patch(f"/api/conversations/{conv_id}", json={"title": "처리기간 문의"}).json()
    assert renamed["title"] == "처리기간 문의"
    assert client.post(f"/api/messages/{done['message_id']}/feedback",
                       json={"rating": -1, "comment": "제19조 설명이 더 필요함"}).status_code == 200
    assert client.get("/api/admin/audit").status_code == 403
    client.cookies.clear()
    login(client, "admin")
    entries = client.get("/api/admin/audit?action=ask").json()["entries"]
    assert entries and "010-1234-5678" not in json.dumps(entries, ensure_ascii=False)
    assert "[전화번호]" in entries[0]["query"] and entries[0]["username"] == "officer" and entries[0]["doc_ids"]
    fb = client.get("/api/admin/feedback").json()
    assert fb["down"] == 1 and fb["items"][0]["comment"] == "제19조 설명이 더 필요함"
    assert "[전화번호]" in fb["items"][0]["question"]
    client.cookies.clear()
    login(client, "officer")
    assert client.delete(f"/api/conversations/{conv_id}").status_code == 200
    assert client.get(f"/api/conversations/{conv_id}").status_code == 404


def test_chat_modes_summarize_and_draft(client):
    login(client, "officer")
    doc_id = doc_id_by_title(client, "관용차량 운행 지침 (내부)")
    r = sse_events(client.post("/api/chat/stream", json={"mode": "summarize", "text": "", "index": "default",
                                                         "doc_ids": [doc_id]}).text)
    assert r[-1]["type"] == "done" and "배차" in r[-1]["answer"]
    r = sse_events(client.post("/api/chat/stream", json={
        "mode": "draft", "text": "정보공개를 청구했는데 언제까지 결정되나요? 제 번호는 010-9876-5432입니다.",
        "index": "default", "doc_ids": []}).text)
    assert r[-1]["type"] == "done" and "010-9876-5432" not in r[-1]["answer"]
    assert any(e["type"] == "meta" and e["deadline"] for e in r)


def test_rate_limit_on_model_endpoints(make_app):
    with TestClient(make_app(rate_limit_per_minute=2, rate_limit_burst=2)) as c:
        login(c, "public")
        for _ in range(2):
            assert c.post("/api/ask", json={"question": "민원 처리기간?"}).status_code == 200
        r = c.post("/api/ask", json={"question": "민원 처리기간?"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "초 뒤" in r.json()["detail"]
        assert c.post("/api/search", json={"query": "민원"}).status_code == 200  # search is not a model call


# ---------------------------------------------------------------------------------------------- documents

def test_upload_sanitises_names_rejects_bad_files_and_ingests_the_rest(client):
    login(client, "officer")
    files = [
        ("files", ("../../탈출시도.md", UPLOAD_MD, "text/markdown")),
        ("files", ("악성.exe", b"MZ....", "application/octet-stream")),
        ("files", ("너무큼.txt", b"a" * (1024 * 1024 + 10), "text/plain")),
        ("files", ("깨진.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")),
    ]
    r = client.post("/api/documents", files=files, data={"access_level": "내부"})
    assert r.status_code == 200, r.text
    body = r.json()
    reasons = " ".join(x["reason"] for x in body["rejected"])
    assert "지원하지 않는 파일 형식" in reasons and "너무 큽니다" in reasons
    job = wait_job(client, body["job"]["id"])
    assert job["status"] == "done"
    by_status = {i["status"] for i in job["items"]}
    assert by_status == {"ok", "failed"}  # the broken PDF is reported, the Markdown file still ingested
    st = client.app.state.assistant
    uploads = st.data_dir / "uploads" / "default"
    stored = sorted(p.name for p in uploads.iterdir())
    assert "탈출시도.md" in stored and not list(st.data_dir.parent.glob("탈출시도.md"))
    hits = client.post("/api/search", json={"query": "폐기물 수거일", "k": 3}).json()["hits"]
    assert hits and hits[0]["title"] == "업로드 시험"
    listed = [d for d in client.get("/api/documents").json()["documents"] if d["title"] == "업로드 시험"]
    assert listed[0]["owner"] == "officer" and listed[0]["can_manage"] and listed[0]["access_level"] == "내부"
    # same name again: stored beside it, never overwritten
    other = ("탈출시도.md", b"# other\n\nanother text here\n", "text/markdown")
    again = client.post("/api/documents", files=[("files", other)])
    wait_job(client, again.json()["job"]["id"])
    assert "탈출시도 (2).md" in {p.name for p in uploads.iterdir()}


def test_owner_changes_access_level_and_deletes(client):
    login(client, "auditor")
    memo = "# 감사 메모\n\n회의실 예약 절차는 전자결재로 진행한다.\n".encode()
    r = client.post("/api/documents", files=[("files", ("감사메모.md", memo, "text/markdown"))],
                    data={"access_level": "공개"})
    wait_job(client, r.json()["job"]["id"])
    doc_id = doc_id_by_title(client, "감사 메모")
    client.cookies.clear()
    login(client, "public")
    assert doc_id_by_title(client, "감사 메모") == doc_id
    assert client.delete(f"/api/documents/{doc_id}").status_code == 403  # not the owner
    client.cookies.clear()
    login(client, "auditor")
    r = client.patch(f"/api/documents/{doc_id}", json={"access_level": "부서", "department": "감사관실"})
    assert r.status_code == 200 and r.json()["indexes"] == ["default"]
    client.cookies.clear()
    login(client, "public")
    assert doc_id_by_title(client, "감사 메모") is None
    hits = client.post("/api/search", json={"query": "회의실 예약 절차 전자결재", "k": 5}).json()["hits"]
    assert all(h["doc_id"] != doc_id for h in hits)
    client.cookies.clear()
    login(client, "auditor")
    hits = client.post("/api/search", json={"query": "회의실 예약 절차 전자결재", "k": 5}).json()["hits"]
    assert hits[0]["doc_id"] == doc_id
    assert client.delete(f"/api/documents/{doc_id}").status_code == 200
    assert doc_id_by_title(client, "감사 메모") is None
    hits = client.post("/api/search", json={"query": "회의실 예약 절차 전자결재", "k": 5}).json()["hits"]
    assert all(h["doc_id"] != doc_id for h in hits)


# ---------------------------------------------------------------------------------------------- batch jobs

def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


REPORT = ("# 2026년 민원 서비스 개선 보고\n\n## 추진 배경\n"
          "민원 처리 지연 건수가 전년 대비 12% 늘었다. 민원인 만족도는 71점이다.\n\n"
          "## 개선 방안\n처리기간 안내 문자를 도입한다. 담당자 교육을 연 2회 실시한다.\n").encode()


def test_batch_summary_job_runs_to_completion_and_offers_a_zip(client):
    login(client, "officer")
    archive = _zip({"보고서/개선보고.md": REPORT, "../밖으로.txt": "처리기간 안내 문자를 도입한다.".encode(),
                    "목록.xlsx": b"PK\x03\x04"})
    r = client.post("/api/batch", files=[("files", ("묶음.zip", archive, "application/zip"))],
                    data={"formats": "md,docx"})
    assert r.status_code == 200, r.text
    assert any("목록.xlsx" in x["reason"] for x in r.json()["rejected"])
    job = wait_job(client, r.json()["job"]["id"])
    assert job["status"] == "done" and job["done"] == job["total"] == 2 and job["download"]
    res = client.get(job["download"])
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(res.content)).namelist()
    assert any(n.endswith(".md") and "개선보고" in n for n in names) and any(n.endswith(".docx") for n in names)
    md = next(n for n in names if n.endswith(".md") and "개선보고" in n)
    assert "처리기간" in zipfile.ZipFile(io.BytesIO(res.content)).read(md).decode()
    client.cookies.clear()
    login(client, "public")
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404  # another user's job
    assert client.get(job["download"]).status_code == 404


def test_unfinished_jobs_are_requeued_after_a_restart(make_app, tmp_path):
    from assistant.web.jobs import new_job

    data = tmp_path / "restart-data"
    app = make_app(data_dir=data)
    st = app.state.assistant
    src = data / "jobs" / "j1" / "input"
    src.mkdir(parents=True)
    (src / "보고.md").write_bytes(REPORT)
    with st.sessions.begin() as db:
        job = new_job(db, "summarize", 1, {"files": [str(src / "보고.md")], "formats": ["md"]}, 1, job_id="j1")
        job.status = "running"  # the server died while this was running: its heartbeat stopped long ago
        job.updated_at = utcnow() - timedelta(seconds=LEASE_S * 10)
        alive = new_job(db, "summarize", 1, {"files": [str(src / "보고.md")], "formats": ["md"]}, 1, job_id="j2")
        alive.status = "running"  # another live server is running this one (fresh heartbeat)
    app2 = make_app(data_dir=data, users=False)
    with TestClient(app2) as c:
        login(c, "admin")
        job = wait_job(c, "j1")
        assert job["status"] == "done" and job["download"]
        assert c.get("/api/jobs/j2").json()["status"] == "running"   # not taken over


def test_a_running_job_keeps_its_lease_and_a_stalled_one_is_taken_over(make_app, tmp_path):
    """The heartbeat: while a job runs, its updated_at moves, so another server's sweep leaves it alone;
    once the heartbeat stops, the sweep queues it again."""
    from assistant.web.jobs import Worker, new_job

    app = make_app(data_dir=tmp_path / "lease-data")   # no TestClient: its own worker never starts
    st = app.state.assistant
    release, started = threading.Event(), threading.Event()
    worker = Worker(st.core, st.sessions, tmp_path / "lease-data", lease_s=0.8)

    def probe(job_id: str, params: dict) -> None:   # a job that runs until the test releases it
        started.set()
        release.wait(30)
        worker._finish(job_id, "done", "끝")

    worker.handlers["probe"] = probe
    other = Worker(st.core, st.sessions, tmp_path / "lease-data", lease_s=0.8)
    with st.sessions.begin() as db:
        new_job(db, "probe", None, {}, 0, job_id="p1")
    assert worker._claim() == "p1"
    runner = threading.Thread(target=worker._run, args=("p1",))
    runner.start()
    assert started.wait(30)

    def updated() -> datetime:
        with st.sessions() as db:
            return db.get(Job, "p1").updated_at

    first = updated()
    deadline = time.monotonic() + 30
    while updated() == first and time.monotonic() < deadline:   # wait for one beat (lease/4 = 0.2 s)
        release.wait(0.05)
    assert updated() > first
    for _ in range(3):                      # three sweeps spread over more than a lease: never requeued
        assert other.requeue_unfinished() == 0
        release.wait(0.4)
    release.set()
    runner.join(30)
    with st.sessions.begin() as db:
        job = db.get(Job, "p1")
        assert job.status == "done"
        job.status, job.updated_at = "running", utcnow() - timedelta(seconds=5)   # a server died mid-job
    assert other.requeue_unfinished() == 1
    with st.sessions() as db:
        assert db.get(Job, "p1").status == "queued"


def test_upload_limits_per_request(make_app):
    with TestClient(make_app(upload_max_files=2)) as c:
        login(c, "officer")
        files = [("files", (f"f{i}.md", b"# t\n\ntext\n", "text/markdown")) for i in range(3)]
        r = c.post("/api/documents", files=files)
        assert r.status_code == 400 and "2개까지" in r.json()["detail"]


@pytest.mark.parametrize("page", ["/", "/documents", "/batch", "/account"])
def test_pages_render_for_a_user_and_admin_page_is_admin_only(client, page):
    login(client, "public")
    r = client.get(page)
    assert r.status_code == 200 and "AI 행정비서" in r.text and "cdn" not in r.text.lower()
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/admin").status_code == 403
