"""Request dependencies: the database session, the authenticated user, CSRF, admin checks, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.tasks.pii import mask_for_log
from assistant.web.auth import SESSION_COOKIE, Principal, csrf_ok, session_principal, token_principal
from assistant.web.db import AuditEntry
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
    limiter_login: Any = None
    ready: bool = False
    templates: Any = None


def state(request: Request) -> AppState:
    return request.app.state.assistant


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
    return user


def admin_user(user: Principal = Depends(api_user)) -> Principal:
    if not user.is_admin:
        raise HTTPException(403, "관리자만 할 수 있습니다.")
    return user


def page_user(request: Request, db: Session = DB) -> Principal:
    user = _principal(request, db)
    if user is None:
        raise LoginRequired()
    return user


def form_user(request: Request, user: Principal, csrf_token: str | None) -> Principal:
    _check_csrf(request, user, csrf_token)
    return user


def rate_limited(request: Request, user: Principal = Depends(api_user)) -> Principal:
    """Model endpoints: refuse with 429 and Retry-After when the user's bucket is empty."""
    wait = state(request).limiter.try_acquire(user.id)
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise HTTPException(429, f"요청이 너무 잦습니다. {seconds}초 뒤에 다시 시도하세요.",
                            headers={"Retry-After": str(seconds)})
    return user


def audit(db: Session, user: Principal | None, action: str, query: str = "", doc_ids: list[str] | None = None,
          detail: str = "", *, username: str = "") -> None:
    """Record an action; anything a person typed is PII-masked before it reaches the database."""
    db.add(AuditEntry(user_id=user.id if user else None, username=user.username if user else username,
                      action=action, query=mask_for_log(query)[:2000], doc_ids=list(dict.fromkeys(doc_ids or [])),
                      detail=mask_for_log(detail)[:2000]))
