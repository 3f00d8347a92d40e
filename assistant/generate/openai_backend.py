"""Any OpenAI-compatible chat server (vLLM, Ollama, TGI, llama.cpp server) by base URL and model name.

``POST {base}/chat/completions`` with ``stream=true`` is read as server-sent events: one
``data: {chat.completion.chunk}`` line per piece, ``data: [DONE]`` at the end. ``generate`` uses the
non-streaming form. Connection errors, timeouts before the first byte, 429 and 5xx are retried with
exponential backoff (``Retry-After`` honoured up to 10 s); once text has been streamed nothing is retried,
since a retry would repeat it. Every failure becomes a Korean message naming the URL and the setting.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from assistant.errors import AssistantError, ConfigError
from assistant.generate.base import GenerationRequest, Generator, register_generator
from assistant.generate.prompts import build_messages

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class GeneratorUnavailable(AssistantError):
    """The chat server cannot be reached or did not answer properly."""


class OpenAICompatibleGenerator(Generator):
    name = "openai"

    def __init__(self, base_url: str, model: str = "", api_key: str = "", timeout_s: float = 60.0,
                 max_retries: int = 2, prompts_dir: str | None = None, backoff_s: float = 0.5) -> None:
        if not base_url.strip():
            raise ConfigError("openai 생성기를 쓰려면 ASSISTANT_GENERATOR_URL에 서버 주소를 설정하십시오 "
                              "(예: http://127.0.0.1:8000/v1).")
        self.base_url = normalise_base_url(base_url)
        self._model = model.strip()
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.prompts_dir = prompts_dir
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), headers=headers)
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return f"openai:{self._model or '?'}@{self.base_url}"

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------ public

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        payload = self._payload(request, stream=True)
        with self._send(payload, stream=True) as response:
            try:
                yield from _sse_content(response.iter_lines())
            except httpx.TimeoutException as exc:
                raise GeneratorUnavailable(
                    f"생성 서버({self.base_url})가 {self.timeout_s:g}초 동안 응답을 보내지 않았습니다. "
                    "ASSISTANT_GENERATOR_TIMEOUT_S를 늘리거나 서버 상태를 확인하십시오.") from exc
            except httpx.TransportError as exc:
                raise GeneratorUnavailable(
                    f"생성 서버({self.base_url})와의 연결이 응답 도중 끊겼습니다: {exc}") from exc

    def generate(self, request: GenerationRequest) -> str:
        payload = self._payload(request, stream=False)
        with self._send(payload, stream=False) as response:
            try:
                data = response.json()
                return str(data["choices"][0]["message"]["content"] or "")
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise GeneratorUnavailable(
                    f"생성 서버({self.base_url})의 응답 형식이 OpenAI 호환 형식이 아닙니다.") from exc

    def model(self) -> str:
        """The configured model, or the first one the server lists (``GET /models``)."""
        with self._lock:
            if not self._model:
                with self._send(None, stream=False, method="GET", path="/models") as response:
                    try:
                        self._model = str(response.json()["data"][0]["id"])
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        raise ConfigError(f"생성 서버({self.base_url})가 모델 목록을 주지 않습니다. "
                                          "ASSISTANT_GENERATOR_MODEL에 모델 이름을 설정하십시오.") from exc
            return self._model

    # ------------------------------------------------------------ internals

    def _payload(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        return {"model": self.model(), "messages": build_messages(request, self.prompts_dir),
                "max_tokens": request.max_tokens, "temperature": request.temperature, "stream": stream}

    def _send(self, payload: dict[str, Any] | None, stream: bool, method: str = "POST",
              path: str = "/chat/completions") -> _Response:
        url = self.base_url + path
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                req = self._client.build_request(method, url, json=payload)
                response = self._client.send(req, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if last:
                    raise GeneratorUnavailable(
                        f"생성 서버({self.base_url})에 연결할 수 없습니다. 서버가 실행 중인지, "
                        f"ASSISTANT_GENERATOR_URL이 맞는지 확인하십시오 "
                        f"({type(exc).__name__}, {attempt + 1}회 시도).") from exc
                self._sleep(attempt, None)
                continue
            except httpx.TimeoutException as exc:
                if last:
                    raise GeneratorUnavailable(
                        f"생성 서버({self.base_url})가 {self.timeout_s:g}초 안에 응답하지 않았습니다 "
                        f"({attempt + 1}회 시도). ASSISTANT_GENERATOR_TIMEOUT_S를 늘리거나 "
                        "서버 상태를 확인하십시오.") from exc
                self._sleep(attempt, None)
                continue
            if response.status_code < 400:
                return _Response(response)
            body = _error_text(response)
            if response.status_code in RETRY_STATUS and not last:
                self._sleep(attempt, response.headers.get("retry-after"))
                continue
            raise _status_error(self.base_url, response.status_code, body, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_s * (2 ** attempt)
        if retry_after:
            try:
                delay = min(10.0, max(delay, float(retry_after)))
            except ValueError:
                pass
        time.sleep(delay)


class _Response:
    """Closes the (possibly streamed) response when the caller is done with it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.response.close()


