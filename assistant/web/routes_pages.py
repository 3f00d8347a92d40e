"""Server-rendered pages: login/logout, chat, documents, batch summaries, admin, account, API docs, fonts.

Templates autoescape everything; document and answer text reaches the page only as JSON read by the
page's script, which inserts it as text nodes — never as HTML.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from assistant.retrieve.filters import ACCESS_LEVELS
from assistant.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AuthError,
    Principal,
    authenticate,
    csrf_ok,
    end_session,
    find_user,
    start_session,
)
from assistant.web.deps import DB, audit, cookie_secure, denied, form_user, page_user, set_session_cookie, state
from assistant.web.services import MODES

router = APIRouter(include_in_schema=False)
FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), Path("/usr/share/fonts/opentype/nanum"))
FONTS = {"NanumGothic.ttf", "NanumGothicBold.ttf", "NanumGothicExtraBold.ttf", "NanumBarunGothic.ttf",
         "NanumBarunGothicBold.ttf"}


def render(request: Request, template: str, user: Principal | None, **context: Any) -> HTMLResponse:
    st = state(request)
    return st.templates.TemplateResponse(request, template, {
        "user": user, "csrf": user.csrf_token if user else "", "modes": MODES, "levels": ACCESS_LEVELS,
        "indexes": st.core.indexes(), "default_index": st.settings.index_name,
        "upload_max_mb": st.settings.upload_max_mb, **context})


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/", error: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, login_csrf=token, next=_safe_next(next), error=error)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request),
                    max_age=3600)
    return resp


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
                 next: str = Form("/"), db: Session = DB) -> Response:
    st = state(request)
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_again(request, next, "보안 확인이 만료되었습니다. 다시 로그인하세요.")
    address = request.client.host if request.client else ""
    wait = st.login_guard.wait_seconds(db, username, address)
    if wait > 0:  # refused before the password is looked at, so guessing gains nothing while blocked
        seconds = max(1, int(wait + 0.999))
        shown = recorded_login_name(db, st.secret, username)
        audit(db, None, "login_blocked", "", [], f"실패가 잦아 {seconds}초 대기", username=shown, result="denied")
        db.commit()
        message = f"로그인 실패가 잦아 잠시 막혔습니다. {seconds}초 뒤에 다시 시도하세요."
        resp = _login_again(request, next, message, 429)
        resp.headers["Retry-After"] = str(seconds)
        return resp
    try:
        user = authenticate(db, username, password)
    except AuthError as exc:
        st.login_guard.failed(db, username, address)
        shown = recorded_login_name(db, st.secret, username)
        audit(db, None, "login_failed", "", [], shown, username=shown, result="denied")
        db.commit()
        return _login_again(request, next, str(exc), 401)
    st.login_guard.succeeded(db, username, address)
    token, _ = start_session(db, st.secret, user, st.settings.session_ttl_minutes)
    audit(db, Principal.of(user), "login")
    target = "/account?change=1" if user.must_change_password else _safe_next(next)
    done = RedirectResponse(target, status_code=303)
    set_session_cookie(request, done, token)
    done.delete_cookie(LOGIN_CSRF_COOKIE)
    return done


def recorded_login_name(db: Session, secret: bytes, typed: str) -> str:
    """What the audit log keeps of a failed login's user name: the name when it is an account's, else a
    keyed hash — people type passwords and 주민등록번호 into that box, and those must not be stored."""
    user = find_user(db, typed)
    if user is not None:
        return user.username
    name = unicodedata.normalize("NFC", typed).strip()[:64]
    digest = hmac.new(secret, name.encode("utf-8"), hashlib.sha256).hexdigest()[:12]
    return f"(등록되지 않은 이름 #{digest})"


def _login_again(request: Request, next: str, error: str, status: int = 400) -> HTMLResponse:
    resp = login_page(request, next, error)
    resp.status_code = status
    return resp


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), user: Principal = Depends(page_user),
           db: Session = DB) -> Response:
    form_user(request, user, csrf_token)
    end_session(db, state(request).secret, request.cookies.get(SESSION_COOKIE, ""))
    audit(db, user, "logout")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def chat_page(request: Request, user: Principal = Depends(page_user)) -> HTMLResponse:
    return render(request, "chat.html", user, page="chat", title="대화")


@router.get("/documents")
def documents_page(request: Request, user: Principal = Depends(page_user)) -> HTMLResponse:
    from assistant.web.uploads import document_extensions

    return render(request, "documents.html", user, page="documents", title="문서", extensions=document_extensions())


@router.get("/batch")
def batch_page(request: Request, user: Principal = Depends(page_user)) -> HTMLResponse:
    from assistant.web.uploads import document_extensions

    return render(request, "batch.html", user, page="batch", title="일괄 요약", extensions=document_extensions())


@router.get("/admin")
def admin_page(request: Request, user: Principal = Depends(page_user), db: Session = DB) -> HTMLResponse:
    if not user.is_admin:
        raise denied(db, user, "admin", 403, "관리자만 볼 수 있는 화면입니다.", detail="GET /admin")
    return render(request, "admin.html", user, page="admin", title="관리")


@router.get("/account")
def account_page(request: Request, user: Principal = Depends(page_user)) -> HTMLResponse:
    from assistant.web.passwords import MIN_LENGTH, MIN_LENGTH_THREE_KINDS

    return render(request, "account.html", user, page="account", title="내 계정",
                  must_change=user.must_change_password, min_length=MIN_LENGTH,
                  min_length_three=MIN_LENGTH_THREE_KINDS)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api_docs.html", None, title="API 문서")


@router.get("/fonts/{name}")
def font(name: str) -> FileResponse:
    """Korean fonts from the Debian fonts-nanum package, when installed (the CSS falls back otherwise)."""
    if name not in FONTS:
        raise HTTPException(404, "글꼴이 없습니다.")
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return FileResponse(folder / name, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})
    raise HTTPException(404, "글꼴이 설치되어 있지 않습니다 (Debian fonts-nanum).")
