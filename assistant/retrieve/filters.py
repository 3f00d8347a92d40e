"""Metadata and access filters, turned into a mask over index positions."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
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
    """Boolean mask over positions (read-only, shared), or None when the filter lets every live position
    through (the search layers then apply only ``snapshot.live``). A mask never allows a deleted position.

    Every web request sends the user's access filter and there are only a few distinct ones (clearance ×
    department), so the mask is resolved once per (snapshot, filter) and reused: one SQL query over the
    document rows, then a lookup from each position's document. A filter every position passes is returned
    as None, so it costs exactly what an unfiltered search costs.
    """
    if flt is None or flt.is_empty():
        return None
    cache = _cache_of(snapshot)
    with _LOCK:
        hit = cache.get(flt)
        if hit is not None:
            cache.move_to_end(flt)
            return hit[0]
    mask = _resolve(snapshot, flt)
    with _LOCK:
        cache[flt] = (mask,)
        while len(cache) > MASK_CACHE_SIZE:
            cache.popitem(last=False)
    return mask


#: Filters kept per snapshot. A mask is one byte per chunk (1 MB at 1M chunks); access filters repeat,
#: document filters (a user searching one file) come and go and are evicted oldest first.
MASK_CACHE_SIZE = 32

_LOCK = threading.Lock()
_CACHES: weakref.WeakKeyDictionary[IndexSnapshot, OrderedDict[SearchFilter, tuple[np.ndarray | None]]] = \
    weakref.WeakKeyDictionary()


def _cache_of(snapshot: IndexSnapshot) -> OrderedDict[SearchFilter, tuple[np.ndarray | None]]:
    """The snapshot's mask cache; it lives and dies with the snapshot (a new generation starts empty)."""
    with _LOCK:
        cache = _CACHES.get(snapshot)
        if cache is None:
            cache = _CACHES[snapshot] = OrderedDict()
        return cache


def _resolve(snapshot: IndexSnapshot, flt: SearchFilter) -> np.ndarray | None:
    where, params = flt.sql()
    allowed = snapshot.doc_rowids(where, params)
    pos_doc = snapshot.pos_doc
    if len(pos_doc) == 0:
        return np.zeros(0, dtype=bool)
    # per-document verdicts indexed by rowid, then one gather over positions (np.isin would sort)
    doc_ok = np.zeros(int(pos_doc.max()) + 1, dtype=bool)
    doc_ok[allowed[allowed < len(doc_ok)]] = True
    mask = doc_ok[pos_doc]
    live = snapshot.live   # deleted chunks (tombstones not yet merged away) are never allowed
    if live is not None:
        mask &= live
    if mask.all() if live is None else np.array_equal(mask, live):
        return None  # the filter removes nothing: searches apply only the live mask, as unfiltered ones do
    mask.flags.writeable = False
    return mask
