"""One user's hostile upload costs only that user (issue 17): the crafted files of tests/hostile go in as one
user's upload, another user's ordinary document right after; both jobs finish, the ordinary document is
searchable, and every hostile file has an outcome a person can read."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from hostile import files as hostile  # tests/ is on sys.path (tests/conftest.py)
from test_web_api import wait_job
from webtools import login

LIBRARY_WORDS = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|Traceback")


def test_a_hostile_upload_does_not_hold_up_another_users_document(make_app, tmp_path):
    app = make_app(upload_max_mb=5.0, private_index=True)
    made = hostile.write_all(tmp_path / "hostile")
    with TestClient(app) as attacker, TestClient(app) as colleague:
        login(attacker, "officer")
        login(colleague, "public")
        sent = attacker.post("/api/documents", data={"access_level": "공개"}, files=[
            ("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in made.values()])
        assert sent.status_code == 200, sent.text
        good = ("# 청사 자전거 보관소 안내\n\n청사 자전거 보관소는 평일 오전 7시부터 오후 9시까지 "
                "누구나 무료로 이용할 수 있다.\n")
        mine = colleague.post("/api/documents", data={"access_level": "공개"},
                              files=[("files", ("자전거보관소.md", good.encode(), "text/markdown"))])
        assert mine.status_code == 200, mine.text
        job = wait_job(colleague, mine.json()["job"]["id"], timeout=600)
        assert job["status"] == "done" and job["items"][0]["status"] == "ok", job
        hits = colleague.post("/api/search", json={"query": "자전거 보관소 이용 시간", "k": 3}).json()["hits"]
        assert hits and hits[0]["title"] == "청사 자전거 보관소 안내"
        theirs = wait_job(attacker, sent.json()["job"]["id"], timeout=600)
        assert theirs["status"] == "done", theirs
        items = {i["file"]: i for i in theirs["items"]}
        assert len(items) == len(sent.json()["accepted"])
        assert any("대체" in w for w in items[made["bad_byte_utf8"].name]["warnings"])
        for item in items.values():
            if item["status"] == "failed":
                assert re.search("[가-힣]", item["reason"]) and not LIBRARY_WORDS.search(item["reason"]), item
        # the uploads list shows the failed ones with their reasons, in Korean
        pending = attacker.get("/api/documents").json()["uploads"]
        assert any(u["status"] == "failed" and "압축" in u["error"] for u in pending), pending


def test_uploads_count_against_the_storage_quota(make_app):
    app = make_app(storage_quota_mb=0.5, private_index=True)
    with TestClient(app) as c:
        login(c, "officer")
        big = "민원 처리 안내. ".encode() * 30_000                     # ~0.6 MB: more than the quota holds
        r = c.post("/api/documents", data={"access_level": "공개"},
                   files=[("files", ("큰안내.txt", big, "text/plain"))])
        assert r.status_code == 507 and "저장 공간" in r.json()["detail"]
        small = c.post("/api/documents", data={"access_level": "공개"},
                       files=[("files", ("작은안내.md", "# 안내\n\n작은 문서입니다.\n".encode(), "text/markdown"))])
        assert small.status_code == 200, small.text
    assert not list((app.state.assistant.data_dir / "uploads").rglob("큰안내*"))


def test_batch_results_are_deleted_after_their_retention(make_app):
    from datetime import timedelta

    from assistant.web.db import utcnow

    app = make_app(job_result_days=7)
    with TestClient(app) as c:
        login(c, "officer")
        r = c.post("/api/batch", files=[("files", ("보고.md", "# 보고\n\n처리기간은 7일이다.\n".encode(),
                                                   "text/markdown"))])
        job = wait_job(c, r.json()["job"]["id"])
        assert job["status"] == "done" and job["download"]
        worker = app.state.assistant.worker
        assert worker.expire_results(now=utcnow()) == 0                  # still within the retention
        assert worker.expire_results(now=utcnow() + timedelta(days=8)) == 1
        after = c.get(f"/api/jobs/{job['id']}").json()
        assert after["download"] is None and "보관 기간" in after["message"]
        assert c.get(f"/api/jobs/{job['id']}/result").status_code == 409
    assert not (app.state.assistant.data_dir / "jobs" / job["id"]).exists()
