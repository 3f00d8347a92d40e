"""The FastAPI application factory.

``create_app(settings)`` receives everything through its arguments (settings, and optionally a prepared
:class:`Core` with an embedder/generator) — no module-level state — so tests build as many apps as they
like and an agency can run several stateless app servers against one database.

On creation the database schema is upgraded (Alembic) and the secret key is read or created; on start
the job worker re-queues unfinished jobs and a warm-up thread loads the embedder, Kiwi and the default
index, after which ``/healthz`` reports ready.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.runtime import configure
from assistant.web.audit import chain_key
from assistant.web.auth import load_secret_key
from assistant.web.db import database_url, make_engine, prepare_data_dir, session_factory, upgrade
from assistant.web.deps import AppState, LoginRequired, PasswordChangeRequired
from assistant.web.jobs import Worker
from assistant.web.ratelimit import LoginGuard, RateLimiter
from assistant.web.services import Core

log = logging.getLogger("assistant.web")
HERE = Path(__file__).resolve().parent
API_DESCRIPTION = ("폐쇄망용 공문서 검색·질의응답·요약·민원 답변 초안 API. "
                   "모든 요청에 사용자의 열람 권한이 적용됩니다. "
                   "프로그램에서 쓸 때는 '내 계정' 화면에서 발급한 토큰을 "
                   "`Authorization: Bearer …`로 보내세요.")
API_PREFIXES = ("/api/", "/v1/", "/healthz", "/openapi.json")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


def create_app(settings: Settings, *, core: Core | None = None, start_worker: bool = True) -> FastAPI:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    configure(settings, role="server")   # one thread per request for FAISS and BLAS (assistant/runtime.py)
    data_dir = prepare_data_dir(settings.data_dir)
    engine = make_engine(database_url(settings))
    upgrade(engine)
    core = core or Core(settings)
    secret = load_secret_key(settings.secret_key_file or data_dir / "secret_key")
    sessions = session_factory(engine, audit_key=chain_key(secret), doc_meta=core.doc_meta)
    st = AppState(settings=settings, core=core, sessions=sessions, secret=secret,
                  limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst), data_dir=data_dir,
                  templates=Jinja2Templates(directory=str(HERE / "templates")))
    st.login_guard = LoginGuard(secret, free=settings.login_free_failures,
                                address_free=settings.login_address_free_failures)
    _apply_retention(st)
    st.worker = Worker(core, sessions, data_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from assistant.index.store import add_merge_listener, remove_merge_listener

        if start_worker:
            st.worker.start()
        add_merge_listener(core.on_merged)
        threading.Thread(target=_warm_up, args=(st,), name="assistant-warm-up", daemon=True).start()
        yield
        remove_merge_listener(core.on_merged)
        st.worker.stop()
        core.filler.stop()
        engine.dispose()

    app = FastAPI(title="AI 행정비서 API", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description=API_DESCRIPTION)
    app.openapi_version = "3.0.3"  # the bundled Swagger UI (4.x) renders OpenAPI 3.0 documents
    app.state.assistant = st
    _install_handlers(app, st)
    _mount(app)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` / several worker processes: settings from the environment."""
    from assistant.config import load_settings

    return create_app(load_settings())


def _apply_retention(st: AppState) -> None:
    """Remove audit entries past the retention period (at start; ``assistant audit prune`` does it on demand)."""
    from assistant.web.audit import prune

    days = st.settings.audit_retention_days
    if days > 0:
        with st.sessions.begin() as db:
            removed = prune(db, db.info["audit_key"], days)
        if removed:
            log.warning("감사 기록 보존기간(%d일)이 지난 기록 %d개를 지웠습니다.", days, removed)


def _warm_up(st: AppState) -> None:
    try:
        st.core.warm_up()
    except Exception:  # noqa: BLE001 — the app still serves; errors show on first use
        log.exception("warm-up failed")
    st.ready = True


