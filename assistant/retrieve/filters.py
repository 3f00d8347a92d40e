"""Metadata and access filters, turned into a mask over index positions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.index.store import IndexSnapshot

#: Access levels from least to most restricted. A user cleared for a level sees that level and below.
ACCESS_LEVELS = ("공개", "내부", "부서")


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search. Empty fields do not restrict.

    ``source_prefix`` matches the stored source path by prefix; ``clearance`` is the highest access level
    the user may see; ``department`` is the user's department, required for 부서 documents of that department.
    """

    source_prefix: str = ""
    doc_types: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    clearance: str | None = None
    department: str | None = None

    def is_empty(self) -> bool:
        return not (self.source_prefix or self.doc_types or self.doc_ids or self.clearance is not None)

    def sql(self) -> tuple[str, list[str]]:
        clauses, params = ["1=1"], []
        if self.source_prefix:
            clauses.append("substr(source, 1, ?) = ?")
            params += [str(len(self.source_prefix)), self.source_prefix]
        if self.doc_types:
            clauses.append(f"doc_type IN ({','.join('?' * len(self.doc_types))})")
            params += list(self.doc_types)
        if self.doc_ids:
            clauses.append(f"doc_id IN ({','.join('?' * len(self.doc_ids))})")
            params += list(self.doc_ids)
        if self.clearance is not None:
            allowed = _levels_up_to(self.clearance)
            open_levels = [lv for lv in allowed if lv != "부서"]
            access = [f"access_level IN ({','.join('?' * len(open_levels))})"] if open_levels else []
            params += open_levels
            if "부서" in allowed and self.department:
                access.append("(access_level = '부서' AND department = ?)")
                params.append(self.department)
            clauses.append("(" + (" OR ".join(access) or "0") + ")")
        return " AND ".join(clauses), params


def _levels_up_to(clearance: str) -> Sequence[str]:
    if clearance not in ACCESS_LEVELS:
        raise ValueError(f"알 수 없는 열람 등급 '{clearance}'. 가능한 값: {', '.join(ACCESS_LEVELS)}")
    return ACCESS_LEVELS[: ACCESS_LEVELS.index(clearance) + 1]


def position_mask(snapshot: IndexSnapshot, flt: SearchFilter | None) -> np.ndarray | None:
    """Boolean mask over positions, or None when nothing is filtered."""
    if flt is None or flt.is_empty():
        return None
    where, params = flt.sql()
    allowed = snapshot.doc_rowids(where, params)
    return np.isin(snapshot.pos_doc, allowed)
