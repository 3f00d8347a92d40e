"""No personal data at rest: planted values of every kind, in the spellings people type, go through chat,
titles, feedback, reply drafts and failed logins; then the database file, the data folder (logs, job
folders) and the audit log are searched for them. Also: a database written before masking is masked by
its migration, which reports counts (issue 12, items 1 and 2)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from webtools import login

# kind: (the value planted, the digits or letters that must not survive in any spelling)
PLANTED = {
    "rrn": ("900101-1234567", "1234567"),
    "rrn-fullwidth": ("９００１０１－１２３４５６８", "1234568"),
    "foreigner": ("850505-5123456", "5123456"),
    "mobile-hangul-dash": ("010ㅡ9876ㅡ5432", "98765432"),
    "mobile-spaced": ("010 - 2345 - 6789", "23456789"),
    "landline-emdash": ("02—3456—7890", "34567890"),
    "email-fullwidth-at": ("hong.gildong＠example.com", "hong.gildong"),
    "email": ("kim.minsu@korea.kr", "kim.minsu"),
    "account": ("국민은행 123456-78-901234", "12345678901234"),
    "card": ("카드번호 4111 1111 1111 1111", "4111111111111111"),
    "passport": ("여권번호 M12345678", "M12345678"),
    "licence": ("운전면허 11-22-334455-66", "112233445566"),
    "address": ("서울특별시 종로구 세종대로 209", "세종대로 209"),
    "name": ("성명: 김민수", "김민수"),
    "self-name": ("저는 박영희입니다", "박영희"),
}


def _text() -> str:
    return " / ".join(v for v, _ in PLANTED.values())


def _leaks(blob: str) -> list[str]:
    squashed = re.sub(r"[\s\-–—ㅡ]", "", blob)
    return [k for k, (_, needle) in PLANTED.items() if re.sub(r"[\s\-]", "", needle) in squashed]


def _files_text(folder: Path) -> str:
    out = []
    for p in folder.rglob("*"):
        if p.is_file() and p.suffix not in (".hwpx", ".docx", ".zip"):
            out.append(p.read_bytes().decode("utf-8", errors="ignore"))
    return "\n".join(out)


def test_planted_personal_data_never_reaches_storage(make_app, tmp_path):
    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    app = make_app(data_dir=data)
    planted = _text()
    with TestClient(app) as c:
        # a failed login with personal data typed as the user name
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        c.post("/login", data={"username": "９００１０１－１２３４５６８", "password": "x", "csrf_token": token,
                               "next": "/"}, follow_redirects=False)
        login(c, "officer")
        r = c.post("/api/chat/stream", json={"mode": "ask", "text": f"민원 처리기간 문의드립니다. {planted}",
                                             "index": "default", "doc_ids": []})
        events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
        conv_id = events[0]["id"]
        done = events[-1]
        c.patch(f"/api/conversations/{conv_id}", json={"title": f"{PLANTED['mobile-hangul-dash'][0]} 민원인 김민수 건"})
        c.post(f"/api/messages/{done['message_id']}/feedback", json={"rating": -1, "comment": planted})
        draft = c.post("/api/chat/stream", json={"mode": "draft", "text": f"처리기간이 궁금합니다. {planted}",
                                                 "index": "default", "doc_ids": []})
        assert draft.status_code == 200
        # what comes back to the user is masked too
        conv = c.get(f"/api/conversations/{conv_id}").json()
        assert not _leaks(json.dumps(conv, ensure_ascii=False))
        c.cookies.clear()
        login(c, "admin")
        audit = c.get("/api/admin/audit").json()
        assert not _leaks(json.dumps(audit, ensure_ascii=False)), _leaks(json.dumps(audit, ensure_ascii=False))
        failed = [a for a in audit["entries"] if a["action"] == "login_failed"]
        assert failed and failed[0]["username"].startswith("(등록되지 않은 이름 #")
        exported = c.get("/api/admin/audit.csv").text      # the audit export leaves the server: masked too
        assert "draft_reply" not in exported and "민원 답변 초안" in exported
        assert not _leaks(exported), _leaks(exported)
    db_file = data / "assistant.db"
    with sqlite3.connect(db_file) as conn:
        rows = [str(v) for t in ("messages", "conversations", "feedback", "audit_log")
                for r in conn.execute(f"SELECT * FROM {t}") for v in r]
    assert rows and not _leaks("\n".join(rows)), _leaks("\n".join(rows))
    # the raw database file (pages, WAL), logs and job folders
    everything = _files_text(data)
    assert not _leaks(everything), _leaks(everything)


def test_a_name_found_once_is_masked_wherever_it_recurs():
    from assistant.tasks.pii import mask_pii

    masked = mask_pii("성명: 김민수. 김민수는 지난주에도 문의했고, 김민수씨 가족도 같은 민원을 냈습니다.").text
    assert "김민수" not in masked and masked.count("[성명]") == 3


def test_the_masker_reads_what_people_type():
    from assistant.tasks.pii import mask_pii

    for kind, (value, _) in PLANTED.items():
        masked = mask_pii(f"연락처는 {value} 입니다").text
        assert not _leaks(masked), (kind, masked)
    kept = mask_pii("보건복지상담센터 129, 처리기간 2024~2025년, 제3조 - 제5조, 금액 1,000원").text
    assert "129" in kept and "2024~2025" in kept and "제3조" in kept and "1,000원" in kept


def test_a_database_written_before_masking_is_masked_by_its_migration(tmp_path, caplog):
    from alembic import command
    from alembic.config import Config

    from assistant.web.db import MIGRATIONS_DIR, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
        conn.exec_driver_sql("INSERT INTO users (id, username, display_name, password_hash, is_admin, clearance, "
                             "department, active, created_at) VALUES (1, 'officer', 'officer', 'x', 0, '내부', '', 1, "
                             "'2026-01-01 00:00:00')")
        conn.exec_driver_sql("INSERT INTO conversations (id, user_id, title, mode, index_name, doc_ids, created_at, "
                             "updated_at) VALUES (1, 1, ?, 'ask', '', '[]', '2026-01-01 00:00:00', "
                             "'2026-01-01 00:00:00')", ("010-9876-5432 문의",))
        conn.exec_driver_sql("INSERT INTO messages (id, conversation_id, role, mode, content, citations, abstained, "
                             "created_at) VALUES (1, 1, 'user', 'ask', ?, '[]', 0, '2026-01-01 00:00:00')",
                             (_text(),))
        conn.exec_driver_sql("INSERT INTO audit_log (id, user_id, username, action, query, doc_ids, detail, "
                             "created_at) VALUES (1, NULL, '900101-1234567', 'login_failed', '', '[]', "
                             "'900101-1234567', '2026-01-01 00:00:00')")
    with caplog.at_level("WARNING"), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert "messages 1행" in caplog.text and "conversations 1행" in caplog.text
    assert "audit_log.login_failed 1행" in caplog.text
    with engine.connect() as conn:
        rows = [str(v) for t in ("messages", "conversations", "audit_log")
                for r in conn.exec_driver_sql(f"SELECT * FROM {t}") for v in r]
    assert not _leaks("\n".join(rows))



def test_a_batch_job_keeps_only_masked_results_without_server_paths(make_app, tmp_path):
    import io
    import zipfile

    from fastapi.testclient import TestClient
    from test_web_api import wait_job

    data = tmp_path / "data"
    app = make_app(data_dir=data)
    report = ("# 악성 민원 처리 결과 보고\n\n## 개요\n"
              "민원인 성명: 김민수, 연락처 010-9876-5432, 주민등록번호 900101-1234567. "
              "민원인은 같은 내용의 민원을 3회 반복 제출하였다.\n\n"
              "## 조치\n처리기간은 7일이며 종결 처리하였다.\n")
    with TestClient(app) as c:
        login(c, "officer")
        r = c.post("/api/batch", files=[("files", ("김민수_민원보고.md", report.encode(), "text/markdown"))],
                   data={"formats": "md,docx"})
        assert r.status_code == 200, r.text
        job = wait_job(c, r.json()["job"]["id"])
        assert job["status"] == "done", job
        result = zipfile.ZipFile(io.BytesIO(c.get(job["download"]).content))
        texts = {n: result.read(n).decode("utf-8", errors="ignore") for n in result.namelist()
                 if n.endswith((".md", ".csv"))}
    job_dir = data / "jobs" / job["id"]
    assert sorted(p.name for p in job_dir.iterdir()) == ["result.zip"]   # inputs and loose outputs are gone
    everything = "\n".join(texts.values())
    assert "900101" not in everything and "9876" not in everything and "성명: 김민수" not in everything
    assert str(data) not in everything and "/jobs/" not in everything and "extractive" not in everything
    summary = next(t for n, t in texts.items() if n.endswith(".md"))
    assert "원문: 김민수_민원보고.md" in summary and re.search(r"\d{4}\. \d{1,2}\. \d{1,2}\. 작성", summary)
    assert "7일" in summary


def test_a_zip_bomb_batch_is_refused_before_it_is_unpacked(make_app, tmp_path):
    import io
    import zipfile

    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    app = make_app(data_dir=data, upload_max_mb=5.0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for i in range(40):                       # 40 × 4 MB of spaces: ~160 MB from a zip of a few hundred KB
            zf.writestr(f"문서{i}.txt", "민원 " + " " * (4 * 1024 * 1024))
    with TestClient(app) as c:
        login(c, "officer")
        r = c.post("/api/batch", files=[("files", ("묶음.zip", buf.getvalue(), "application/zip"))])
        assert r.status_code == 400
        reasons = " ".join(x["reason"] for x in r.json()["detail"]["rejected"])
        assert "폭탄" in reasons and "묶음.zip" in reasons
    jobs = data / "jobs"
    written = sum(p.stat().st_size for p in jobs.rglob("*") if p.is_file()) if jobs.exists() else 0
    assert written < 2 * len(buf.getvalue())


def test_names_after_the_roles_people_sign_with_are_masked():
    from assistant.tasks.pii import mask_pii

    for text, name in (("제안자 김철수 드림", "김철수"), ("문의자: 이영희", "이영희"), ("차량 소유자 오세훈", "오세훈"),
                       ("신고자 박민준입니다", "박민준"), ("대표자 최수진", "최수진")):
        assert name not in mask_pii(text).text, text
    for text in ("대표 사례를 소개한다", "소유자 변경 신고를 한다", "문의자 정보를 확인한다"):
        assert mask_pii(text).text == text
