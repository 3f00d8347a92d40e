"""Index metadata changes the web app makes: a document's access level, checked here, written by the store."""

from __future__ import annotations

from assistant.errors import AssistantError
from assistant.index.store import IndexStore
from assistant.retrieve.filters import ACCESS_LEVELS


def set_access_level(store: IndexStore, doc_id: str, access_level: str, department: str = "") -> bool:
    """Set one document's access level (and department) in a new generation. False if the doc is absent."""
    if access_level not in ACCESS_LEVELS:
        raise AssistantError(f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {access_level}).")
    if access_level == "부서" and not department.strip():
        raise AssistantError("'부서' 등급으로 바꾸려면 담당 부서를 지정해야 합니다.")
    return store.set_access(doc_id, access_level, department.strip())
