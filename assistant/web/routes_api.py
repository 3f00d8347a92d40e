"""The model endpoints of the REST API: search, ask (JSON and SSE), summarise, draft a reply, and the chat
stream the browser uses (which also stores the conversation)."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.errors import AssistantError
from assistant.web.auth import Principal
from assistant.web.db import Conversation, Message, utcnow
from assistant.web.deps import DB, AppState, api_user, audit, denied, rate_limited, state
from assistant.web.services import NotVisible

router = APIRouter(tags=["질의·요약·답변"])
HISTORY_TURNS = 6


class Scope(BaseModel):
    index: str | None = Field(None, description="색인 이름 (기본: 설정의 기본 색인)")
    doc_ids: list[str] = Field(default_factory=list, description="이 문서들로만 범위를 좁힘")


class SearchIn(Scope):
    query: str = Field(..., min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=50)
    mode: Literal["hybrid", "dense", "bm25"] | None = None


class AskIn(Scope):
    question: str = Field(..., min_length=1, max_length=4000)
    history: list[tuple[str, str]] = Field(default_factory=list, description="이전 대화 (role, text), 오래된 것부터")
    detail: bool = Field(False, description="짧은 답 대신 근거 문장을 더 많이 (최대 5개)")


class SummarizeIn(BaseModel):
    doc_id: str | None = Field(None, description="색인된 문서 ID (열람 권한 확인)")
    index: str | None = None
    text: str | None = Field(None, max_length=200_000, description="문서 대신 요약할 본문")
    title: str = Field("붙여넣은 글", max_length=200)
    length: str | None = Field(None, description="one-page, five-lines 또는 줄 수")
    scope: str | None = Field(None, max_length=100,
                              description="요약 범위: 법령의 '제3장', '제10조~제20조' 또는 보고서의 절 제목")


class DraftIn(Scope):
    text: str = Field(..., min_length=1, max_length=50_000, description="민원 본문")
    received: str | None = Field(None, description="접수일시 (YYYY-MM-DD 또는 ISO), 기본: 지금")


class ReportIn(Scope):
    topic: str = Field(..., min_length=1, max_length=500, description="보고서 주제나 지시")
    kind: Literal["보고서", "보도자료"] = Field("보고서", description="문서 종류")
    scope: str | None = Field(None, max_length=200, description="출처를 찾을 검색어 (문서를 고르지 않았을 때는 주제)")
    agency: str = Field("", max_length=100, description="보도자료의 기관명")
    released: str | None = Field(None, description="보도 일시 (YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM)")
    contact: str = Field("", max_length=200, description="보도자료의 담당 부서·담당자")


class ChatIn(Scope):
    conversation_id: int | None = None
    mode: Literal["ask", "summarize", "draft", "report"] = "ask"
    text: str = Field("", max_length=50_000)
    # 보고서 초안 mode only: the kind chosen (otherwise "보도자료" in the text picks it) and a 보도자료's fields
    kind: Literal["보고서", "보도자료"] | None = Field(None, description="보고서 초안의 문서 종류")
    agency: str = Field("", max_length=100, description="보도자료의 기관명")
    released: str | None = Field(None, max_length=40, description="보도 일시 (YYYY-MM-DD 또는 YYYY-MM-DDTHH:MM)")
    contact: str = Field("", max_length=200, description="보도자료의 담당 부서·담당자")


def public_citation(c: dict[str, Any]) -> dict[str, Any]:
    """A citation as the browser and API clients see it: no server paths, plus a download link."""
    source = str(c.get("source", ""))
    out: dict[str, Any] = {k: c.get(k) for k in ("n", "doc_id", "title", "location", "text", "quotes") if k in c}
    out["file_name"] = Path(source).name if source else ""
    downloadable = bool(c.get("doc_id")) and bool(source) and Path(source).is_file()
    out["file_url"] = f"/api/documents/{c['doc_id']}/file" if downloadable else None
    if c.get("article"):
        out["article"] = c["article"]
    return out


def model_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotVisible as exc:
        raise HTTPException(404, str(exc)) from None
    except ImportError as exc:
        raise HTTPException(503, f"이 기능의 모듈이 아직 설치되지 않았습니다 ({exc.name}). "
                                 "관리자에게 문의하세요.") from None
    except (AssistantError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/api/search", summary="문서 검색 (열람 권한 안의 구절만)")
def api_search(body: SearchIn, request: Request, user: Principal = Depends(api_user),
               db: Session = DB) -> dict[str, Any]:
    hits = model_call(state(request).core.search, user, body.query, k=body.k, mode=body.mode,
                       index_name=body.index, doc_ids=body.doc_ids)
    audit(db, user, "search", body.query, [h.doc_id for h in hits])
    out = []
    for i, h in enumerate(hits, 1):
        item = h.to_json(i)
        item.pop("source", None)
        item.update(access_level=h.access_level, file_name=Path(h.source).name, ordinals=list(h.ordinals),
                    file_url=f"/api/documents/{h.doc_id}/file" if Path(h.source).is_file() else None)
        out.append(item)
    return {"query": body.query, "hits": out}


@router.post("/api/ask", summary="질의응답 (근거 인용 포함, JSON)")
def api_ask(body: AskIn, request: Request, user: Principal = Depends(rate_limited),
            db: Session = DB) -> dict[str, Any]:
    answer = model_call(state(request).core.ask, user, body.question, index_name=body.index,
                         doc_ids=body.doc_ids, history=body.history, detail=body.detail)
    answer["citations"] = [public_citation(c) for c in answer.get("citations", [])]
    audit(db, user, "ask", body.question, [c["doc_id"] for c in answer["citations"]])
    return answer


@router.post("/api/ask/stream", summary="질의응답 스트리밍 (text/event-stream)",
             response_description="SSE: data 줄마다 {type: citations|token|done|error} JSON")
def api_ask_stream(body: AskIn, request: Request, user: Principal = Depends(rate_limited),
                   db: Session = DB) -> StreamingResponse:
    st = state(request)
    db.commit()  # hold no transaction while streaming (SQLite allows one writer)
    model_call(st.core.ask_service, body.index)  # fail fast (404/503) before the stream starts
    events = _ask_events(st, user, body.question, body.index, body.doc_ids, body.history, body.detail)
    return sse_response(_with_audit(st, user, body.question, events))


@router.post("/api/summarize", summary="문서 요약 (개조식)")
def api_summarize(body: SummarizeIn, request: Request, user: Principal = Depends(rate_limited),
                  db: Session = DB) -> dict[str, Any]:
    core = state(request).core
    if body.doc_id:
        try:
            result = model_call(core.summarize_indexed, user, body.doc_id, index_name=body.index, length=body.length,
                                 scope=body.scope)
        except HTTPException as exc:
            if exc.status_code == 404:
                raise denied(db, user, "summarize", 404, str(exc.detail), [body.doc_id]) from None
            raise
        audit(db, user, "summarize", f"문서 요약: {result.get('title', '')}", [body.doc_id])
    elif body.text and body.text.strip():
        result = _summarize_text(core, body.text, body.title, body.length)
        audit(db, user, "summarize", f"본문 요약: {body.title}")
    else:
        raise HTTPException(400, "요약할 문서(doc_id)나 본문(text)을 보내세요.")
    result.pop("source", None)
    return result


@router.post("/api/draft-reply", summary="민원 답변서 초안 (개인정보 가림, 근거 법령 인용)")
def api_draft(body: DraftIn, request: Request, user: Principal = Depends(rate_limited),
              db: Session = DB) -> dict[str, Any]:
    draft = model_call(state(request).core.draft_reply, user, body.text, index_name=body.index,
                        doc_ids=body.doc_ids, received=body.received)
    draft["citations"] = [public_citation(c) for c in draft.get("citations", [])]
    audit(db, user, "draft_reply", body.text[:500], [c["doc_id"] for c in draft["citations"]])
    return draft


def draft_report_for(core: Any, user: Principal, topic: str, *, index_name: str | None, doc_ids: list[str],
                     scope: str | None = None, kind: str = "보고서", **extra: Any) -> dict[str, Any]:
    """A report draft from documents the user may see: each chosen document is looked up through the user's
    access filter first (NotVisible, reported like a missing one), and retrieval for a scope runs under it."""
    from assistant.tasks.draft_report import draft_report

    found = [core.find_document(user, d, index_name) for d in dict.fromkeys(doc_ids)]
    index = found[0]["index"] if found else index_name
    draft = draft_report(topic, settings=core.settings, docs=[f["doc_id"] for f in found], scope=scope, kind=kind,
                         retriever=core.retriever(index), generator=core.generator, flt=user.search_filter(),
                         index_name=index, **extra)
    return draft.to_json()


@router.post("/api/draft-report", summary="보고서·보도자료 초안 (고른 문서나 검색 범위에서, 출처 번호 포함)")
def api_draft_report(body: ReportIn, request: Request, user: Principal = Depends(rate_limited),
                     db: Session = DB) -> dict[str, Any]:
    try:
        draft = model_call(draft_report_for, state(request).core, user, body.topic, index_name=body.index,
                            doc_ids=body.doc_ids, scope=body.scope, kind=body.kind, agency=body.agency,
                            released=body.released, contact=body.contact)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise denied(db, user, "draft_report", 404, str(exc.detail), body.doc_ids) from None
        raise
    audit(db, user, "draft_report", f"{body.kind} 초안: {body.topic[:300]}", [s["doc_id"] for s in draft["sources"]])
    return draft


@router.post("/api/chat/stream", summary="대화 화면의 스트리밍 (대화 기록 저장)")
def api_chat_stream(body: ChatIn, request: Request, user: Principal = Depends(rate_limited),
                    db: Session = DB) -> StreamingResponse:
    st = state(request)
    text = unicodedata.normalize("NFC", body.text).strip()
    conv = _conversation(db, user, body)
    if not text and not (body.mode == "summarize" and conv.doc_ids):
        raise HTTPException(400, "질문이나 본문을 입력하세요.")
    if body.mode == "ask":
        model_call(st.core.ask_service, conv.index_name or None)
    history = _history(db, conv.id)
    shown = text or "선택한 문서를 요약해 주세요."
    db.add(Message(conversation_id=conv.id, role="user", mode=body.mode, content=shown))
    if conv.title == "새 대화":
        conv.title = shown[:40]
    conv.updated_at = utcnow()
    conv.mode = body.mode
    db.commit()
    report = {"kind": body.kind, "agency": body.agency, "released": body.released, "contact": body.contact}
    events = _mode_events(st, user, body.mode, text, conv.index_name or None, list(conv.doc_ids), history, report)
    return sse_response(_persisting(st, user, conv.id, body.mode, shown, events, list(conv.doc_ids)))


# ---------------------------------------------------------------------------------------------- helpers

def sse_response(events: Iterator[dict[str, Any]]) -> StreamingResponse:
    def encode() -> Iterator[str]:
        for ev in events:
            yield "data: " + json.dumps(ev, ensure_ascii=False) + "\n\n"

    return StreamingResponse(encode(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _ask_events(st: AppState, user: Principal, question: str, index: str | None, doc_ids: list[str],
                history: list[tuple[str, str]], detail: bool = False) -> Iterator[dict[str, Any]]:
    for ev in st.core.ask_stream(user, question, index_name=index, doc_ids=doc_ids, history=history,
                                 detail=detail):
        if "citations" in ev:
            ev = {**ev, "citations": [public_citation(c) for c in ev["citations"]]}
        yield ev


def _mode_events(st: AppState, user: Principal, mode: str, text: str, index: str | None, doc_ids: list[str],
                 history: list[tuple[str, str]], report: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    if mode == "ask":
        yield from _ask_events(st, user, text, index, doc_ids, history)
        return
    if mode == "summarize":
        if doc_ids and not text:
            results = [st.core.summarize_indexed(user, d, index_name=index) for d in doc_ids[:5]]
            body = "\n\n".join(f"■ {r['title']}\n{r['text']}" for r in results)
            cites = [{"n": i, "doc_id": d, "title": r["title"], "location": "문서 전체", "text": r["text"],
                      "source": r.get("source", "")} for i, (d, r) in enumerate(zip(doc_ids, results, strict=False), 1)]
        else:
            r = _summarize_text(st.core, text, "붙여넣은 글", None)
            body, cites = r["text"], []
    elif mode == "report":
        report = report or {}
        kind = report.get("kind") or ("보도자료" if "보도자료" in text else "보고서")
        press = {k: report.get(k) or "" for k in ("agency", "released", "contact")} if kind == "보도자료" else {}
        r = draft_report_for(st.core, user, text, index_name=index, doc_ids=doc_ids, kind=kind, **press)
        body = r["text"]
        cites = [{**c, "text": c["text"], "source": ""} for c in r["sources"]]
        yield {"type": "meta", "report_title": r["title"], "kind": r["kind"]}
    else:
        d = st.core.draft_reply(user, text, index_name=index, doc_ids=doc_ids)
        body, cites = d["reply"], d.get("citations", [])
        if d.get("deadline"):
            yield {"type": "meta", "complaint_type": d.get("complaint_type_label"), "deadline": d["deadline"]}
    cites = [public_citation(c) for c in cites]
    yield {"type": "citations", "citations": cites}
    for piece in _pieces(body):
        yield {"type": "token", "text": piece}
    yield {"type": "done", "answer": body, "citations": cites, "abstained": False}


def _pieces(text: str, size: int = 40) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i:i + size]


def _summarize_text(core: Any, text: str, title: str, length: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ahb-sum-") as tmp:
        name = "".join(ch for ch in title if ch.isalnum() or ch in " _-")[:60].strip() or "본문"
        path = Path(tmp) / f"{name}.txt"
        path.write_text(unicodedata.normalize("NFC", text), encoding="utf-8")
        result = model_call(core.summarize_file, path, length=length)
    result.pop("source", None)
    return result


def _with_audit(st: AppState, user: Principal, question: str,
                events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    cited: list[str] = []
    for ev in guarded_events(events):
        if ev.get("type") == "done":
            cited = [c["doc_id"] for c in ev.get("citations", [])]
        yield ev
    with st.sessions.begin() as db:
        audit(db, user, "ask", question, cited)


def _persisting(st: AppState, user: Principal, conv_id: int, mode: str, question: str,
                events: Iterator[dict[str, Any]], scope: list[str]) -> Iterator[dict[str, Any]]:
    yield {"type": "conversation", "id": conv_id}
    action = {"ask": "ask", "summarize": "summarize", "draft": "draft_reply", "report": "draft_report"}[mode]
    for ev in guarded_events(events):
        if ev.get("type") == "error" and ev.get("denied"):
            with st.sessions.begin() as db:
                audit(db, user, action, question, scope, ev["message"], result="denied")
        if ev.get("type") == "done":
            with st.sessions.begin() as db:
                msg = Message(conversation_id=conv_id, role="assistant", mode=mode, content=ev.get("answer", ""),
                              citations=ev.get("citations", []), abstained=bool(ev.get("abstained")))
                db.add(msg)
                db.flush()
                ev = {**ev, "message_id": msg.id}
                audit(db, user, action, question, [c["doc_id"] for c in ev.get("citations", [])])
        yield ev


def guarded_events(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Turn a failure after the stream started into an error event the page can show."""
    try:
        yield from events
    except NotVisible as exc:
        yield {"type": "error", "message": str(exc), "denied": True}
    except ImportError as exc:
        yield {"type": "error", "message": f"이 기능의 모듈이 아직 설치되지 않았습니다 ({exc.name})."}
    except (AssistantError, ValueError) as exc:
        yield {"type": "error", "message": str(exc)}


def _conversation(db: Session, user: Principal, body: ChatIn) -> Conversation:
    if body.conversation_id is not None:
        conv = db.get(Conversation, body.conversation_id)
        if conv is None or conv.user_id != user.id:
            raise HTTPException(404, "대화를 찾을 수 없습니다.")
        if body.index is not None:  # the page always sends its current scope
            conv.index_name, conv.doc_ids = body.index, list(body.doc_ids)
        return conv
    conv = Conversation(user_id=user.id, mode=body.mode, index_name=body.index or "", doc_ids=list(body.doc_ids))
    db.add(conv)
    db.flush()
    return conv


def _history(db: Session, conv_id: int) -> list[tuple[str, str]]:
    rows = db.scalars(select(Message).where(Message.conversation_id == conv_id, Message.mode == "ask")
                      .order_by(Message.id.desc()).limit(HISTORY_TURNS * 2)).all()
    return [(m.role, m.content) for m in reversed(rows)]
