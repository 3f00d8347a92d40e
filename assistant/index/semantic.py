"""Semantic vectors (e5) of an index, filled after ingest by a background pass.

The e5 encoder understands colloquial Korean far better than USE but embeds ~40x slower (DESIGN.md), so an
ingest does not wait for it: the index is searchable as soon as its generation is committed (BM25 + the
fast dense layer), and this store is filled afterwards — by ``assistant ingest`` itself unless told
``--semantic later``, by ``assistant semantic fill``, or by the web app in a low-priority worker process.
Search uses whatever vectors are present, so the index gets smarter as the pass advances.

Layout: ``<index>/semantic/<embedder>/vectors.sqlite`` with one row per distinct *text*::

    vectors(key TEXT PRIMARY KEY, kind TEXT, vec BLOB)   -- key = sha1 of the embedded text

Keys are content hashes, so vectors survive re-ingests and generation switches (an unchanged chunk keeps
its vector), and one store serves every generation. Each batch is one SQLite transaction: ``kill -9``
loses at most the batch in flight, never a stored vector. What is embedded is each chunk as retrieval sees
it (title, section path, text). Sentence vectors were measured and left out: they chose the answering
sentence no better than chunk vectors and would double the pass (README, "Understanding everyday Korean").
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.semantic_ann import AnnReport, LoadedAnns, ann_hits, build_index_anns, fingerprint
from assistant.index.store import exclusive_lock
from assistant.index.topk import top_n

log = logging.getLogger("assistant.semantic")

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, kind TEXT NOT NULL, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class SemanticStore:
    """Vectors of one index for one embedder, keyed by the hash of the text embedded."""

    def __init__(self, index_path: Path, embedder_name: str, dim: int) -> None:
        self.folder = Path(index_path) / "semantic" / embedder_name
        self.path = self.folder / "vectors.sqlite"
        self.dim = dim
        self._local = threading.local()

    def exists(self) -> bool:
        return self.path.is_file()

    def _conn(self, write: bool = False) -> sqlite3.Connection:
        if write:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self._create()
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            return conn
        cached: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if cached is None:
            cached = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
            self._local.conn = cached
        return cached

    def _create(self) -> None:
        """Make the file with its tables under a temporary name, then link it into place: a reader never
        opens a database that exists but has no tables yet (another writer's file wins)."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with sqlite3.connect(tmp) as conn:
                conn.executescript(SCHEMA)
            conn.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)

    def count(self) -> int:
        if not self.exists():
            return 0
        return int(self._conn().execute("SELECT count(*) FROM vectors").fetchone()[0])

    def present(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` already have a vector."""
        if not self.exists() or not keys:
            return set()
        out: set[str] = set()
        conn = self._conn()
        for i in range(0, len(keys), 500):
            part = list(keys[i:i + 500])
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in conn.execute(f"SELECT key FROM vectors WHERE key IN ({marks})", part))
        return out

    def vectors_since(self, rowid: int) -> tuple[list[str], np.ndarray, int]:
        """(keys, vectors, last rowid) of rows added after ``rowid``."""
        if not self.exists():
            return [], np.zeros((0, self.dim), np.float32), rowid
        rows = self._conn().execute("SELECT rowid, key, vec FROM vectors WHERE rowid > ? ORDER BY rowid",
                                    (rowid,)).fetchall()
        if not rows:
            return [], np.zeros((0, self.dim), np.float32), rowid
        vecs = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), self.dim)
        return [r[1] for r in rows], vecs, int(rows[-1][0])

    def vectors_for(self, keys: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(keys found, their vectors) for the given keys."""
        found: list[str] = []
        blobs: list[bytes] = []
        if self.exists():
            conn = self._conn()
            wanted = list(dict.fromkeys(keys))
            for i in range(0, len(wanted), 500):
                part = wanted[i:i + 500]
                marks = ",".join("?" * len(part))
                for key, vec in conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part):
                    found.append(key)
                    blobs.append(vec)
        vecs = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(found), self.dim)
        return found, vecs

    def add(self, keys: Sequence[str], vectors: np.ndarray, kind: str = "chunk") -> None:
        """Store one batch in one transaction."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        conn = self._conn(write=True)
        try:
            with conn:
                conn.executemany("INSERT OR IGNORE INTO vectors(key, kind, vec) VALUES (?,?,?)",
                                 [(k, kind, vectors[i].tobytes()) for i, k in enumerate(keys)])
        finally:
            conn.close()

    def fill_lock(self) -> AbstractContextManager[bool]:
        """Held by the one process filling this store; yields False when another holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return exclusive_lock(self.folder / ".fill.lock")


@dataclass
class FillReport:
    todo: int = 0
    done: int = 0
    seconds: float = 0.0
    stopped: bool = False
    busy: bool = False   # another process was filling this store
    ann: AnnReport | None = None   # the HNSW indexes built for big segments at the end of the fill


def fill(store: SemanticStore, embedder: Any, texts: Sequence[str], *, batch: int = 16,
         stop: threading.Event | None = None,
         progress: Callable[[int, int], None] | None = None) -> FillReport:
    """Embed the texts whose key is missing, batch by batch, committing each batch."""
    report = FillReport()
    t0 = time.perf_counter()
    with store.fill_lock() as mine:
        if not mine:
            report.busy = True
            return report
        by_key: dict[str, str] = {}
        for t in texts:
            by_key.setdefault(text_key(t), t)
        have = store.present(list(by_key))
        todo = [(k, t) for k, t in by_key.items() if k not in have]
        report.todo = len(todo)
        for i in range(0, len(todo), batch):
            if stop is not None and stop.is_set():
                report.stopped = True
                break
            part = todo[i:i + batch]
            store.add([k for k, _ in part], embedder.embed([t for _, t in part], batch_size=batch))
            report.done += len(part)
            if progress:
                progress(report.done, report.todo)
    report.seconds = time.perf_counter() - t0
    return report


class SemanticLayer:
    """Dense search over one index snapshot with whatever semantic vectors the store holds so far.

    Positions whose text has no vector yet are simply not ranked by this layer (BM25 still finds them).
    New vectors are picked up at most every ``refresh_s`` seconds, so a running server gets smarter while
    the background pass advances, without a restart. So are the HNSW indexes of big segments
    (assistant.index.semantic_ann): a segment with one is searched through it, the others exactly.
    """

    def __init__(self, snapshot: Any, store: SemanticStore, embedder: Any, refresh_s: float = 5.0,
                 previous: SemanticLayer | None = None, ann_min_chunks: int = 0, ef_search: int = 128) -> None:
        self.snapshot = snapshot
        self._previous = previous   # the layer of the snapshot this one replaces: its segments' rows are reused
        self.store = store
        self.embedder = embedder
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._keys: dict[str, list[int]] | None = None   # text key → positions (built on first use)
        self._matrix = np.zeros((snapshot.size, store.dim), dtype=np.float32)
        self._have = np.zeros(snapshot.size, dtype=bool)
        self._rowid = 0
        self._checked = 0.0
        self._queries: dict[str, np.ndarray] = {}
        self.ef_search = ef_search
        self.anns = LoadedAnns(store.folder, embedder.identity, ann_min_chunks)   # big segments' HNSW

    @property
    def coverage(self) -> tuple[int, int]:
        """(positions with a vector, all positions)."""
        self.refresh()
        return int(self._have.sum()), int(getattr(self.snapshot, "live_count", self.snapshot.size))

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_s:
            return
        with self._lock:
            self._checked = now
            index = self._keys if self._keys is not None else self._build()
            keys, vecs, last = self.store.vectors_since(self._rowid)
            for key, vec in zip(keys, vecs, strict=True):
                for pos in index.get(key, ()):
                    self._matrix[pos] = vec
                    self._have[pos] = True
            self._rowid = last
        self.load_anns()

    def load_anns(self) -> None:
        """Load the ANN files of big segments built since the last check (assistant.index.semantic_ann)."""
        segments = getattr(self.snapshot, "segments", None)
        if segments and self._keys is not None:
            self.anns.load(segments, segment_fingerprint)

    def _build(self) -> dict[str, list[int]]:
        """Map text keys to positions and load the vectors present.

        An index commits after every few files, and a server then opens the new snapshot: its segments are
        mostly those of the snapshot before, so their rows are copied from the previous layer and only the
        vectors of new segments are read (reading every vector again costs seconds at 100k chunks).
        """
        index: dict[str, list[int]] = {}
        self._keys = index
        live = getattr(self.snapshot, "live", None)   # deleted chunks get no vector, are never ranked
        segments = getattr(self.snapshot, "segments", None)
        if segments is None:
            for pos, text in enumerate(self.snapshot.position_texts()):
                if live is None or live[pos]:
                    index.setdefault(text_key(text), []).append(pos)
            return index
        prev, self._previous = self._previous, None
        reuse = prev is not None and prev._keys is not None and prev.store.path == self.store.path and \
            getattr(prev.snapshot, "segments", None) is not None
        before = {seg.path: (int(prev.snapshot.offsets[j]), seg) for j, seg in enumerate(prev.snapshot.segments)} \
            if reuse and prev is not None else {}
        fresh: list[str] = []
        for i, seg in enumerate(segments):
            offset = int(self.snapshot.offsets[i])
            keys = segment_keys(seg)
            old = before.get(seg.path)
            copied = old is not None and old[1] is seg and prev is not None
            if copied and old is not None and prev is not None:
                with prev._lock:
                    self._matrix[offset:offset + seg.size] = prev._matrix[old[0]:old[0] + seg.size]
                    self._have[offset:offset + seg.size] = prev._have[old[0]:old[0] + seg.size]
                self.anns.adopt(prev.anns, seg)
            for local, key in enumerate(keys):
                if live is None or live[offset + local]:
                    index.setdefault(key, []).append(offset + local)
                    if not copied:
                        fresh.append(key)
        if live is not None:
            self._have &= live
        if reuse and prev is not None:
            self._rowid = prev._rowid   # vectors stored up to here are in the copied rows; fetch new segments'
            for key, vec in zip(*self.store.vectors_for(fresh), strict=True):
                for pos in index.get(key, ()):
                    self._matrix[pos] = vec
                    self._have[pos] = True
        return index

    def query_vector(self, query: str) -> np.ndarray:
        """The query's vector, cached: retrieval and the answerability gate ask for the same question."""
        with self._lock:
            vec = self._queries.get(query)
        if vec is None:
            vec = self.embedder.embed_query([query])[0]
            with self._lock:
                self._queries[query] = vec
                while len(self._queries) > 64:
                    self._queries.pop(next(iter(self._queries)))
        return vec

    def similarities(self, query: str, positions: Sequence[int]) -> list[float | None]:
        """Cosine of the query to each position's vector (None where no vector exists yet)."""
        self.refresh()
        if not any(self._have[p] for p in positions):
            return [None] * len(positions)
        qv = self.query_vector(query)
        return [float(self._matrix[p] @ qv) if self._have[p] else None for p in positions]

    def search(self, query: str, depth: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        """Top ``depth`` positions by cosine; the filter ``mask`` applies inside the search, never after.

        Segments with an ANN are searched through it with their slice of the mask (a bitmap selector: the
        walk skips forbidden rows); every other position by one exact product over its rows, the mask
        applied to the scores before the top-k. Hits are merged by score. Positions without a vector
        (deleted ones among them) are never returned.
        """
        self.refresh()
        usable = self._have if mask is None else (self._have & mask)
        count = int(np.count_nonzero(usable))
        if count == 0:
            return []
        qv = self.query_vector(query)
        n = min(depth, count)
        anns, exact = self.anns.split(self.snapshot)
        if not anns:
            return _top(self._exact(qv, 0, len(usable), usable), n, 0)
        hits: list[tuple[int, float]] = []
        for offset, size, ann in anns:
            local = usable[offset:offset + size]
            walk = local if ann.missing is None else local & ~ann.missing
            hits += [(offset + p, s) for p, s in ann_hits(ann.index, qv, n, walk, self.ef_search)]
            if ann.missing is not None and (local & ann.missing).any():   # rows the ANN has no vector for
                rows = offset + np.flatnonzero(local & ann.missing)
                hits += [(int(p), float(s)) for p, s in zip(rows, self._matrix[rows] @ qv, strict=True)]
        for start, stop in exact:
            hits += _top(self._exact(qv, start, stop, usable[start:stop]), n, start)
        hits.sort(key=lambda h: -h[1])
        return hits[:n]

    def _exact(self, qv: np.ndarray, start: int, stop: int, usable: np.ndarray) -> np.ndarray:
        """Scores of positions start..stop-1 (a view of the matrix: no rows copied), -inf where not usable."""
        scores = self._matrix[start:stop] @ qv
        scores[~usable] = -np.inf
        return scores


def _top(scores: np.ndarray, n: int, offset: int) -> list[tuple[int, float]]:
    """The best n finite scores as (offset + index, score), best first."""
    return [(offset + int(p), float(scores[p])) for p in top_n(scores, n, floor=-np.inf)]


def segment_keys(seg: Any) -> list[str]:
    """The text keys of a segment's rows, computed once per segment and process."""
    keys: list[str] | None = seg.memo.get("semantic_keys")
    if keys is None:
        keys = seg.memo["semantic_keys"] = [text_key(t) for t in seg.texts()]
    return keys


def segment_fingerprint(seg: Any) -> str:
    """What the rows of a segment are (assistant.index.semantic_ann.fingerprint), once per segment."""
    value: str | None = seg.memo.get("semantic_fingerprint")
    if value is None:
        value = seg.memo["semantic_fingerprint"] = fingerprint(segment_keys(seg))
    return value


def semantic_enabled(settings: Any) -> bool:
    return settings.semantic_embedder not in ("", "none")


def open_semantic(settings: Any, index_store: Any) -> tuple[Any, SemanticStore]:
    """The configured semantic embedder (one per process) and its store in ``index_store``'s folder."""
    from assistant.index.embedders import shared_embedder

    embedder = shared_embedder(settings, settings.semantic_embedder)
    return embedder, SemanticStore(index_store.path, embedder.name, embedder.dim)


def fill_index(settings: Any, index_store: Any, *, stop: threading.Event | None = None,
               progress: Callable[[int, int], None] | None = None) -> FillReport:
    """Fill the semantic vectors of one index's current generation (nothing to do when the layer is off)."""
    if not semantic_enabled(settings) or not index_store.exists():
        return FillReport()
    snapshot = index_store.open()
    embedder, store = open_semantic(settings, index_store)
    report = fill(store, embedder, snapshot.position_texts(live_only=True), stop=stop, progress=progress)
    log.info("semantic fill index=%s todo=%d done=%d %.1fs", index_store.name, report.todo, report.done,
             report.seconds)
    if not report.busy and not report.stopped:
        report.ann = build_anns(settings, index_store, snapshot, store, embedder.identity)
    return report


def build_anns(settings: Any, index_store: Any, snapshot: Any, store: SemanticStore,
               identity: dict[str, Any]) -> AnnReport | None:
    """Build the HNSW indexes of the snapshot's big, fully filled segments and remove stale ones (the
    end of a fill; also what the search benchmark calls). None when another process holds the fill lock."""
    with store.fill_lock() as mine:
        if not mine:
            return None
        report = build_index_anns(snapshot, store, identity, segment_keys,
                                  min_chunks=settings.semantic_ann_min_chunks, hnsw_m=settings.hnsw_m,
                                  index_path=index_store.path)
    if report.built or report.removed:
        log.info("semantic ANN index=%s built=%s kept=%d removed=%d %.1fs", index_store.name,
                 ",".join(report.built) or "-", report.kept, report.removed, report.seconds)
    return report


def coverage(settings: Any, index_store: Any) -> tuple[int, int]:
    """(chunks with a semantic vector, chunks) of an index's current generation."""
    snapshot = index_store.open()
    if not semantic_enabled(settings):
        return 0, snapshot.size
    _, store = open_semantic(settings, index_store)
    keys = [text_key(t) for t in snapshot.position_texts(live_only=True)]
    have = store.present(list(dict.fromkeys(keys)))
    return sum(1 for k in keys if k in have), len(keys)
