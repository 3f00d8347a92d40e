"""Per-segment HNSW indexes over the semantic vectors, so the semantic layer stays fast at a million chunks.

An exact product over every semantic vector costs ~216 ms per query at 1M chunks. Segments are immutable,
so a big segment gets an HNSW index (inner product) over its rows, in segment-local order, once all its
live chunks have a vector; small segments (recent commits) stay on the exact product, which is cheap for
them. Layout, next to the vector store::

    <index>/semantic/<embedder>/ann/seg-000012.faiss   the HNSW index (FAISS's own format)
    <index>/semantic/<embedder>/ann/seg-000012.json    what it was built from; written last

The JSON names the segment, its size, a fingerprint of the texts of its rows (the keys of the vector
store, in order), the embedder's identity and the FAISS file's byte size. An index is used only when all of
them match the segment and embedder being searched, so a file can never be paired with another segment
(a segment name reused after a crashed commit, another model) — it is ignored and rebuilt. Both files are
written under temporary names, fsynced and renamed, the JSON last: ``kill -9`` leaves either nothing new or
a FAISS file without its JSON, which is ignored.

Built by whoever fills the vectors (``fill_index``: ``assistant ingest``, ``assistant semantic fill``, the
web app's background worker), never inside a search; a server loads new files when its layer refreshes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.segments import faiss_module, fsync_dir

log = logging.getLogger("assistant.semantic")

ANN_FORMAT = 1
ANN_FOLDER = "ann"
#: HNSW construction breadth (as the dense layer's segments use)
EF_CONSTRUCTION = 80
#: vectors read from the store and added to the graph per step, so a big segment is never held twice
BUILD_BATCH = 50_000


class AnnUnusable(Exception):
    """An ANN file exists but cannot serve this segment (unreadable, or built from something else)."""


@dataclass
class SegmentAnn:
    """A loaded HNSW index of one segment; ``missing`` marks local rows it holds no vector for (zeros)."""

    index: Any
    missing: np.ndarray | None


@dataclass
class AnnReport:
    built: list[str] = field(default_factory=list)
    kept: int = 0
    removed: int = 0
    seconds: float = 0.0


def fingerprint(keys: Sequence[str]) -> str:
    """What a segment's rows are: the hash of its rows' text keys, in order."""
    return hashlib.sha1("\n".join(keys).encode("ascii")).hexdigest()


def ann_paths(folder: Path, segment_name: str) -> tuple[Path, Path]:
    """(FAISS file, JSON file) of a segment's ANN in a semantic store folder."""
    base = Path(folder) / ANN_FOLDER
    return base / f"{segment_name}.faiss", base / f"{segment_name}.json"


def _identity(identity: dict[str, Any]) -> dict[str, Any]:
    return {"name": str(identity.get("name", "")), "model": str(identity.get("model", "")),
            "dim": int(identity.get("dim", 0))}


