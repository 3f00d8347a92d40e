"""보고서 초안 over the API, in process (FastAPI TestClient) on the real web index: per-document access levels
exactly as summaries and replies, the audit entry, the chat's 보고서 mode, and HWPX / DOCX / Markdown downloads
that the project's parsers read back."""

from __future__ import annotations

import json

from test_web_api import RESTRICTED_TITLE, doc_id_by_title, sse_events
from webtools import SECRET_PHRASE, login

PARKING = "청사 주차장 이용 안내"


def _as(client, name: str) -> None:
    client.cookies.clear()
    login(client, name)


def test_report_respects_access_levels_and_is_audited(client):
    _as(client, "auditor")
    secret_id = doc_id_by_title(client, RESTRICTED_TITLE)
    assert secret_id
    ok = client.post("/api/draft-report", json={"topic": "2027년 특별감사 계획 보고", "doc_ids": [secret_id]})
    assert ok.status_code == 200, ok.text
    assert "도로관리과" in ok.json()["text"]   # the cleared reader gets the document's content
    for name in ("public", "officer"):
        _as(client, name)
        r = client.post("/api/draft-report", json={"topic": "2027년 특별감사 계획 보고", "doc_ids": [secret_id]})
        assert r.status_code == 404 and SECRET_PHRASE not in r.text and "도로관리과" not in r.text
        # a search scope runs under the same filter: the restricted text never comes back
        r = client.post("/api/draft-report", json={"topic": "특별감사 계획 보고", "scope": "특별감사 대상 감사 착수일"})
        assert SECRET_PHRASE not in r.text and "도로관리과" not in r.text
    _as(client, "admin")
    rows = client.get("/api/admin/audit", params={"action": "draft_report"}).json()["entries"]
    assert {r["result"] for r in rows} >= {"ok", "denied"}, json.dumps(rows, ensure_ascii=False)[:500]


def test_chat_report_mode_and_downloads_parse_back(client, tmp_path):
    from assistant.ingest.base import parse_file

    _as(client, "officer")
    doc_id = doc_id_by_title(client, PARKING)
    assert doc_id
    events = sse_events(client.post("/api/chat/stream", json={
        "mode": "report", "text": "청사 민원인 주차장 운영 현황 보고", "index": "default", "doc_ids": [doc_id]}).text)
    done = events[-1]
    assert done["type"] == "done", events
    assert "1. 개요(추진 배경)" in done["answer"] and "붙임  출처 목록" in done["answer"]
    assert done["citations"] and done["citations"][0]["doc_id"] == doc_id
    assert any(e["type"] == "meta" and e.get("report_title") for e in events)
    for fmt in ("hwpx", "docx", "md"):
        r = client.post("/api/exports/draft-report", json={"text": done["answer"], "title": "주차장 운영 현황 보고",
                                                            "kind": "보고서", "format": fmt})
        assert r.status_code == 200, r.text
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
        path = tmp_path / f"report.{fmt}"
        path.write_bytes(r.content)
        parsed = parse_file(path)
        # the Markdown reader turns "# …" / "## …" lines into section headings, the others keep them as text
        text = "\n".join([parsed.title or ""] + [" ".join((*b.heading_path, b.text)) for b in parsed.blocks])
        assert "주차장 운영 현황 보고" in text and "개요(추진 배경)" in text and "끝." in text


def test_press_release_from_the_api_and_bad_input(client):
    _as(client, "officer")
    doc_id = doc_id_by_title(client, PARKING)
    r = client.post("/api/draft-report", json={"topic": "청사 주차장 무료 개방 안내", "doc_ids": [doc_id],
                                               "kind": "보도자료", "released": "2026-12-05T14:30"})
    assert r.status_code == 200, r.text
    assert "보도 일시: 2026. 12. 5. 14:30" in r.json()["text"]
    bad = client.post("/api/draft-report", json={"topic": "보고", "doc_ids": [doc_id], "released": "내일"})
    assert bad.status_code == 400 and "보도 일시" in bad.json()["detail"]


def test_chat_press_release_takes_the_kind_and_fields_chosen_in_the_form(client):
    _as(client, "officer")
    doc_id = doc_id_by_title(client, PARKING)
    body = {"mode": "report", "text": "청사 민원인 주차장 운영 안내", "index": "default", "doc_ids": [doc_id],
            "kind": "보도자료", "agency": "행정안전부", "released": "2026-12-05T14:30",
            "contact": "민원제도과 김민원 사무관(044-205-1234)"}
    events = sse_events(client.post("/api/chat/stream", json=body).text)
    done = events[-1]
    assert done["type"] == "done", events
    assert any(e["type"] == "meta" and e.get("kind") == "보도자료" for e in events)   # chosen, not guessed
    head = done["answer"].split("\n")[:3]
    assert head == ["기관: 행정안전부", "보도 일시: 2026. 12. 5. 14:30",
                    "담당 부서·담당자: 민원제도과 김민원 사무관(044-205-1234)"]
    # a 보고서 ignores the 보도자료 fields; an unreadable 보도 일시 is a clear Korean error, not a crash
    report = sse_events(client.post("/api/chat/stream", json={**body, "kind": "보고서"}).text)[-1]
    assert report["type"] == "done" and "행정안전부" not in report["answer"] and "개요(추진 배경)" in report["answer"]
    bad = sse_events(client.post("/api/chat/stream", json={**body, "released": "다음 주 화요일"}).text)
    assert bad[-1]["type"] == "error" and "보도 일시 '다음 주 화요일'를 읽을 수 없습니다" in bad[-1]["message"], bad
