"""An OpenAI-compatible face of the assistant, so Open WebUI, LibreChat or any OpenAI client can use it as a
model: ``GET /v1/models``, ``POST /v1/chat/completions`` (plain and streaming), ``POST /v1/embeddings``.

Each index the user can read is one "model" (``assistant-<index>``). A chat request is the ask pipeline
of ``/api/ask`` under the caller's access filter: the last user message is the question, earlier user
and assistant messages are the history it is condensed with. System messages are not passed on: what a
client or a retrieved document says is data, never an instruction to the answerer. The answer carries
its sources twice: as "[n]" markers plus a 출처 list in the text (for chat screens), and as structured
``citations`` at the top level of the response (in the final chunk when streaming).

Authentication, rate limits and the audit log are those of the rest of the API (Bearer tokens from 내 계정).
Errors use OpenAI's shape, ``{"error": {"message", "type", "code"}}``, with Korean messages.
"""

from __future__ import annotations

import base64
import json
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError
from assistant.integrations import exposed_embedder_name
from assistant.web.auth import Principal
from assistant.web.deps import DB, AppState, PasswordChangeRequired, api_user, audit, rate_limited, state
from assistant.web.routes_api import HISTORY_TURNS, guarded_events, model_call, public_citation

MODEL_PREFIX = "assistant-"
OWNER = "ai-haengjeong-biseo"
SOURCES_HEADING = "출처:"
REFERENCE_HEADING = "가장 가까운 문서 (참고용):"  # as `assistant ask` prints it
#: how an answer's appended source list starts; stripped from assistant turns a client sends back as history
_FOOTER = re.compile(rf"\n\n(?:{re.escape(SOURCES_HEADING)}|{re.escape(REFERENCE_HEADING)})\n.*\Z", re.S)
MAX_EMBED_INPUTS = 256
MAX_EMBED_CHARS = 8000
PIECE_CHARS = 40

_ERROR_KINDS = {400: ("invalid_request_error", "invalid_request"), 401: ("authentication_error", "invalid_api_key"),
                403: ("permission_error", "permission_denied"), 404: ("invalid_request_error", "not_found"),
                413: ("invalid_request_error", "request_too_large"), 429: ("rate_limit_error", "rate_limit_exceeded"),
                503: ("server_error", "service_unavailable")}


class OpenAIError(HTTPException):
    """An error with OpenAI's ``type`` and ``code`` (the message stays Korean: people read it)."""

    def __init__(self, status: int, message: str, code: str, kind: str = "invalid_request_error") -> None:
        super().__init__(status, message)
        self.code, self.kind = code, kind