def build_segment_ann(folder: Path, segment_name: str, batches: Any, size: int, identity: dict[str, Any],
                      print_: str, hnsw_m: int) -> Path:
    """Build and save one segment's HNSW index from ``batches`` of (vectors, has-vector mask) in row order.

    Rows without a vector are added as zeros (the search masks them out) and listed in the JSON.
    """
    faiss = faiss_module()
    ident = _identity(identity)
    index = faiss.IndexHNSWFlat(ident["dim"], hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    missing: list[int] = []
    for vectors, have in batches:
        start = index.ntotal
        missing += (np.flatnonzero(~have) + start).tolist()
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    if index.ntotal != size:
        raise ValueError(f"ANN of {segment_name}: {index.ntotal} rows built, segment has {size}")
    target, meta = ann_paths(folder, segment_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    faiss.write_index(index, str(tmp))
    _fsync(tmp)
    meta.unlink(missing_ok=True)   # a JSON of an earlier build never describes the new file, even for a moment
    os.replace(tmp, target)
    info = {"format": ANN_FORMAT, "segment": segment_name, "size": size, "fingerprint": print_,
            "embedder": ident, "hnsw_m": hnsw_m, "faiss_bytes": target.stat().st_size, "missing": missing}
    tmp_meta = meta.with_name(f".{meta.name}.tmp-{os.getpid()}")
    tmp_meta.write_text(json.dumps(info), encoding="utf-8")
    _fsync(tmp_meta)
    os.replace(tmp_meta, meta)
    fsync_dir(target.parent)
    return target


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def read_ann_info(folder: Path, segment_name: str) -> dict[str, Any] | None:
    """The JSON of a segment's ANN, None when there is none; AnnUnusable when it cannot be read."""
    _, meta = ann_paths(folder, segment_name)
    try:
        text = meta.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnnUnusable(f"{meta}: {exc}") from exc
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise AnnUnusable(f"{meta}: not JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise AnnUnusable(f"{meta}: not a JSON object")
    return info


def check_ann_info(info: dict[str, Any], segment_name: str, size: int, print_: str,
                   identity: dict[str, Any]) -> None:
    """Raise AnnUnusable unless the JSON describes an ANN of exactly this segment and embedder."""
    expected = {"format": ANN_FORMAT, "segment": segment_name, "size": size, "fingerprint": print_,
                "embedder": _identity(identity)}
    for key, value in expected.items():
        if info.get(key) != value:
            raise AnnUnusable(f"ANN of {segment_name}: {key} is {info.get(key)!r}, expected {value!r}")


def load_segment_ann(folder: Path, segment_name: str, size: int, print_: str,
                     identity: dict[str, Any]) -> SegmentAnn | None:
    """A segment's ANN when one was built for it (None when there is none); AnnUnusable when a file exists
    but is unreadable or belongs to another segment, embedder or dimension."""
    info = read_ann_info(folder, segment_name)
    if info is None:
        return None
    check_ann_info(info, segment_name, size, print_, identity)
    target, _ = ann_paths(folder, segment_name)
    try:
        if target.stat().st_size != info.get("faiss_bytes"):
            raise AnnUnusable(f"{target}: size differs from the one recorded")
        index = faiss_module().read_index(str(target))
    except (OSError, RuntimeError) as exc:
        raise AnnUnusable(f"{target}: {exc}") from exc
    if index.ntotal != size or index.d != _identity(identity)["dim"] or \
            index.metric_type != faiss_module().METRIC_INNER_PRODUCT:
        raise AnnUnusable(f"{target}: {index.ntotal} vectors of dimension {index.d}, expected {size} "
                          f"of {_identity(identity)['dim']}")
    rows = [int(r) for r in info.get("missing", [])]
    missing = None
    if rows:
        missing = np.zeros(size, dtype=bool)
        missing[rows] = True
    return SegmentAnn(index, missing)


class LoadedAnns:
    """The ANN indexes one semantic layer has loaded, by segment.

    Files are read outside any lock searches take (a big one takes a second), so searches go on meanwhile,
    exactly for the segments not loaded yet. A missing or unusable file means exact search for its segment,
    logged once (unusable files are retried when they change: the next fill rebuilds them).
    """

    def __init__(self, folder: Path, identity: dict[str, Any], min_chunks: int) -> None:
        self.folder = Path(folder)
        self.identity = identity
        self.min_chunks = min_chunks   # segments this big are expected to get one (only for the log)
        self._held: dict[Path, tuple[Any, SegmentAnn]] = {}   # segment path → (segment, its ANN)
        self._failed: dict[Path, tuple[int, int]] = {}        # unusable files, by their stamp
        self._noted: set[Path] = set()                        # big segments whose missing ANN was logged
        self._lock = threading.Lock()
        self._loading = threading.Lock()

    def get(self, seg: Any) -> SegmentAnn | None:
        held = self._held.get(seg.path)
        return held[1] if held is not None and held[0] is seg else None

    def names(self) -> list[str]:
        with self._lock:
            return sorted(seg.name for seg, _ in self._held.values())

    def adopt(self, other: LoadedAnns, seg: Any) -> None:
        """Take over the ANN ``other`` (the previous snapshot's layer) loaded for a segment both share."""
        ann = other.get(seg)
        if ann is not None:
            with self._lock:
                self._held[seg.path] = (seg, ann)

    def load(self, segments: Sequence[Any], fingerprint_of: Any) -> None:
        """Load the files of segments that appeared (or changed) since the last check."""
        if not self._loading.acquire(blocking=False):
            return   # another thread is loading them
        try:
            for seg in segments:
                if self.get(seg) is None:
                    self._load(seg, fingerprint_of)
        finally:
            self._loading.release()

    def _load(self, seg: Any, fingerprint_of: Any) -> None:
        target, meta = ann_paths(self.folder, seg.name)
        stamp = (_mtime_ns(target), _mtime_ns(meta))
        if stamp[1] < 0:   # no JSON: never built (or its build was interrupted)
            if 0 < self.min_chunks <= seg.size and seg.path not in self._noted:
                self._noted.add(seg.path)
                log.info("semantic ANN of segment %s not built yet: exact search for it until "
                         "'assistant semantic fill' builds it", seg.name)
            return
        if self._failed.get(seg.path) == stamp:
            return
        try:
            ann = load_segment_ann(self.folder, seg.name, seg.size, fingerprint_of(seg), self.identity)
        except AnnUnusable as exc:
            self._failed[seg.path] = stamp
            log.warning("semantic ANN of segment %s unusable, exact search for it: %s", seg.name, exc)
            return
        if ann is not None:
            with self._lock:
                self._held[seg.path] = (seg, ann)

    def split(self, snapshot: Any) -> tuple[list[tuple[int, int, SegmentAnn]], list[tuple[int, int]]]:
        """(offset, size, ANN) of the snapshot's segments searched through their ANN, and the (start, stop)
        runs of positions searched exactly (neighbouring segments without an ANN form one run)."""
        anns: list[tuple[int, int, SegmentAnn]] = []
        runs: list[tuple[int, int]] = []
        with self._lock:
            for i, seg in enumerate(getattr(snapshot, "segments", None) or ()):
                start = int(snapshot.offsets[i])
                ann = self.get(seg)
                if ann is not None:
                    anns.append((start, seg.size, ann))
                elif runs and runs[-1][1] == start:
                    runs[-1] = (runs[-1][0], start + seg.size)
                else:
                    runs.append((start, start + seg.size))
        return anns, runs


def ann_hits(index: Any, qv: np.ndarray, n: int, allowed: np.ndarray, ef_search: int) -> list[tuple[int, float]]:
    """Top n allowed rows of one segment's HNSW index (local positions, best first)."""
    # imported here: assistant.retrieve.search imports the semantic layer; its filtered search (bitmap
    # selector, efSearch widened under a filter, exact scan when few rows are allowed) serves both layers
    from assistant.retrieve.search import _faiss_hits, filtered_faiss

    vec = np.ascontiguousarray(qv, dtype=np.float32).reshape(1, -1)
    if allowed.all():
        params = faiss_module().SearchParametersHNSW(efSearch=max(ef_search, n))
        return _faiss_hits(index, vec, min(n, len(allowed)), params)
    return filtered_faiss(index, vec, n, allowed, ef_search)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def remove_stale(folder: Path, keep: set[str]) -> int:
    """Remove ANN files of segments not in ``keep`` (segment folders that no longer exist) and temporary
    files a killed build left; returns how many segments' files were removed."""
    base = Path(folder) / ANN_FOLDER
    if not base.is_dir():
        return 0
    removed = set()
    for p in base.iterdir():
        if p.name.startswith(".") and ".tmp-" in p.name:
            p.unlink(missing_ok=True)
            continue
        if p.suffix in (".json", ".faiss") and p.stem not in keep:
            removed.add(p.stem)
    for name in sorted(removed):   # the JSON first: a FAISS file alone is never used
        for p in reversed(ann_paths(folder, name)):
            p.unlink(missing_ok=True)
    return len(removed)


def build_index_anns(snapshot: Any, store: Any, identity: dict[str, Any], keys_of: Any, *, min_chunks: int,
                     hnsw_m: int, index_path: Path) -> AnnReport:
    """Give every big segment of ``snapshot`` whose live chunks all have a vector in ``store`` its ANN, and
    remove the ANN files of segments that no longer exist in ``index_path``.

    ``keys_of(segment)`` gives the text keys of a segment's rows. The caller holds the store's fill lock.
    """
    report = AnnReport()
    t0 = time.perf_counter()
    report.removed = remove_stale(store.folder, {p.name for p in Path(index_path).iterdir() if p.is_dir()})
    if min_chunks <= 0:
        report.seconds = time.perf_counter() - t0
        return report
    live = getattr(snapshot, "live", None)
    for i, seg in enumerate(snapshot.segments):
        if seg.size < min_chunks:
            continue
        keys = keys_of(seg)
        print_ = fingerprint(keys)
        try:
            info = read_ann_info(store.folder, seg.name)
            if info is not None:
                check_ann_info(info, seg.name, seg.size, print_, identity)
                report.kept += 1
                continue
        except AnnUnusable as exc:
            log.warning("semantic ANN rebuilt: %s", exc)
        offset = int(snapshot.offsets[i])
        alive = None if live is None else np.asarray(live[offset:offset + seg.size])
        if not _covered(store, keys, alive):
            continue   # vectors still missing: the next fill builds it
        t1 = time.perf_counter()
        build_segment_ann(store.folder, seg.name, _row_batches(store, keys), seg.size, identity, print_, hnsw_m)
        report.built.append(seg.name)
        log.info("semantic ANN built segment=%s rows=%d %.1fs", seg.name, seg.size, time.perf_counter() - t1)
    report.seconds = time.perf_counter() - t0
    return report


def _covered(store: Any, keys: Sequence[str], alive: np.ndarray | None) -> bool:
    """Whether every live row's text has a vector in the store."""
    wanted = [k for j, k in enumerate(keys) if alive is None or alive[j]]
    return len(store.present(list(dict.fromkeys(wanted)))) == len(set(wanted))


def _row_batches(store: Any, keys: Sequence[str]) -> Any:
    """(vectors, has-vector mask) of the rows, BUILD_BATCH rows at a time, read from the vector store."""
    for start in range(0, len(keys), BUILD_BATCH):
        part = keys[start:start + BUILD_BATCH]
        found, vecs = store.vectors_for(part)
        row_of = {k: j for j, k in enumerate(found)}
        out = np.zeros((len(part), store.dim), dtype=np.float32)
        have = np.zeros(len(part), dtype=bool)
        for j, key in enumerate(part):
            r = row_of.get(key)
            if r is not None:
                out[j] = vecs[r]
                have[j] = True
        yield out, have
