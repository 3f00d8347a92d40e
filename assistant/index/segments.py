"""Immutable index segments: the chunks of a few documents with their vectors, postings and metadata.

A segment folder (``seg-000012/``) holds::

    meta.sqlite     documents and chunks (local positions 0..n-1)
    dense.faiss     vectors in local position order (absent when the index has no ingest-time dense layer)
    postings.npz    BM25 term frequencies and chunk lengths (see assistant.index.bm25), vocab.json
    documents.json  doc id → (source, sha256, title, chunk count), so a manifest is read without SQLite

A segment is written once, in a temporary folder that is fsynced and renamed into place, and never changed
afterwards; deletions are recorded by the generation that references it (tombstones). A generation folder
of the first layout (one whole index: the same files, plus bm25s's folder) opens as one segment.

Segments are shared between snapshots of a process: opening a new generation reads only its new segments.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.bm25 import Postings, PostingsBuilder
from assistant.index.manifest import DocumentEntry

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, doc_type TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, access_level TEXT NOT NULL DEFAULT '공개',
    department TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '', metadata TEXT NOT NULL DEFAULT '{}',
    ingested_at TEXT NOT NULL
);
CREATE TABLE chunks (
    pos INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id), ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, title TEXT NOT NULL, section TEXT NOT NULL, location TEXT NOT NULL,
    page INTEGER, article TEXT, terms TEXT NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id, ordinal);
"""

DOC_COLUMNS = ("doc_id", "source", "title", "doc_type", "sha256", "size", "access_level",
               "department", "date", "metadata", "ingested_at")
#: chunk columns after ``pos``, in table order
CHUNK_COLUMNS = ("doc_id", "ordinal", "text", "title", "section", "location", "page", "article", "terms")

DOCUMENTS_FILE = "documents.json"
#: vectors added to FAISS per call while a segment is written
FAISS_BATCH = 50_000


@dataclass
class SegmentDoc:
    """One document as stored in a segment: its row, its chunk rows (CHUNK_COLUMNS), vectors and terms."""

    row: tuple[Any, ...]
    chunks: list[tuple[Any, ...]]
    vectors: np.ndarray
    terms: list[list[str]]

    @property
    def doc_id(self) -> str:
        return str(self.row[0])


def faiss_module() -> Any:
    """Import faiss with the settings this project relies on.

    faiss 1.15 ships ``distance_compute_blas_threshold`` = 128000: below that many queries it skips BLAS,
    which makes batched exact search ~12x slower. 20 hands any real batch to BLAS.
    """
    global _faiss_ready
    import faiss

    if not _faiss_ready:
        from assistant.runtime import apply_to_faiss

        faiss.cvar.distance_compute_blas_threshold = 20
        apply_to_faiss(faiss)   # OpenMP threads for this process's role (assistant/runtime.py)
        _faiss_ready = True
    return faiss


_faiss_ready = False


def write_segment(folder: Path, docs: Iterable[SegmentDoc], dim: int, dense_kind: str, hnsw_m: int) -> int:
    """Write the documents into a new segment folder (which must not exist); return its chunk count.

    Only the files are written and fsynced; the caller renames the folder into place.
    """
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "meta.sqlite")
    # no journal and no syncs while the file is built: it is fsynced once, complete, before it is used
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(SCHEMA)
    # vectors go into FAISS in batches as they come, so a large merge never holds them all twice
    index = _new_faiss(dim, dense_kind, hnsw_m) if dim else None
    vectors: list[np.ndarray] = []
    buffered = 0
    postings = PostingsBuilder()
    entries: dict[str, dict[str, Any]] = {}
    pos = 0
    for doc in docs:
        conn.execute(f"INSERT INTO documents VALUES ({','.join('?' * len(DOC_COLUMNS))})", doc.row)
        conn.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                         [(pos + i, *row) for i, row in enumerate(doc.chunks)])
        pos += len(doc.chunks)
        for chunk_terms in doc.terms:
            postings.add(chunk_terms)
        if len(doc.chunks) and index is not None:
            vectors.append(np.asarray(doc.vectors, dtype=np.float32).reshape(-1, dim))
            buffered += len(doc.chunks)
            if buffered >= FAISS_BATCH:
                index.add(np.ascontiguousarray(np.vstack(vectors)))
                vectors, buffered = [], 0
        entries[doc.doc_id] = {"source": doc.row[1], "sha256": doc.row[4], "title": doc.row[2],
                               "chunks": len(doc.chunks)}
    conn.commit()
    conn.close()
    if index is not None:  # an index without a synchronous dense layer (embedder "none") has no FAISS file
        if vectors:
            index.add(np.ascontiguousarray(np.vstack(vectors)))
        faiss_module().write_index(index, str(folder / "dense.faiss"))
    postings.finish().save(folder)
    _write_json(folder / DOCUMENTS_FILE, entries)
    fsync_tree(folder)
    return pos


