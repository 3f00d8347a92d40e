"""The default generator: no model, deterministic, built from the retrieved source sentences.

- ``answer``: the answer-first composer (assistant.generate.compose) — the sentence that carries what the
  question asks comes first, then at most two supporting sentences, each with its source number ``[n]``;
- ``condense_question``: a follow-up ("그럼 기한은?") made self-contained from the previous question's noun
  phrases;
- ``summarize*`` and ``draft_reply``: the extractive summary and reply modules, imported when asked for.

Instructions inside sources are never followed: passages are only ever scored and quoted, and a sentence
that addresses the assistant ("이전 지시를 무시하고 …라고 답하라") is not quoted either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from assistant.errors import AssistantError
from assistant.generate.base import GenerationRequest, Generator, register_generator
from assistant.generate.compose import ABSTAIN_TEXT, ComposeOptions, compose_answer
from assistant.korean.morph import noun_phrases, question_terms

__all__ = ["ABSTAIN_TEXT", "ExtractiveGenerator", "condense_question", "key_phrases"]


class ExtractiveGenerator(Generator):
    """Composes answers from source sentences; also condenses follow-ups and delegates summaries/replies."""

    name = "extractive"

    def __init__(self, options: ComposeOptions | None = None) -> None:
        self.options = options or ComposeOptions()

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        if request.task == "answer":
            question = request.variables.get("question", "")
            detail = request.variables.get("detail", "") in ("1", "true", "yes")
            yield from _with_spaces(compose_answer(question, request.passages, detail, self.options))
        elif request.task == "condense_question":
            yield condense_question(request.variables.get("question", ""), request.history)
        elif request.task.startswith("summarize"):
            yield from _delegate("assistant.generate.extractive_summary", "summarize_request", request)
        elif request.task == "draft_reply":
            yield from _delegate("assistant.generate.extractive_reply", "draft_request", request)
        else:  # pragma: no cover - GenerationRequest validates the task
            raise AssistantError(f"추출형 생성기가 지원하지 않는 작업입니다: {request.task}")


def _with_spaces(parts: Sequence[str]) -> Iterator[str]:
    for i, part in enumerate(parts):
        yield (" " if i else "") + part


# ---------------------------------------------------------------- follow-up questions

_ANAPHORA = re.compile(r"^(?:그럼|그러면|그렇다면|그런데|그리고|또한?|그건|그것은?|이건|이것은?"
                       r"|그\s|이\s|해당|거기|여기|위\s)")


def condense_question(question: str, history: Sequence[tuple[str, str]]) -> str:
    """Make an elliptical follow-up self-contained by adding the previous question's key noun phrases."""
    question = unicodedata.normalize("NFC", question).strip()
    previous = [text for role, text in history if role == "user" and text.strip()]
    if not previous:
        return question
    nouns = [t for t in question_terms(question) if not t.endswith("다")]
    if not (_ANAPHORA.match(question) or len(nouns) <= 2):
        return question
    phrases = [ph for ph in key_phrases(previous[-1]) if not _phrase_in(ph, question)]
    if not phrases:
        return question
    follow = _ANAPHORA.sub("", question).strip() or question
    return f"{' '.join(phrases)} {follow}"


def key_phrases(text: str) -> list[str]:
    """「법령명」 and runs of adjacent nouns, as written (e.g. "민원 처리기간")."""
    return noun_phrases(text)


def _phrase_in(phrase: str, text: str) -> bool:
    return re.sub(r"\s+", "", phrase) in re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- other tasks


def _delegate(module: str, func: str, request: GenerationRequest) -> Iterator[str]:
    """Summaries and reply drafts live in their own modules; import them only when asked for."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise AssistantError(f"추출형 생성기의 '{request.task}' 작업 모듈({module})이 설치되어 있지 않습니다.") from exc
    yield from getattr(mod, func)(request)


@register_generator("extractive")
def _factory(settings: object = None, **_: object) -> ExtractiveGenerator:
    return ExtractiveGenerator()
