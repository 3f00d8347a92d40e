"""Administration (users and roles, audit log, feedback) and each user's own API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assistant.errors import AssistantError
from assistant.tasks.pii import mask_for_log
from assistant.web.auth import (
    Principal,
    check_password_strength,
    create_api_token,
    create_user,
    hash_password,
    validate_user_fields,
)
from assistant.web.db import ApiToken, AuditEntry, Conversation, Feedback, Message, User, WebSession
from assistant.web.deps import DB, admin_user, api_user, audit, state

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
    password: str | None = Field(None, min_length=8, max_length=200)


class TokenIn(BaseModel):
    name: str = Field("API 토큰", max_length=100)


def user_json(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "is_admin": u.is_admin,
            "clearance": u.clearance, "department": u.department, "active": u.active,
            "created_at": u.created_at.isoformat()}


@router.get("/api/admin/users", summary="사용자 목록 (관리자)")
def list_users(_: Principal = Depends(admin_user), db: Session = DB) -> dict[str, Any]:
    return {"users": [user_json(u) for u in db.scalars(select(User).order_by(User.username))]}


@router.post("/api/admin/users", summary="사용자 추가 (관리자)")
def add_user(body: UserIn, admin: Principal = Depends(admin_user), db: Session = DB) -> dict[str, Any]:
    try:
        user = create_user(db, body.username, body.password, is_admin=body.is_admin, clearance=body.clearance,
                           department=body.department, display_name=body.display_name)
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(db, admin, "user_add", "", [], f"{user.username} ({user.clearance}, {user.department or '부서 없음'}"
                                          f"{', 관리자' if user.is_admin else ''})")
    return user_json(user)


@router.patch("/api/admin/users/{user_id}", summary="사용자 권한·등급 변경 (관리자)")
def patch_user(user_id: int, body: UserPatch, admin: Principal = Depends(admin_user),
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
            check_password_strength(body.password)
    except AssistantError as exc:
        raise HTTPException(400, str(exc)) from None
    user.clearance, user.department = clearance, department.strip()
    for field in ("display_name", "is_admin", "active"):
        value = getattr(body, field)
        if value is not None:
            setattr(user, field, value)
    if body.password:
        user.password_hash = hash_password(body.password)
    if body.active is False or body.password:
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
    changes = body.model_dump(exclude_none=True, exclude={"password"})
    audit(db, admin, "user_change", "", [], f"{user.username}: {changes}")
    return user_json(user)


@router.get("/api/admin/audit", summary="감사 기록 (관리자; 개인정보 가림)")
def audit_log(_: Principal = Depends(admin_user), db: Session = DB, limit: int = Query(200, le=1000),
              action: str | None = None, username: str | None = None) -> dict[str, Any]:
    q = select(AuditEntry)
    if action:
        q = q.where(AuditEntry.action == action)
    if username:
        q = q.where(AuditEntry.username == username)
    rows = db.scalars(q.order_by(AuditEntry.id.desc()).limit(limit)).all()
    return {"entries": [{"id": a.id, "at": a.created_at.isoformat(), "username": a.username, "action": a.action,
                         "query": a.query, "doc_ids": a.doc_ids, "detail": a.detail} for a in rows]}


@router.get("/api/admin/feedback", summary="받은 평가 (관리자)")
def feedback_list(_: Principal = Depends(admin_user), db: Session = DB) -> dict[str, Any]:
    rows = db.execute(
        select(Feedback, Message, User.username).join(Message, Message.id == Feedback.message_id)
        .join(User, User.id == Feedback.user_id).order_by(Feedback.id.desc()).limit(300)).all()
    question_of = _questions(db, [m.id for _, m, _ in rows])
    stats = dict(db.execute(select(Feedback.rating, func.count()).group_by(Feedback.rating)).all())
    return {"up": stats.get(1, 0), "down": stats.get(-1, 0), "items": [
        {"id": f.id, "at": f.created_at.isoformat(), "username": name, "rating": f.rating,
         "comment": mask_for_log(f.comment), "question": mask_for_log(question_of.get(m.id, "")),
         "answer": m.content[:400], "doc_ids": [c.get("doc_id") for c in m.citations]} for f, m, name in rows]}


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