def _new_faiss(dim: int, kind: str, hnsw_m: int) -> Any:
    faiss = faiss_module()
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        return index
    return faiss.IndexFlatIP(dim)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")   # fsynced with the folder


def fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Segment:
    """A read-only segment: FAISS index, postings, per-position document rowids and its SQLite.

    Safe to share between threads and snapshots (each thread gets its own SQLite connection).
    """

    def __init__(self, path: Path) -> None:
        faiss = faiss_module()
        self.path = path
        self.name = path.name
        self._local = threading.local()
        dense = path / "dense.faiss"
        self.faiss = faiss.read_index(str(dense)) if dense.is_file() else None
        rows = self.db().execute("SELECT c.pos, d.rowid FROM chunks c JOIN documents d USING(doc_id) "
                                 "ORDER BY c.pos").fetchall()
        self.pos_doc = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        self.size = len(rows)
        self.max_rowid = int(self.db().execute("SELECT coalesce(max(rowid), 0) FROM documents").fetchone()[0])
        self.documents = segment_documents(path)
        #: derived data other modules compute once per segment (e.g. the semantic layer's text keys)
        self.memo: dict[str, Any] = {}
        if Postings.exists(path):
            self.postings = Postings.load(path)
        else:  # first layout: postings rebuilt from the terms kept in SQLite (see IndexStore.commit)
            self.postings = Postings.build(self.stored_terms())

    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"file:{self.path / 'meta.sqlite'}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def texts(self) -> list[str]:
        """The text each local position is embedded as (title, section path, chunk text), with the doc id."""
        from assistant.types import Chunk

        rows = self.db().execute(f"SELECT {', '.join(CHUNK_COLUMNS[:-1])} FROM chunks ORDER BY pos").fetchall()
        return [Chunk(*r).indexed_text() for r in rows]

    def doc_ids(self) -> list[str]:
        """The doc id of each local position."""
        return [r[0] for r in self.db().execute("SELECT doc_id FROM chunks ORDER BY pos")]

    def stored_terms(self) -> list[list[str]]:
        rows = self.db().execute("SELECT terms FROM chunks ORDER BY pos")
        return [r[0].split(" ") if r[0] else [] for r in rows]

    def positions_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Local positions of the chunks of these documents."""
        out: list[int] = []
        for i in range(0, len(doc_ids), 500):
            part = list(doc_ids[i:i + 500])
            marks = ",".join("?" * len(part))
            out += [r[0] for r in self.db().execute(f"SELECT pos FROM chunks WHERE doc_id IN ({marks})", part)]
        return np.array(sorted(out), dtype=np.int64)

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        if self.faiss is None or not len(positions):
            dim = self.faiss.d if self.faiss is not None else 0
            return np.zeros((0, dim), dtype=np.float32)
        return np.asarray(self.faiss.reconstruct_batch(np.asarray(positions, dtype=np.int64)), dtype=np.float32)

    def export(self, doc_ids: Iterable[str]) -> Iterable[SegmentDoc]:
        """The given documents as stored (rows, vectors, terms), in rowid order — for a merge or a re-add."""
        wanted = set(doc_ids)
        db = self.db()
        for doc in db.execute(f"SELECT {', '.join(DOC_COLUMNS)} FROM documents ORDER BY rowid").fetchall():
            if doc["doc_id"] not in wanted:
                continue
            rows = db.execute(f"SELECT pos, {', '.join(CHUNK_COLUMNS)} FROM chunks WHERE doc_id=? ORDER BY ordinal",
                              (doc["doc_id"],)).fetchall()
            positions = np.array([r["pos"] for r in rows], dtype=np.int64)
            yield SegmentDoc(tuple(doc), [tuple(r)[1:] for r in rows], self.vectors(positions),
                             [r["terms"].split(" ") if r["terms"] else [] for r in rows])


_OPEN: weakref.WeakValueDictionary[tuple[str, int], Segment] = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


def segment_documents(path: Path) -> dict[str, DocumentEntry]:
    """The documents a segment holds (a first-layout generation lists them in its manifest)."""
    if not (path / DOCUMENTS_FILE).is_file():
        from assistant.index.manifest import read_manifest

        return dict(read_manifest(path / "manifest.json").documents)
    data = json.loads((path / DOCUMENTS_FILE).read_text(encoding="utf-8"))
    return {k: DocumentEntry(**v) for k, v in data.items()}


def open_segment(path: Path) -> Segment:
    """A segment, shared with any other snapshot of this process that has it open."""
    key = (str(path), (path / "meta.sqlite").stat().st_ino)
    with _OPEN_LOCK:
        seg = _OPEN.get(key)
    if seg is None:
        seg = Segment(path)
        with _OPEN_LOCK:
            _OPEN[key] = seg
    return seg
