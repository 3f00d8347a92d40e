"""YAML front matter: splitting it off and mapping Korean law / 법령해석례 keys to normalised ones."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

_CLOSE = re.compile(r"^(?:---|\.\.\.)\s*$", re.M)
_DATE = re.compile(r"^\s*(\d{4})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})\s*[.일]?\s*$")
_COMPACT_DATE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")

#: (front matter key, normalised key, is a date)
_MAPPING: tuple[tuple[str, str, bool], ...] = (
    ("법령구분", "law_type", False),
    ("시행일자", "effective_date", True),
    ("공포일자", "promulgation_date", True),
    ("공포번호", "promulgation_no", False),
    ("상태", "status", False),
    ("소관부처", "department", False),
    ("소관기관", "department", False),
    ("회신일자", "date", True),
    ("안건번호", "case_no", False),
    ("출처", "source_url", False),
)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)``; text without a well-formed front matter comes back unchanged."""
    if not text.startswith("---"):
        return {}, text
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        return {}, text
    close = _CLOSE.search(text, first_nl + 1)
    if close is None:
        return {}, text
    raw = text[first_nl + 1:close.start()]
    body = text[close.end():].lstrip("\n")
    return _load(raw), body


#: front matter longer than this is not parsed as YAML (only ``key: value`` lines are read)
MAX_YAML_CHARS = 20_000


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader without anchors and aliases: front matter has no use for them, and aliases nested
    in aliases expand exponentially when the values are turned into text (a 500-byte "alias bomb")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML 별칭(*)은 쓸 수 없습니다", event.start_mark)
        return super().compose_node(parent, index)


def _load(raw: str) -> dict[str, Any]:
    if len(raw) > MAX_YAML_CHARS:
        return _simple_pairs(raw)
    try:
        data = yaml.load(raw, Loader=_NoAliasLoader)  # noqa: S506 — a SafeLoader subclass
    except yaml.YAMLError:
        data = _simple_pairs(raw)
    return data if isinstance(data, dict) else {}


def _simple_pairs(raw: str) -> dict[str, str]:
    """Fallback for front matter that is not valid YAML: ``key: value`` lines."""
    pairs = {}
    for line in raw.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line.startswith((" ", "-")):
            pairs[key.strip()] = value.strip().strip("'\"")
    return pairs


def to_text(value: Any) -> str:
    """Any YAML value as a string: lists joined with ", ", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(to_text(v) for v in value if to_text(v))
    return str(value).strip()


def iso_date(value: str) -> str:
    """"2025. 1. 15." / "2022-07-12" / "20220712" → "2022-07-12"; anything else unchanged."""
    m = _DATE.match(value) or _COMPACT_DATE.match(value)
    if not m:
        return value
    y, mo, d = (int(g) for g in m.groups())
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return value


def normalise_metadata(raw: dict[str, Any]) -> dict[str, str]:
    """All keys kept as strings, plus law_name, law_type, effective_date, department, date, case_no …"""
    meta = {str(k): to_text(v) for k, v in raw.items()}
    for key, norm, is_date in _MAPPING:
        value = meta.get(key, "")
        if value and norm not in meta:
            meta[norm] = iso_date(value) if is_date else value
    if meta.get("제목") and ("법령구분" in meta or "법령ID" in meta):
        meta.setdefault("law_name", meta["제목"])
    return meta
