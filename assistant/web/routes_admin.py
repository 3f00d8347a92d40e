"""Administration (users and roles, audit log, feedback) and each user's own API tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.errors import AssistantError
from assistant.web.audit import ACTIONS, RESULTS, WITHHELD, AuditQuery, entry_json, find, may_read, to_csv
from assistant.web.auth import (
    AuthError,
    Principal,
    change_own_password,
    check_password_strength,
    create_api_token,
    create_user,
    set_password,
    start_session,
    validate_user_fields,
)
from assistant.web.db import ApiToken, Conversation, Feedback, Message, User, WebSession, utcnow
from assistant.web.deps import DB, admin_user, api_user, audit, denied, set_session_cookie, state

router = APIRouter(tags=["관리·계정"])


class UserIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=8, max_length=200)
    display_name: str = Field("", max_length=100)
    is_admin: bool = False
    clearance: str = "공개"
    department: str = ""


class UserPatch(BaseModel):
    display_name: str | None = Field(None, max_length=100)
    is_admin: bool | None = None
    clearance: str | None = None
    department: str | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=200,
                                 description="임시 비밀번호 (첫 로그인 때 바꾸게 함)")
    unlock: bool = Field(False, description="로그인 실패로 생긴 대기를 모든 접속 주소에서 풂")


class TokenIn(BaseModel):
    name: str = Field("API 토큰", max_length=100)


class PasswordIn(BaseModel):
    current_password: str = Field(..., max_length=200)
    new_password: str = Field(..., max_length=200)


def user_json(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "is_admin": u.is_admin,
            "clearance": u.clearance, "department": u.department, "active": u.active,
            "must_change_password": u.must_change_password, "created_at": u.created_at.isoformat()}


@router.get("/api/admin/users", summary="사용자 목록 (관리자)")
def list_users(_: Principal = Depends(admin_user), db: Session = DB) -> dict[str, Any]:
    return {"users": [user_json(u) for u in db.scalars(select(User).order_by(User.username))]}


@router.post("/api/admin/users", summary="사용자 추가 (관리자; 첫 로그인 때 비밀번호를 바꾸게 함)")
def add_user(body: UserIn, admin: Principal = Depends(admin_user), db: Session = DB) -> dict[str, Any]:
    try:
        user = create_user(db, body.username, body.password, is_admin=body.is_admin, clearance=body.clearance,
                           department=body.department, display_name=body.display_name, must_change_password=True)
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(db, admin, "user_add", "", [], f"{user.username} ({user.clearance}, {user.department or '부서 없음'}"
                                          f"{', 관리자' if user.is_admin else ''})")
    return user_json(user)


@router.patch("/api/admin/users/{user_id}", summary="사용자 권한·등급 변경, 임시 비밀번호, 로그인 대기 해제 (관리자)")
def patch_user(user_id: int, body: UserPatch, request: Request, admin: Principal = Depends(admin_user),
               db: Session = DB) -> dict[str, Any]:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, "사용자를 찾을 수 없습니다.")
    if user.id == admin.id and (body.is_admin is False or body.active is False):
        raise HTTPException(400, "자기 자신의 관리자 권한을 없애거나 계정을 정지할 수 없습니다.")
    clearance = body.clearance if body.clearance is not None else user.clearance
    department = body.department if body.department is not None else user.department
    try:
        validate_user_fields(user.username, clearance, department)
        if body.password:
            check_password_strength(body.password, user.username)
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    user.clearance, user.department = clearance, department.strip()
    for field in ("display_name", "is_admin", "active"):
        value = getattr(body, field)
        if value is not None:
            setattr(user, field, value)
    if body.password:
        set_password(db, user, body.password, chosen_by_user=False)
    if body.active is False:
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
    if body.unlock or body.password:
        state(request).login_guard.clear_account(db, user.username)
    changes = body.model_dump(exclude_none=True, exclude={"password", "unlock"})
    notes = [*(["임시 비밀번호 지정"] if body.password else []), *(["로그인 대기 해제"] if body.unlock else [])]
    audit(db, admin, "user_change", "", [], f"{user.username}: {changes} {' · '.join(notes)}".strip())
    return user_json(user)


def _audit_query(username: str | None, action: str | None, result: str | None, since: date | None,
                 until: date | None, q: str | None, limit: int) -> AuditQuery:
    return AuditQuery(username=username or None, action=action or None, result=result or None,
                      since=datetime.combine(since, time.min, UTC) if since else None,
                      until=datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None,
                      text=(q or "").strip() or None, limit=limit)


def _reader(admin: Principal) -> Any:
    return lambda e: may_read(e.scope or [], admin.clearance, admin.department)


def _filters_text(aq: AuditQuery) -> str:
    parts = [f"{k}={v:%Y-%m-%d}" if isinstance(v, datetime) else f"{k}={v}"
             for k, v in (("사용자", aq.username), ("작업", aq.action), ("결과", aq.result), ("부터", aq.since),
                          ("까지", aq.until), ("검색어", aq.text)) if v]
    return ", ".join(parts) or "조건 없음"


@router.get("/api/admin/audit", summary="감사 기록 (관리자; 열람 권한 밖 문서의 내용은 가림)")
def audit_log(admin: Principal = Depends(admin_user), db: Session = DB, limit: int = Query(200, ge=1, le=1000),
              action: str | None = None, username: str | None = None, result: str | None = None,
              since: date | None = None, until: date | None = None, q: str | None = None) -> dict[str, Any]:
    aq = _audit_query(username, action, result, since, until, q, limit)
    readable = _reader(admin)
    rows = find(db, aq)
    audit(db, admin, "audit_view", "", [], _filters_text(aq))
    return {"entries": [entry_json(e, readable(e)) for e in rows], "actions": ACTIONS, "results": RESULTS}


@router.get("/api/admin/audit.csv", summary="감사 기록 내보내기 (CSV; 같은 조건)")
def audit_export(admin: Principal = Depends(admin_user), db: Session = DB,
                 limit: int = Query(100_000, ge=1, le=1_000_000), action: str | None = None,
                 username: str | None = None, result: str | None = None, since: date | None = None,
                 until: date | None = None, q: str | None = None) -> Response:
    aq = _audit_query(username, action, result, since, until, q, limit)
    rows = find(db, aq)
    audit(db, admin, "audit_export", "", [], f"{len(rows)}건 ({_filters_text(aq)})")
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(to_csv(rows, _reader(admin)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/admin/feedback", summary="받은 평가 (관리자; 열람 권한 밖 문서를 인용한 답변은 가림)")
def feedback_list(admin: Principal = Depends(admin_user), db: Session = DB,
                  st: Any = Depends(state)) -> dict[str, Any]:
    rows = db.execute(
        select(Feedback, Message, User.username).join(Message, Message.id == Feedback.message_id)
        .join(User, User.id == Feedback.user_id).order_by(Feedback.id.desc()).limit(300)).all()
    question_of = _questions(db, [m.id for _, m, _ in rows])
    cited = {m.id: [c.get("doc_id") for c in m.citations if c.get("doc_id")] for _, m, _ in rows}
    visible = st.core.visible_ids(admin, [d for ids in cited.values() for d in ids])
    stats = dict(db.execute(select(Feedback.rating, func.count()).group_by(Feedback.rating)).all())
    items = []
    for f, m, name in rows:
        readable = all(d in visible for d in cited[m.id])
        items.append({"id": f.id, "at": f.created_at.isoformat(), "username": name, "rating": f.rating,
                      # both columns are stored masked (MaskedText): nothing to mask again
                      "comment": f.comment if readable else WITHHELD,
                      "question": question_of.get(m.id, "") if readable else WITHHELD,
                      "answer": m.content[:400] if readable else WITHHELD,
                      "doc_ids": cited[m.id] if readable else [], "withheld": not readable})
    audit(db, admin, "feedback_view", "", [], f"{len(items)}건")
    return {"up": stats.get(1, 0), "down": stats.get(-1, 0), "items": items}


def _questions(db: Session, message_ids: list[int]) -> dict[int, str]:
    """The user message just before each answer (its question)."""
    out: dict[int, str] = {}
    for mid in message_ids:
        msg = db.get(Message, mid)
        if msg is None:
            continue
        q = db.scalar(select(Message.content).where(Message.conversation_id == msg.conversation_id,
                                                    Message.id < mid, Message.role == "user")
                      .order_by(Message.id.desc()).limit(1))
        out[mid] = q or ""
    return out


@router.get("/api/me", summary="내 계정 정보")
def me(user: Principal = Depends(api_user)) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "is_admin": user.is_admin,
            "clearance": user.clearance, "department": user.department,
            "must_change_password": user.must_change_password}


@router.post("/api/account/password", summary="내 비밀번호 바꾸기 (현재 비밀번호 필요; 다른 로그인은 모두 끝남)")
def change_password(body: PasswordIn, request: Request, response: Response, user: Principal = Depends(api_user),
                    db: Session = DB) -> dict[str, Any]:
    st = state(request)
    if user.via != "session":
        raise HTTPException(403, "비밀번호는 로그인한 화면에서만 바꿀 수 있습니다.")
    owner = db.get(User, user.id)
    if owner is None:
        raise HTTPException(401, "로그인이 필요합니다.")
    try:
        change_own_password(db, owner, body.current_password, body.new_password)
    except AuthError as exc:
        raise denied(db, user, "password_change", 400, str(exc)) from None
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    token, session = start_session(db, st.secret, owner, st.settings.session_ttl_minutes)
    set_session_cookie(request, response, token)
    audit(db, user, "password_change", "", [], "본인 변경 · 다른 로그인 모두 종료")
    return {"changed": True, "csrf_token": session.csrf_token}


@router.get("/api/tokens", summary="내 API 토큰 목록")
def list_tokens(user: Principal = Depends(api_user), db: Session = DB) -> dict[str, Any]:
    rows = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).all()
    return {"tokens": [{"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at.isoformat(),
                        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None} for t in rows]}


@router.post("/api/tokens", summary="API 토큰 발급 (값은 이때 한 번만 보임)")
def new_token(body: TokenIn, user: Principal = Depends(api_user), db: Session = DB,
              st: Any = Depends(state)) -> dict[str, Any]:
    if user.via != "session":
        raise HTTPException(403, "API 토큰은 로그인한 화면에서만 발급할 수 있습니다.")
    owner = db.get(User, user.id)
    if owner is None:
        raise HTTPException(401, "로그인이 필요합니다.")
    token, row = create_api_token(db, st.secret, owner, body.name)
    audit(db, user, "token_add", "", [], row.name)
    return {"id": row.id, "name": row.name, "token": token}


@router.delete("/api/tokens/{token_id}", summary="API 토큰 폐기")
def revoke_token(token_id: int, user: Principal = Depends(api_user), db: Session = DB) -> dict[str, Any]:
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise HTTPException(404, "토큰을 찾을 수 없습니다.")
    db.delete(row)
    audit(db, user, "token_revoke", "", [], row.name)
    return {"deleted": token_id}


def conversation_count(db: Session, user_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)) or 0)