def _mount(app: FastAPI) -> None:
    import swagger_ui_bundle

    from assistant.web import (
        routes_admin,
        routes_api,
        routes_chat,
        routes_documents,
        routes_exports,
        routes_openai,
        routes_pages,
    )

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount("/swagger-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    for module in (routes_pages, routes_api, routes_chat, routes_documents, routes_admin, routes_exports,
                   routes_openai):
        app.include_router(module.router)

    @app.get("/healthz", tags=["상태"], summary="상태 확인 (준비되면 200; 로그인 없이 부르므로 상태만 알려 줌)")
    def healthz(request: Request) -> Response:
        st: AppState = request.app.state.assistant
        body = {"status": "ok" if st.ready else "starting", "ready": st.ready}
        return JSONResponse(body, status_code=200 if st.ready else 503)


def _install_handlers(app: FastAPI, st: AppState) -> None:
    app.add_middleware(BodyLimit, limit=int(st.settings.upload_max_request_mb * 1024 * 1024),
                       room=lambda: storage_room(st))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/static/", "/swagger-assets/", "/fonts/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, _exc: PasswordChangeRequired) -> Response:
        return RedirectResponse("/account?change=1", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIXES) or request.method != "GET":
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return st.templates.TemplateResponse(request, "error.html", {
            "user": None, "csrf": "", "status": exc.status_code, "message": _message(exc)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or '요청'}: {e.get('msg')}" for e in exc.errors()]
        return JSONResponse({"detail": "요청 형식이 올바르지 않습니다. " + "; ".join(problems)}, status_code=422)

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, exc: AssistantError) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)


#: requests that store what they carry (uploads, batch jobs): they also count against the storage quota
STORING_PATHS = ("/api/documents", "/api/batch")


class BodyLimit:
    """Refuse a request body over ``limit`` bytes: at once from its Content-Length, and otherwise (chunked
    uploads) as soon as the bytes received pass the limit — an oversize upload is never read to its end.
    The per-file limit (``upload_max_mb``) is checked as each file is saved; this bounds a whole request.
    Uploads are also refused (507) when they would not fit in what is left of the storage quota."""

    def __init__(self, app: Any, limit: int, room: Any = None) -> None:
        self.app, self.limit, self.room = app, limit, room

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        limit, full = self.limit, False
        if self.room is not None and scope["method"] == "POST" and scope["path"] in STORING_PATHS:
            left = self.room()
            if left is not None and left < limit:
                limit, full = max(left, 0), True
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    await self._storage_full(send)
                    return
        received = 0
        exceeded = sent = False

        async def counted_receive() -> Any:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal sent
            if exceeded:  # whatever the app made of the cut-off body, the answer is 413
                if not sent:
                    sent = True
                    await (self._storage_full(send) if full else self._too_large(send))
                return
            sent = sent or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:  # noqa: BLE001 — whatever the cut-off body caused inside the app
            if not exceeded:
                raise
        if exceeded and not sent:
            await (self._storage_full(send) if full else self._too_large(send))

    async def _too_large(self, send: Any) -> None:
        mb = self.limit / 1024 / 1024
        await self._refuse(send, 413, f"한 번에 보낼 수 있는 크기({mb:.0f}MB)를 넘었습니다. 파일을 나누어 여러 번 "
                                      "올리세요.")

    async def _storage_full(self, send: Any) -> None:
        await self._refuse(send, 507, "서버의 문서 저장 공간이 부족해 더 올릴 수 없습니다. 관리자에게 저장 공간 "
                                      "정리나 한도 조정을 요청하세요.")

    async def _refuse(self, send: Any, status: int, message: str) -> None:
        body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def storage_room(st: AppState) -> int | None:
    """Bytes left of ``storage_quota_mb`` for uploads and job folders (None = no quota)."""
    quota = st.settings.storage_quota_mb
    if quota <= 0:
        return None
    return int(quota * 1024 * 1024) - folder_bytes(st.data_dir / "uploads") - folder_bytes(st.data_dir / "jobs")


def folder_bytes(folder: Path) -> int:
    total = 0
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _message(exc: StarletteHTTPException) -> str:
    if exc.status_code == 404 and exc.detail in ("Not Found", None):
        return "페이지를 찾을 수 없습니다."
    return str(exc.detail)
