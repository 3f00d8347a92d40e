"""Request dependencies: the database session, the authenticated user, CSRF, admin checks, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.web.audit import record
from assistant.web.auth import SESSION_COOKIE, Principal, csrf_ok, session_principal, token_principal
from assistant.web.ratelimit import RateLimiter
from assistant.web.services import Core

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class AppState:
    """Everything a request handler needs, built once by ``create_app`` (no module-level globals)."""

    settings: Settings
    core: Core
    sessions: sessionmaker
    secret: bytes
    limiter: RateLimiter
    data_dir: Path
    worker: Any = None
    login_guard: Any = None
    ready: bool = False
    templates: Any = None


def state(request: Request) -> AppState:
    return request.app.state.assistant


def cookie_secure(request: Request) -> bool:
    mode = state(request).settings.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def set_session_cookie(request: Request, resp: Any, token: str) -> None:
    ttl = state(request).settings.session_ttl_minutes
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=cookie_secure(request),
                    max_age=ttl * 60, path="/")


def get_db(request: Request) -> Iterator[Session]:
    db = state(request).sessions()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


#: The request's database session; committed when the handler returns, *before* the response is sent, so a
#: client that follows a redirect at once (to another worker process, say) sees what this request wrote.
DB = Depends(get_db, scope="function")


class LoginRequired(Exception):
    """Raised on pages (not the API) so the handler can redirect to the login page."""


class PasswordChangeRequired(Exception):
    """Raised on pages while the user still has an administrator-chosen password (redirect to 내 계정)."""


def _principal(request: Request, db: Session) -> Principal | None:
    st = state(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = token_principal(db, st.secret, auth[7:].strip())
        if user is None:
            raise HTTPException(401, "API 토큰이 올바르지 않거나 폐기되었습니다.",
                                headers={"WWW-Authenticate": "Bearer"})
        return user
    return session_principal(db, st.secret, request.cookies.get(SESSION_COOKIE, ""), st.settings.session_ttl_minutes)


#: what a user whose password an administrator chose may still do before changing it
PASSWORD_CHANGE_PATHS = ("/account", "/logout", "/api/account/password", "/api/me")


def _password_gate(request: Request, user: Principal) -> None:
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        if request.url.path.startswith("/api/"):
            raise HTTPException(403, "관리자가 정한 임시 비밀번호입니다. '내 계정'에서 비밀번호를 바꾼 뒤 이용하세요.")
        raise PasswordChangeRequired()


def _check_csrf(request: Request, user: Principal, form_token: str | None = None) -> None:
    if request.method in UNSAFE_METHODS and user.via == "session":
        given = request.headers.get("x-csrf-token") or form_token
        if not csrf_ok(user.csrf_token, given):
            raise HTTPException(403, "보안 토큰(CSRF)이 없거나 맞지 않습니다. 페이지를 새로 고친 뒤 다시 시도하세요.")


def api_user(request: Request, db: Session = DB) -> Principal:
    """The user of an API request (session cookie + CSRF header, or a Bearer token)."""
    user = _principal(request, db)
    if user is None:
        raise HTTPException(401, "로그인이 필요합니다. /login 에서 로그인하거나 API 토큰을 보내세요.",
                            headers={"WWW-Authenticate": "Bearer"})
    _check_csrf(request, user)
    _password_gate(request, user)
    return user


def admin_user(request: Request, user: Principal = Depends(api_user), db: Session = DB) -> Principal:
    if not user.is_admin:
        raise denied(db, user, "admin", 403, "관리자만 할 수 있습니다.", detail=f"{request.method} {request.url.path}")
    return user


def page_user(request: Request, db: Session = DB) -> Principal:
    user = _principal(request, db)
    if user is None:
        raise LoginRequired()
    _password_gate(request, user)
    return user


def form_user(request: Request, user: Principal, csrf_token: str | None) -> Principal:
    _check_csrf(request, user, csrf_token)
    return user


def rate_limited(request: Request, user: Principal = Depends(api_user), db: Session = DB) -> Principal:
    """Model endpoints: refuse with 429 and Retry-After when the user's bucket is empty. The bucket is
    committed at once, so its row is not held while the model runs."""
    wait = state(request).limiter.try_acquire(db, user.id)
    db.commit()
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise HTTPException(429, f"요청이 너무 잦습니다. {seconds}초 뒤에 다시 시도하세요.",
                            headers={"Retry-After": str(seconds)})
    return user


def audit(db: Session, user: Principal | None, action: str, query: str = "", doc_ids: list[str] | None = None,
          detail: str = "", *, username: str = "", result: str = "ok") -> None:
    """Record an action in the audit chain (assistant.web.audit); anything a person typed is PII-masked, and
    the documents named are recorded with their titles and access levels as they are now.

    The session must come from the app's session factory, whose ``info`` carries the chain key and the
    document lookup (see ``create_app``)."""
    ids = list(dict.fromkeys(doc_ids or []))
    lookup = db.info.get("doc_meta")
    record(db, db.info["audit_key"], user_id=user.id if user else None,
           username=user.username if user else username, action=action, query=query,
           doc_ids=ids, detail=detail, result=result, docs=lookup(ids) if lookup and ids else {})


def denied(db: Session, user: Principal | None, action: str, status: int, message: str,
           doc_ids: list[str] | None = None, detail: str = "") -> HTTPException:
    """Record a refused attempt and return the error to raise. The entry is committed at once: the request's
    transaction is rolled back when the error propagates, and a refusal must stay on record."""
    audit(db, user, action, "", doc_ids, detail or message, result="denied")
    db.commit()
    return HTTPException(status, message)
