"""Evaluation configurations: one YAML file each under ``eval/configs/``.

Fields: ``name``, ``label`` (shown in the report), ``description``, ``kind`` (assistant | baseline),
``modes`` (hybrid / dense / bm25), ``settings`` (overrides of :class:`assistant.config.Settings`; ``${VAR}``
is replaced from the environment), ``answers`` / ``tasks`` (also run the ask / summary-and-reply
evaluations), ``optional`` with ``requires_env`` / ``requires_paths`` (skipped with a note when absent).
Each configuration starts from the defaults, not from the caller's ``ASSISTANT_*`` environment, so a
report means the same thing on every machine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.config import Settings
from assistant.errors import AssistantError
from eval import CONFIG_DIR

DEFAULT_CONFIGS = ("default", "bm25-only", "dense-only", "use-hybrid", "char-ngram", "baseline-naive", "st-folder",
                   "openai-llm")
_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


@dataclass
class EvalConfig:
    name: str
    label: str
    description: str = ""
    kind: str = "assistant"
    modes: list[str] = field(default_factory=lambda: ["hybrid"])
    settings: dict[str, Any] = field(default_factory=dict)
    answers: bool = False
    tasks: bool = False
    optional: bool = False
    requires_env: list[str] = field(default_factory=list)
    requires_paths: list[str] = field(default_factory=list)

    def missing(self) -> str:
        """Why this configuration cannot run here ("" when it can)."""
        absent = [v for v in self.requires_env if not os.environ.get(v)]
        if absent:
            return f"환경 변수 {', '.join(absent)}가 설정되지 않아 건너뜀"
        for p in self.requires_paths:
            path = Path(_expand(p))
            if not path.exists():
                return f"경로 {path}가 없어 건너뜀"
        return ""

    def make_settings(self, base: Settings | None = None) -> Settings:
        values = {k: _expand(v) if isinstance(v, str) else v for k, v in self.settings.items()}
        unknown = [k for k in values if k not in Settings.model_fields]
        if unknown:
            raise AssistantError(f"평가 설정 '{self.name}'에 알 수 없는 항목: {', '.join(unknown)}")
        start = base or Settings.model_construct(**{k: f.default for k, f in Settings.model_fields.items()})
        return start.model_copy(update=values)


def _expand(value: str) -> str:
    return _VAR.sub(lambda m: os.environ.get(m.group(1), ""), value)


def load_config(name_or_path: str, folder: Path = CONFIG_DIR) -> EvalConfig:
    path = Path(name_or_path)
    if not path.suffix:
        path = folder / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise AssistantError(f"평가 설정 '{name_or_path}'을 찾을 수 없습니다 ({path}). 사용 가능: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AssistantError(f"평가 설정 파일 {path}을 읽을 수 없습니다: {exc}") from None
    data.setdefault("name", path.stem)
    data.setdefault("label", data["name"])
    fields = set(EvalConfig.__dataclass_fields__)
    unknown = sorted(set(data) - fields)
    if unknown:
        raise AssistantError(f"평가 설정 파일 {path}에 알 수 없는 항목: {', '.join(unknown)}")
    bad = [m for m in data.get("modes", []) if m not in ("hybrid", "dense", "bm25")]
    if bad:
        raise AssistantError(f"평가 설정 {path}의 검색 방식이 올바르지 않습니다: {', '.join(bad)} "
                             "(가능한 값: hybrid, dense, bm25)")
    return EvalConfig(**data)


def load_configs(names: list[str] | None) -> list[EvalConfig]:
    return [load_config(n) for n in (names or list(DEFAULT_CONFIGS))]