def error_response(status: int, message: str, *, code: str | None = None, kind: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    default_kind, default_code = _ERROR_KINDS.get(status, ("server_error", "server_error"))
    body = {"error": {"message": message, "type": kind or default_kind, "code": code or default_code,
                      "param": None}}
    return JSONResponse(body, status_code=status, headers=headers)


class OpenAIRoute(APIRoute):
    """Every failure of these routes — authentication and rate limits included, which are raised by
    dependencies before the handler runs — answers in OpenAI's error shape, which OpenAI clients parse."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except OpenAIError as exc:
                return error_response(exc.status_code, str(exc.detail), code=exc.code, kind=exc.kind)
            except StarletteHTTPException as exc:
                return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))
            except RequestValidationError as exc:
                return error_response(400, "요청 형식이 올바르지 않습니다. " + _problems(exc))
            except PasswordChangeRequired:  # pages redirect to 내 계정; a program needs to be told
                return error_response(403, "관리자가 정한 임시 비밀번호입니다. '내 계정'에서 비밀번호를 바꾼 뒤 "
                                           "이용하세요.", code="password_change_required")

        return guarded


router = APIRouter(tags=["OpenAI 호환"], route_class=OpenAIRoute)


def _problems(exc: RequestValidationError) -> str:
    out = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ())[1:]) or "요청"
        out.append(f"{where}: {e.get('msg')}")
    return "; ".join(out)


# ---------------------------------------------------------------------------------------------- bodies

class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatIn(BaseModel):
    """OpenAI's chat request. Sampling options (temperature, top_p, max_tokens, …) are accepted and ignored:
    the answer is the assistant's cited answer, produced the same way for every client."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(..., min_length=1, description="assistant-<색인 이름> (GET /v1/models)")
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int = Field(1, ge=1, le=1, description="답은 하나만 만듭니다")


class EmbeddingsIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(..., min_length=1)
    input: str | list[str] = Field(..., description="글 하나 또는 글 목록 (토큰 배열은 받지 않음)")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    input_type: Literal["passage", "query"] = Field(
        "passage", description="e5처럼 질의와 문서를 달리 다루는 임베더에서 질의(query)인지 문서(passage)인지")


# ---------------------------------------------------------------------------------------------- models

def model_id(index_name: str) -> str:
    return MODEL_PREFIX + index_name


def visible_indexes(st: AppState, user: Principal) -> list[str]:
    """Indexes holding at least one document the user may read (an index name alone can say too much)."""
    where, params = user.search_filter().sql()
    names = []
    for name in st.core.indexes():
        try:
            if st.core.retriever(name).snapshot.find_documents(where, params):
                names.append(name)
        except AssistantError:  # unopenable (being built, another embedder): not offered
            continue
    return names


def index_for_model(st: AppState, user: Principal, model: str) -> str:
    """The index a model name picks: ``assistant-<index>``; ``assistant`` (and ``assistant-default`` when no
    index is called "default") is the configured default index."""
    visible = visible_indexes(st, user)
    name = model[len(MODEL_PREFIX):] if model.startswith(MODEL_PREFIX) else None
    if model == "assistant" or (name == "default" and "default" not in visible):
        name = st.settings.index_name
    if name is None or name not in visible:
        offered = ", ".join(model_id(n) for n in visible) or "없음"
        raise OpenAIError(404, f"모델 '{model}'이(가) 없거나 쓸 권한이 없습니다. 쓸 수 있는 모델: {offered}",
                          "model_not_found")
    return name


def _model_card(st: AppState, name: str) -> dict[str, Any]:
    try:
        created = int(st.core.store(name).current_dir().stat().st_mtime)
    except (OSError, AssistantError):
        created = 0
    return {"id": model_id(name), "object": "model", "created": created, "owned_by": OWNER,
            "name": f"AI 행정비서 ({name})", "index": name}


@router.get("/v1/models", summary="모델 목록 (열람할 수 있는 문서가 있는 색인마다 하나)")
def list_models(request: Request, user: Principal = Depends(api_user)) -> dict[str, Any]:
    st = state(request)
    return {"object": "list", "data": [_model_card(st, n) for n in visible_indexes(st, user)]}


@router.get("/v1/models/{model}", summary="모델 하나 (채팅 모델 또는 임베딩 모델)")
def get_model(model: str, request: Request, user: Principal = Depends(api_user)) -> dict[str, Any]:
    st = state(request)
    embedder = exposed_embedder_name(st.settings)
    if embedder is not None and model == embedder:
        return {"id": embedder, "object": "model", "created": 0, "owned_by": OWNER}
    return _model_card(st, index_for_model(st, user, model))


# ---------------------------------------------------------------------------------------------- chat

def message_text(message: ChatMessage, position: int) -> str:
    """The text of a message (a string, or text parts); other parts (images, audio) are refused."""
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return unicodedata.normalize("NFC", content)
    texts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise OpenAIError(400, f"messages[{position}]: 글(text)이 아닌 입력({part.get('type')})은 받지 않습니다. "
                                   "질문을 글로 보내세요.", "unsupported_content")
        texts.append(part["text"])
    return unicodedata.normalize("NFC", "\n".join(texts))


def question_and_history(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message, and the user/assistant turns before it (oldest first, the most recent
    ``HISTORY_TURNS`` exchanges). System, developer and tool messages are dropped on purpose."""
    turns: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        if m.role not in ("system", "developer", "user", "assistant", "tool", "function"):
            raise OpenAIError(400, f"messages[{i}]: 알 수 없는 역할 '{m.role}'입니다. user, assistant, system 중 "
                                   "하나를 쓰세요.", "invalid_role")
        if m.role in ("user", "assistant"):
            text = message_text(m, i)
            turns.append((m.role, _FOOTER.sub("", text) if m.role == "assistant" else text))
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise OpenAIError(400, "마지막 메시지가 사용자(user)의 질문이어야 합니다. 질문을 글로 보내세요.",
                          "missing_question")
    history = [t for t in turns[:-1] if t[1].strip()]
    return turns[-1][1], history[-HISTORY_TURNS * 2:]


def content_with_sources(answer: str, citations: Sequence[dict[str, Any]], abstained: bool) -> str:
    """The answer as a chat screen shows it: the text with its [n] markers, then the numbered sources."""
    if not citations:
        return answer
    lines = [REFERENCE_HEADING if abstained else SOURCES_HEADING]
    for c in citations:
        where = f", {c['location']}" if c.get("location") else ""
        lines.append(f"[{c.get('n')}] {c.get('title', '')}{where}")
    return f"{answer.rstrip()}\n\n" + "\n".join(lines)


def approx_tokens(text: str) -> int:
    """A rough count for ``usage`` (whitespace-separated pieces): the answerer is not a token-priced model."""
    return len(text.split())


def _completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def _usage(question: str, history: Sequence[tuple[str, str]], content: str) -> dict[str, int]:
    prompt = approx_tokens(question) + sum(approx_tokens(t) for _, t in history)
    completion = approx_tokens(content)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _prepare(st: AppState, user: Principal, body: ChatIn) -> tuple[str, str, list[tuple[str, str]]]:
    """(index, question, history), or an error before any work: unknown model, no question, too long."""
    from assistant.tasks.ask import check_question

    index = index_for_model(st, user, body.model)
    question, history = question_and_history(body.messages)
    model_call(check_question, question, st.settings.ask_max_question_chars)
    model_call(st.core.ask_service, index)
    return index, question, history


@router.post("/v1/chat/completions", summary="채팅 완성 (질의응답; 근거 인용 포함, stream 지원)",
             response_description="chat.completion (stream이면 chat.completion.chunk의 SSE); 최상위 citations에 출처")
def chat_completions(body: ChatIn, request: Request, user: Principal = Depends(rate_limited),
                     db: Session = DB) -> Any:
    st = state(request)
    index, question, history = _prepare(st, user, body)
    if body.stream:
        db.commit()  # hold no transaction while streaming (SQLite allows one writer)
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        events = st.core.ask_stream(user, question, index_name=index, history=history)
        chunks = _chunks(st, user, body.model, question, history, events, include_usage)
        return StreamingResponse(_sse(chunks), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    answer = model_call(st.core.ask, user, question, index_name=index, history=history)
    citations = [public_citation(c) for c in answer.get("citations", [])]
    audit(db, user, "ask", question, [c["doc_id"] for c in citations], f"OpenAI 호환 API ({body.model})")
    content = content_with_sources(answer["answer"], citations, bool(answer.get("abstained")))
    return {"id": _completion_id(), "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None,
                         "finish_reason": "stop"}],
            "usage": _usage(question, history, content), "citations": citations,
            "abstained": bool(answer.get("abstained"))}


def _sse(chunks: Iterator[dict[str, Any]]) -> Iterator[str]:
    for chunk in chunks:
        yield "data: " + json.dumps(chunk, ensure_ascii=False) + "\n\n"
    yield "data: [DONE]\n\n"


def _chunks(st: AppState, user: Principal, model: str, question: str, history: list[tuple[str, str]],
            events: Iterator[dict[str, Any]], include_usage: bool) -> Iterator[dict[str, Any]]:
    """chat.completion.chunk objects. The role goes out at once; the content follows when the answer has been
    checked — its citations validated and renumbered — so what a client shows always matches ``citations``
    (the generator's raw tokens, which the browser page replaces at the end, are not streamed)."""
    head = {"id": _completion_id(), "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}

    yield chunk({"role": "assistant", "content": ""})
    done: dict[str, Any] | None = None
    for ev in guarded_events(events):
        if ev.get("type") == "error":
            _audit_after(st, user, question, [], model, result="denied" if ev.get("denied") else "failed")
            yield {"error": {"message": ev.get("message", "답변을 만들지 못했습니다."), "type": "server_error",
                             "code": "not_found" if ev.get("denied") else "answer_failed", "param": None}}
            return
        if ev.get("type") == "done":
            done = ev
    if done is None:
        return
    citations = [public_citation(c) for c in done.get("citations", [])]
    _audit_after(st, user, question, [c["doc_id"] for c in citations], model)
    content = content_with_sources(done.get("answer", ""), citations, bool(done.get("abstained")))
    for i in range(0, len(content), PIECE_CHARS):
        yield chunk({"content": content[i:i + PIECE_CHARS]})
    yield chunk({}, "stop", citations=citations, abstained=bool(done.get("abstained")))
    if include_usage:
        yield {**head, "choices": [], "usage": _usage(question, history, content)}


def _audit_after(st: AppState, user: Principal, question: str, doc_ids: list[str], model: str,
                 result: str = "ok") -> None:
    with st.sessions.begin() as db:
        audit(db, user, "ask", question, doc_ids, f"OpenAI 호환 API ({model})", result=result)


# ---------------------------------------------------------------------------------------------- embeddings

def _embedder(st: AppState, model: str) -> Any:
    """The deployment's embedder (see :func:`exposed_embedder_name`), if ``model`` names it."""
    from assistant.index.embedders import shared_embedder

    name = exposed_embedder_name(st.settings)
    if name is None:
        raise OpenAIError(404, "이 서버에는 임베딩 모델이 설정되어 있지 않습니다 (ASSISTANT_EMBEDDER와 "
                               "ASSISTANT_SEMANTIC_EMBEDDER가 모두 none). 관리자에게 문의하세요.", "model_not_found")
    embedder = st.core.embedder if name == st.settings.embedder else shared_embedder(st.settings, name)
    if model not in (name, embedder.model):
        raise OpenAIError(404, f"임베딩 모델 '{model}'이(가) 없습니다. 이 서버의 임베딩 모델은 '{name}'입니다.",
                          "model_not_found")
    return embedder


def _texts(body: EmbeddingsIn) -> list[str]:
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts:
        raise OpenAIError(400, "input이 비어 있습니다. 임베딩할 글을 하나 이상 보내세요.", "empty_input")
    if len(texts) > MAX_EMBED_INPUTS:
        raise OpenAIError(400, f"한 번에 {MAX_EMBED_INPUTS}개까지 보낼 수 있습니다 (보낸 것: {len(texts)}개). "
                               "나누어 보내세요.", "too_many_inputs")
    out = []
    for i, text in enumerate(texts):
        text = unicodedata.normalize("NFC", text)
        if not text.strip():
            raise OpenAIError(400, f"input[{i}]이(가) 비어 있습니다. 빈 글은 임베딩할 수 없습니다.", "empty_input")
        if len(text) > MAX_EMBED_CHARS:
            raise OpenAIError(400, f"input[{i}]이(가) 너무 깁니다 ({len(text):,}자). {MAX_EMBED_CHARS:,}자 이내로 "
                                   "나누어 보내세요.", "input_too_long")
        out.append(text)
    return out


def _encoded(vector: np.ndarray, fmt: str) -> list[float] | str:
    if fmt == "base64":
        return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return [float(x) for x in vector]


@router.post("/v1/embeddings", summary="임베딩 (이 서버가 검색에 쓰는 임베딩 모델)")
def embeddings(body: EmbeddingsIn, request: Request, user: Principal = Depends(rate_limited),
               db: Session = DB) -> dict[str, Any]:
    st = state(request)
    embedder = _embedder(st, body.model)
    if body.dimensions is not None and body.dimensions != embedder.dim:
        raise OpenAIError(400, f"이 임베딩 모델의 차원은 {embedder.dim}으로 고정입니다 (요청: {body.dimensions}).",
                          "unsupported_dimensions")
    texts = _texts(body)
    embed = embedder.embed_query if body.input_type == "query" else embedder.embed
    vectors = model_call(embed, texts)
    audit(db, user, "embed", "", [], f"OpenAI 호환 API 임베딩 {len(texts)}개 ({body.model})")
    used = sum(approx_tokens(t) for t in texts)
    return {"object": "list", "model": body.model,
            "data": [{"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": used, "total_tokens": used}}