def _sse_content(lines: Iterator[str]) -> Iterator[str]:
    """Text pieces from an SSE stream of chat.completion.chunk events."""
    for line in lines:
        line = line.strip()
        if not line or line.startswith(":") or not line.startswith("data:"):
            continue  # blank separators, comments, "event:"/"id:" fields
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise GeneratorUnavailable(f"생성 서버가 해석할 수 없는 스트림 데이터를 보냈습니다: {data[:80]}") from exc
        if isinstance(event, dict) and event.get("error"):
            err = event["error"]
            message = err.get("message", err) if isinstance(err, dict) else err
            raise GeneratorUnavailable(f"생성 서버가 오류를 보냈습니다: {message}")
        for choice in event.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield str(piece)


def _error_text(response: httpx.Response) -> str:
    try:
        response.read()
    except httpx.HTTPError:
        return ""
    finally:
        response.close()
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    err = data.get("error", data) if isinstance(data, dict) else data
    return str(err.get("message", err) if isinstance(err, dict) else err)[:200]


def _status_error(url: str, status: int, body: str, attempts: int) -> AssistantError:
    detail = f": {body}" if body else ""
    if status in (401, 403):
        return ConfigError(f"생성 서버({url})가 인증을 거부했습니다 (HTTP {status}){detail}. "
                           "ASSISTANT_GENERATOR_API_KEY를 확인하십시오.")
    if status == 404:
        return ConfigError(f"생성 서버({url})에서 주소나 모델을 찾을 수 없습니다 (HTTP 404){detail}. "
                           "ASSISTANT_GENERATOR_URL(…/v1)과 ASSISTANT_GENERATOR_MODEL을 확인하십시오.")
    if status in RETRY_STATUS:
        return GeneratorUnavailable(f"생성 서버({url})가 {attempts}회 시도 모두 오류로 응답했습니다 "
                                    f"(HTTP {status}){detail}. 잠시 후 다시 시도하십시오.")
    return GeneratorUnavailable(f"생성 서버({url})가 요청을 처리하지 못했습니다 (HTTP {status}){detail}.")


def normalise_base_url(url: str) -> str:
    """``http://host:8000`` → ``http://host:8000/v1``; a URL with a path is kept (minus trailing /)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"ASSISTANT_GENERATOR_URL이 올바른 주소가 아닙니다: '{url}' (예: http://127.0.0.1:8000/v1)")
    if parts.path in ("", "/"):
        url += "/v1"
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


@register_generator("openai")
def _factory(settings: Any) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(
        settings.generator_url, settings.generator_model, settings.generator_api_key,
        timeout_s=settings.generator_timeout_s, max_retries=settings.generator_max_retries,
        prompts_dir=settings.prompts_dir or None)
