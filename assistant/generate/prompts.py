"""Prompt templates: Korean text files in ``prompts/``, loaded by name; no prompt text lives in Python.

A template is ``prompts/<name>.md`` with ``{variable}`` placeholders (``{{`` and ``}}`` give literal braces).
Substitution is a single pass, so a value that itself contains ``{question}`` (a retrieved passage, a
user's question) is never expanded again — user and document text cannot inject template variables.

Retrieved passages are rendered into delimited source blocks by :func:`format_sources`. The system
prompt (``prompts/system.md``) tells the model that everything inside those blocks is data and that
instructions found there must be ignored; :func:`format_sources` also neutralises any text that imitates
the delimiters, so a document cannot close its own block and speak outside it, and it leaves out the sentences
that address the assistant (assistant.korean.injection: "이전 지시를 무시하고 …", "[SYSTEM] …", chat-template
markers) with the payload they announce, putting :data:`OMITTED` in their place — the model sees that something
was there but not the order itself. A title or location made of such a sentence is replaced the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from assistant.errors import ConfigError
from assistant.generate.base import GenerationRequest, Passage
from assistant.korean.injection import addresses_assistant, strip_instruction_text

#: The templates that ship with the code (package data: ``assistant/prompts/``).
BUNDLED_PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
SYSTEM_PROMPT = "system"

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_OK = re.compile(r"^[A-Za-z0-9_\-]+$")
_DELIMITER_LOOKALIKE = re.compile(r"<{3,}|>{3,}")
_ROLE_LABELS = {"user": "사용자", "assistant": "AI 행정비서"}
#: what a prompt shows where a source sentence addressed the assistant
OMITTED = "(문서 속 지시문 생략)"


class PromptError(ConfigError):
    """A template is missing or a variable it needs was not given."""


def prompt_dir(directory: Path | str | None = None) -> Path:
    """The folder templates are read from: the configured one, else the bundled ``prompts/``."""
    return Path(directory) if directory else BUNDLED_PROMPTS


def load_prompt(name: str, directory: Path | str | None = None) -> str:
    """The raw template text of ``<directory>/<name>.md`` (NFC)."""
    return _load(name, str(prompt_dir(directory)))


@lru_cache(maxsize=64)
def _load(name: str, directory: str) -> str:
    if not _NAME_OK.match(name):
        raise PromptError(f"프롬프트 이름 '{name}'이(가) 올바르지 않습니다 (영문, 숫자, _, - 만 사용).")
    path = Path(directory) / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"프롬프트 템플릿 '{name}'을(를) 찾을 수 없습니다: {path} 파일이 없습니다. "
                          "ASSISTANT_PROMPTS_DIR 설정이나 assistant/prompts/ 폴더를 확인하십시오.")
    return unicodedata.normalize("NFC", path.read_text(encoding="utf-8")).strip()


def template_variables(template: str) -> set[str]:
    """Names of the ``{variable}`` placeholders a template uses."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1)}


def fill(template: str, variables: Mapping[str, str], name: str = "?") -> str:
    """Substitute ``{variable}`` placeholders in one pass; a missing variable is an error."""
    missing = sorted(template_variables(template) - set(variables))
    if missing:
        raise PromptError(f"프롬프트 '{name}'에 필요한 변수가 없습니다: {', '.join(missing)}")

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return str(variables[m.group(1)])

    return _PLACEHOLDER.sub(sub, template)


def render_prompt(name: str, variables: Mapping[str, str], directory: Path | str | None = None) -> str:
    return fill(load_prompt(name, directory), variables, name)


def source_header(p: Passage) -> str:
    """``[1] 「title」 location`` — how a source is named inside prompts."""
    loc = _neutral(_one_line(p.location or ""))
    return f"[{p.n}] 「{_neutral(_one_line(p.title))}」" + (f" {loc}" if loc else "")


def format_sources(passages: Sequence[Passage]) -> str:
    """Numbered source blocks; passage text can neither close its block nor forge another one."""
    if not passages:
        return "(출처 없음)"
    blocks = []
    for p in passages:
        body = _DELIMITER_LOOKALIKE.sub(lambda m: "‹" * len(m.group()) if m.group()[0] == "<" else "›" * len(m.group()),
                                        strip_instruction_text(p.text.strip(), OMITTED))
        blocks.append(f"<<<출처 {source_header(p)}>>>\n{body}\n<<<출처 [{p.n}] 끝>>>")
    return "\n\n".join(blocks)


def format_history(history: Sequence[tuple[str, str]]) -> str:
    if not history:
        return "(이전 대화 없음)"
    return "\n".join(f"{_ROLE_LABELS.get(role, role)}: {_one_line(text)}" for role, text in history)


def build_messages(request: GenerationRequest, directory: Path | str | None = None) -> list[dict[str, str]]:
    """Chat messages for a model backend: system prompt, earlier turns, then the rendered task prompt.

    When the task template embeds ``{history}`` itself (condense_question), earlier turns are rendered
    into it instead of being sent as separate messages.
    """
    template = load_prompt(request.prompt, directory)
    values = {"sources": format_sources(request.passages), "history": format_history(request.history),
              **request.variables}
    if request.task == "answer" and "asks" not in values:
        from assistant.korean.questions import question_kind

        values["asks"] = question_kind(values.get("question", "")).description
    messages = [{"role": "system", "content": render_prompt(SYSTEM_PROMPT, {}, directory)}]
    if "history" not in template_variables(template):
        messages += [{"role": "assistant" if role == "assistant" else "user", "content": text}
                     for role, text in request.history]
    messages.append({"role": "user", "content": fill(template, values, request.prompt)})
    return messages


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _neutral(label: str) -> str:
    return OMITTED if label and addresses_assistant(label) else label
