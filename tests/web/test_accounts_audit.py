"""Accounts that protect themselves, confidentiality that binds administrators, and an audit log that holds up
(issue 12 items 3, 4, 5, 7) — on the real app, a real SQLite database and the real CLI."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from webtools import PASSWORD, SECRET_PHRASE, cli_env, login, run_cli

SECRET_TITLE = "2027년 특별감사 계획"


def _client(app, address: str = "10.0.0.7") -> TestClient:
    return TestClient(app, client=(address, 50000))


def _login_form(c: TestClient, username: str, password: str):
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                  follow_redirects=False)


class StepClock:
    """Time that moves only when the test says so (the guard's back-off is never raced)."""

    def __init__(self) -> None:
        from assistant.web.db import utcnow

        self.now = utcnow()

    def __call__(self):
        return self.now

    def step(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _audit_rows(app) -> list[dict]:
    from sqlalchemy import select

    from assistant.web.db import AuditEntry

    with app.state.assistant.sessions() as db:
        return [{"action": e.action, "result": e.result, "username": e.username, "target": e.target,
                 "detail": e.detail, "doc_ids": e.doc_ids, "scope": e.scope}
                for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _secret_doc_id(app) -> str:
    docs = app.state.assistant.core.documents(_principal(app, "auditor"))
    return next(d["doc_id"] for d in docs if d["title"].startswith(SECRET_TITLE))


def _principal(app, name: str):
    from assistant.web.auth import Principal, find_user

    with app.state.assistant.sessions() as db:
        return Principal.of(find_user(db, name))


# ---------------------------------------------------------------------------------------------- accounts

def test_someone_elses_failures_do_not_lock_the_real_user_out(make_app):
    app = make_app()
    clock = StepClock()
    with _client(app, "10.0.0.66") as attacker, _client(app, "10.0.0.7") as owner:
        app.state.assistant.login_guard.clock = clock
        codes = [_login_form(attacker, "officer", f"guess-{i}-password").status_code for i in range(6)]
        assert codes[:3] == [401, 401, 401] and 429 in codes[3:], codes
        # blocked at the attacker's address — even with the right password, which is not even checked
        blocked = _login_form(attacker, "officer", PASSWORD)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert "초 뒤에 다시" in blocked.text
        # the real user, at their own PC, logs in at once
        assert _login_form(owner, "officer", PASSWORD).status_code == 303
        # the back-off grows with each further failure and ends by itself
        clock.step(3600)
        assert _login_form(attacker, "officer", PASSWORD).status_code == 303
    rows = _audit_rows(app)
    assert [r["result"] for r in rows if r["action"] == "login_failed"] == ["denied"] * codes.count(401)
    assert any(r["action"] == "login_blocked" and r["result"] == "denied" for r in rows)


def test_password_spraying_from_one_address_backs_off_across_accounts(make_app):
    app = make_app(login_address_free_failures=5)
    clock = StepClock()
    with _client(app, "10.0.0.99") as sprayer, _client(app, "10.0.0.8") as colleague:
        app.state.assistant.login_guard.clock = clock
        names = ["officer", "public", "auditor", "admin", "kim", "lee"]
        codes = [_login_form(sprayer, n, "Spring2026!season").status_code for n in names]
        assert codes[:5] == [401] * 5 and codes[5] == 429, codes
        # every account is now refused from that address, a correct password included …
        assert _login_form(sprayer, "public", PASSWORD).status_code == 429
        # … and only from that address
        assert _login_form(colleague, "public", PASSWORD).status_code == 303


def test_an_administrator_unlocks_an_account_and_a_reset_password_must_be_changed(make_app):
    app = make_app()
    clock = StepClock()
    with _client(app, "10.0.0.5") as c:
        app.state.assistant.login_guard.clock = clock
        for i in range(4):
            _login_form(c, "public", f"typo-{i}-password")
        assert _login_form(c, "public", PASSWORD).status_code == 429
        with _client(app, "10.0.0.1") as admin:
            login(admin, "admin")
            uid = next(u["id"] for u in admin.get("/api/admin/users").json()["users"] if u["username"] == "public")
            assert admin.patch(f"/api/admin/users/{uid}", json={"unlock": True}).status_code == 200
        assert _login_form(c, "public", PASSWORD).status_code == 303


def test_a_password_an_administrator_chose_must_be_changed_before_anything_else(make_app):
    app = make_app()
    with _client(app, "10.0.0.1") as admin:
        login(admin, "admin")
        weak = admin.post("/api/admin/users", json={"username": "newbie", "password": "qwer1234!!",
                                                    "clearance": "공개"})
        assert weak.status_code == 400 and "추측하기 쉬운" in weak.json()["detail"]
        made = admin.post("/api/admin/users", json={"username": "newbie", "password": "임시-비밀번호-2026",
                                                    "clearance": "공개"}).json()
        assert made["must_change_password"] is True
    with _client(app, "10.0.0.2") as c:
        r = _login_form(c, "newbie", "임시-비밀번호-2026")
        assert r.status_code == 303 and r.headers["location"] == "/account?change=1"
        assert c.get("/", follow_redirects=False).headers["location"] == "/account?change=1"
        page = c.get("/account")
        assert page.status_code == 200 and "비밀번호를 바꿔야" in page.text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        c.headers["X-CSRF-Token"] = csrf
        refused = c.post("/api/search", json={"query": "민원 처리기간"})
        assert refused.status_code == 403 and "비밀번호를 바꾼 뒤" in refused.json()["detail"]
        changed = c.post("/api/account/password", json={"current_password": "임시-비밀번호-2026",
                                                         "new_password": "새로 정한 긴 문구 2026"})
        assert changed.status_code == 200, changed.text
        c.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
        assert c.post("/api/search", json={"query": "민원 처리기간"}).status_code == 200


def test_changing_my_password_needs_the_current_one_checks_strength_and_ends_other_logins(make_app):
    app = make_app()
    with _client(app, "10.0.0.3") as laptop, _client(app, "10.0.0.4") as desktop:
        login(laptop, "officer")
        login(desktop, "officer")
        wrong = laptop.post("/api/account/password", json={"current_password": "not-my-password",
                                                            "new_password": "완전히 새로운 비밀 문구"})
        assert wrong.status_code == 400 and "현재 비밀번호" in wrong.json()["detail"]
        for weak, why in (("short1!", "10자 이상"), ("password2026!", "추측하기 쉬운"),
                          ("officer-officer-1", "사용자 이름"), ("1q2w3e4r!!", "키보드"), (PASSWORD, "같습니다")):
            r = laptop.post("/api/account/password", json={"current_password": PASSWORD, "new_password": weak})
            assert r.status_code == 400 and why in r.json()["detail"], (weak, r.json())
        ok = laptop.post("/api/account/password", json={"current_password": PASSWORD,
                                                         "new_password": "완전히 새로운 비밀 문구"})
        assert ok.status_code == 200
        laptop.headers["X-CSRF-Token"] = ok.json()["csrf_token"]
        assert laptop.get("/api/me").json()["username"] == "officer"      # this login goes on
        assert desktop.get("/api/me").status_code == 401                   # the other one ended
    with _client(app, "10.0.0.3") as c:
        assert _login_form(c, "officer", PASSWORD).status_code == 401
        assert _login_form(c, "officer", "완전히 새로운 비밀 문구").status_code == 303
    assert any(r["action"] == "password_change" and r["result"] == "denied" for r in _audit_rows(app))


@pytest.mark.parametrize("password, ok", [
    ("correct horse battery", True), ("관악구청 민원실 창구 3번", True), ("Xk9#mq2!", True),
    ("abcd1234", False), ("Password1!", False), ("qwerty123456", False), ("1111111111", False),
    ("dkssudgktpdy12", False), ("asdf1234zz", False), ("0123456789", False), ("short", False),
])
def test_password_rules(password, ok):
    from assistant.web.passwords import password_problem

    assert (password_problem(password, "officer") == "") is ok, password_problem(password, "officer")


# ---------------------------------------------------------------------------------------------- confidentiality

def test_an_administrator_of_another_department_does_not_read_its_documents(make_app, tmp_path):
    app = make_app()
    secret_id = _secret_doc_id(app)
    with _client(app, "10.0.0.20") as auditor:
        login(auditor, "auditor")
        answer = auditor.post("/api/ask", json={"question": "2027년 특별감사 대상 부서와 착수일은?"}).json()
        assert secret_id in [c["doc_id"] for c in answer["citations"]]
        events = auditor.post("/api/chat/stream", json={"mode": "ask", "text": "특별감사 착수일은 언제야?"}).text
        message_id = int(re.search(r'"message_id": (\d+)', events).group(1))
        conv_id = int(re.search(r'"type": "conversation", "id": (\d+)', events).group(1))
        assert auditor.post(f"/api/messages/{message_id}/feedback",
                            json={"rating": 1, "comment": "착수일이 정확함"}).status_code == 200
        job = auditor.post("/api/batch", files=[("files", ("감사메모.txt", f"메모: {SECRET_PHRASE}".encode(),
                                                            "text/plain"))]).json()["job"]
    with _client(app, "10.0.0.1") as admin:   # 관리부서 administrator, clearance 부서
        login(admin, "admin")
        feedback = admin.get("/api/admin/feedback").text
        entries = admin.get("/api/admin/audit").json()["entries"]
        exported = admin.get("/api/admin/audit.csv").text
        for shown in (feedback, str(entries), exported):
            assert SECRET_PHRASE not in shown and SECRET_TITLE not in shown and "특별감사 착수일" not in shown
        assert "열람 권한 밖" in feedback
        asked = [e for e in entries if e["action"] == "ask" and e["username"] == "auditor"]
        assert asked and all(e["withheld"] and e["target"].startswith("(열람 권한 밖") for e in asked)
        # the batch results and the conversation are the auditor's, not the administrator's
        assert admin.get(f"/api/jobs/{job['id']}/result").status_code == 404
        assert admin.get(f"/api/jobs/{job['id']}").status_code == 404
        assert admin.get(f"/api/conversations/{conv_id}").status_code == 404
    rows = _audit_rows(app)
    assert {r["action"] for r in rows if r["result"] == "denied" and r["username"] == "admin"} >= {
        "job_result", "conversation"}
    # an administrator cleared for 감사관실 reads the same entries in full
    with app.state.assistant.sessions.begin() as db:
        from assistant.web.auth import create_user

        create_user(db, "audit-admin", PASSWORD, is_admin=True, clearance="부서", department="감사관실")
    with _client(app, "10.0.0.21") as cleared:
        login(cleared, "audit-admin")
        entries = cleared.get("/api/admin/audit?username=auditor&action=ask").json()["entries"]
        assert entries and all(not e["withheld"] and SECRET_TITLE in e["target"] for e in entries)


# ---------------------------------------------------------------------------------------------- audit log

def test_denied_attempts_are_on_record_with_the_documents_title(make_app):
    app = make_app()
    secret_id = _secret_doc_id(app)
    with _client(app, "10.0.0.30") as c:
        login(c, "public")
        assert c.post("/api/summarize", json={"doc_id": secret_id}).status_code == 404
        assert c.get(f"/api/documents/{secret_id}/file").status_code == 404
        assert c.patch(f"/api/documents/{secret_id}", json={"access_level": "공개"}).status_code == 404
        assert c.delete(f"/api/documents/{secret_id}").status_code == 404
        assert c.get("/api/admin/users").status_code == 403
        stream = c.post("/api/chat/stream", json={"mode": "summarize", "text": "", "doc_ids": [secret_id]}).text
        assert '"type": "error"' in stream and SECRET_PHRASE not in stream
    denied = [r for r in _audit_rows(app) if r["result"] == "denied" and r["username"] == "public"]
    by_action = {r["action"]: r for r in denied}
    assert set(by_action) >= {"summarize", "download", "access_level", "delete_document", "admin"}, by_action
    for action in ("summarize", "download", "access_level", "delete_document"):
        assert by_action[action]["target"].startswith(SECRET_TITLE)
        assert by_action[action]["scope"] == ["부서:감사관실"] and by_action[action]["doc_ids"] == [secret_id]
    assert sum(r["action"] == "summarize" for r in denied) == 2  # the API and the chat's summarise mode


def test_the_audit_log_filters_and_exports(make_app):
    app = make_app()
    with _client(app, "10.0.0.40") as c:
        _login_form(c, "officer", "wrong-password-x")
        login(c, "officer")
        c.post("/api/search", json={"query": "=HYPERLINK(\"http://x\") 민원 처리기간"})
    with _client(app, "10.0.0.1") as admin:
        login(admin, "admin")
        today = app.state.assistant.login_guard.clock().date().isoformat()
        only = admin.get(f"/api/admin/audit?username=officer&result=denied&since={today}&until={today}").json()
        assert [e["action"] for e in only["entries"]] == ["login_failed"]
        assert only["entries"][0]["action_label"] == "로그인 실패" and only["entries"][0]["result_label"] == "거부"
        assert admin.get("/api/admin/audit?since=2099-01-01").json()["entries"] == []
        found = admin.get("/api/admin/audit", params={"q": "민원 처리기간"}).json()["entries"]
        assert [e["action"] for e in found] == ["search"]
        r = admin.get("/api/admin/audit.csv?username=officer")
        assert r.headers["content-type"].startswith("text/csv") and "attachment" in r.headers["content-disposition"]
        assert r.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert rows[0][:5] == ["번호", "일시(UTC)", "사용자", "작업", "결과"]
        search_row = next(row for row in rows[1:] if row[3] == "검색")
        assert search_row[6].startswith("'=HYPERLINK")  # a spreadsheet reads it as text, not as a formula
    assert any(r["action"] == "audit_export" for r in _audit_rows(app))


def test_audit_verify_detects_a_deleted_and_an_edited_entry(make_app, web_index, tmp_path):
    data = tmp_path / "audit-data"
    app = make_app(data_dir=data)
    with _client(app, "10.0.0.50") as c:
        login(c, "officer")
        for q in ("민원 처리기간", "정보공개 청구", "주차장 이용 시간", "전자문서 효력"):
            c.post("/api/search", json={"query": q})
        c.post("/logout", data={"csrf_token": c.headers["X-CSRF-Token"]})
    env = cli_env(web_index, data)
    ok = run_cli(env, "audit", "verify")
    assert ok.returncode == 0 and "지워지거나 고쳐진 기록이 없습니다" in ok.stdout, ok.stdout + ok.stderr
    with sqlite3.connect(data / "assistant.db") as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM audit_log ORDER BY id")]
        conn.execute("DELETE FROM audit_log WHERE id = ?", (ids[2],))
        conn.execute("UPDATE audit_log SET query = '다른 질문' WHERE id = ?", (ids[4],))
    bad = run_cli(env, "audit", "verify")
    assert bad.returncode == 1
    assert f"기록 #{ids[3]} 앞의 기록이 지워졌거나" in bad.stdout and f"기록 #{ids[4]}" in bad.stdout
    assert "내용이 바뀌었습니다" in bad.stdout
    with sqlite3.connect(data / "assistant.db") as conn:   # the newest entry removed
        conn.execute("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
    assert "최근 기록이 지워졌습니다" in run_cli(env, "audit", "verify").stdout


def test_retention_removes_old_entries_and_the_rest_still_verifies(make_app):
    from assistant.web.audit import prune, verify

    app = make_app()
    with _client(app, "10.0.0.60") as c:
        login(c, "officer")
        c.post("/api/search", json={"query": "민원 처리기간"})
    st = app.state.assistant
    with st.sessions.begin() as db:
        assert prune(db, db.info["audit_key"], 30) == 0
        later = st.login_guard.clock() + timedelta(days=31)
        removed = prune(db, db.info["audit_key"], 30, now=later)
    assert removed == 2  # the login and the search
    with st.sessions() as db:
        report = verify(db, db.info["audit_key"])
    assert report.ok and report.checked == 1 and report.anchor_id > 0, report
    assert [r["action"] for r in _audit_rows(app)] == ["audit_prune"]


# ---------------------------------------------------------------------------------------------- small leaks

def test_upload_names_lose_invisible_characters_and_long_korean_names_fit(make_app):
    app = make_app(private_index=True)
    long_name = "가" * 120 + ".txt"                      # 360 bytes in UTF-8: over the 255-byte limit
    with _client(app, "10.0.0.70") as c:
        login(c, "officer")
        r = c.post("/api/documents", data={"access_level": "공개"}, files=[
            ("files", ("보고서\u202etxt.md", "# 보고서\n\n내용입니다.".encode(), "text/plain")),
            ("files", (long_name, "긴 이름 파일의 내용입니다.".encode(), "text/plain"))])
        assert r.status_code == 200, r.text
        accepted = r.json()["accepted"]
    assert "보고서txt.md" in accepted and not any("\u202e" in a for a in accepted)
    stored = list((app.state.assistant.data_dir / "uploads" / "default").iterdir())
    assert stored and all(len(p.name.encode("utf-8")) <= 255 for p in stored)
    assert any(p.name.startswith("가" * 60) and p.suffix == ".txt" for p in stored)


def test_an_oversize_upload_is_refused_from_its_declared_length(make_app):
    app = make_app(upload_max_request_mb=1.0)
    with _client(app, "10.0.0.80") as c:
        login(c, "officer")
        body = b"x" * (2 * 1024 * 1024)
        r = c.post("/api/documents", content=body, headers={"content-type": "multipart/form-data; boundary=zz"})
        assert r.status_code == 413 and "한 번에 보낼 수 있는 크기" in r.json()["detail"]

        def chunks():                      # no Content-Length: refused once the limit has arrived
            for _ in range(4):
                yield b"y" * (512 * 1024)

        r = c.post("/api/documents", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
        assert r.status_code == 413
