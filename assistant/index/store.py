"""An index on disk: FAISS (dense) + bm25s (sparse) + SQLite (chunks and documents) + manifest.

Layout of ``<index_dir>/<name>/``::

    CURRENT          name of the live generation, replaced atomically (os.replace)
    gen-000007/      one complete, immutable generation
        manifest.json  dense.faiss  bm25/  meta.sqlite
    .lock            held by the one writer

A write builds a whole new generation in a temporary folder, renames it into place and only then
switches CURRENT. Ctrl-C or ``kill -9`` at any moment leaves CURRENT pointing to the last complete
generation. Nothing is pickled: FAISS's own format, numpy arrays, JSON and SQLite.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IndexNotFound
from assistant.index.manifest import DocumentEntry, Manifest, read_manifest, write_json_atomic
from assistant.ocr import flagged_location, low_confidence_pages
from assistant.types import Chunk

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


@dataclass
class DocumentRecord:
    doc_id: str
    source: str
    title: str
    doc_type: str
    sha256: str
    size: int
    access_level: str = "공개"
    department: str = ""
    date: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    ingested_at: str = ""

    def row(self) -> tuple[Any, ...]:
        values = {**self.__dict__, "metadata": json.dumps(self.metadata, ensure_ascii=False, default=str)}
        values["ingested_at"] = self.ingested_at or _now()
        return tuple(values[c] for c in DOC_COLUMNS)


@dataclass
class NewDocument:
    """A parsed, chunked, embedded and tokenised document ready to be written."""

    record: DocumentRecord
    chunks: list[Chunk]
    vectors: np.ndarray
    terms: list[list[str]]


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


@contextmanager
def exclusive_lock(path: Path) -> Iterator[bool]:
    """An exclusive, non-blocking file lock held for the block; yields False when another process holds it."""
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class IndexStore:
    """Names and locks one index folder; opens snapshots and writes generations."""

    def __init__(self, root: Path, name: str) -> None:
        if not name or "/" in name or name.startswith(".") or "\\" in name:
            raise ValueError(f"색인 이름이 올바르지 않습니다: '{name}' (영문·숫자·한글·-·_ 만 사용)")
        self.root = Path(root)
        self.name = name
        self.path = self.root / name

    def exists(self) -> bool:
        return (self.path / "CURRENT").is_file()

    def current_dir(self) -> Path:
        try:
            gen = (self.path / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexNotFound(f"색인 '{self.name}'이 없습니다 ({self.path}). "
                                f"먼저 'assistant ingest 경로 --index {self.name}'로 만드세요.") from None
        return self.path / gen

    def manifest(self) -> Manifest:
        return read_manifest(self.current_dir() / "manifest.json")

    def open(self) -> IndexSnapshot:
        return IndexSnapshot(self.current_dir())

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.path / ".lock") as mine:
            if not mine:
                raise IndexNotFound(f"색인 '{self.name}'에 다른 작업이 쓰는 중입니다. 끝난 뒤 다시 실행하세요.")
            yield

    def remove(self) -> None:
        if not self.path.exists():
            raise IndexNotFound(f"색인 '{self.name}'이 없습니다 ({self.path}).")
        shutil.rmtree(self.path)

    def commit(self, manifest: Manifest, base: IndexSnapshot | None, keep: set[str],
               new_docs: Sequence[NewDocument], dense_kind: str, hnsw_m: int = 32) -> Manifest:
        """Write a new generation from ``keep`` (doc ids of ``base``) plus ``new_docs``; switch to it.

        ``manifest`` is the base's manifest (or a fresh one); it is not modified — the new one is returned.
        """
        generation = manifest.generation + 1
        final = self.path / f"gen-{generation:06d}"
        tmp = self.path / f".gen-{generation:06d}.tmp-{os.getpid()}"
        self._clean_stale()
        tmp.mkdir(parents=True)
        vectors, terms, entries = _write_sqlite(tmp / "meta.sqlite", base, keep, new_docs)
        dim = int(manifest.embedder["dim"])
        if dim:  # an index without a synchronous dense layer (embedder "none") has no FAISS file
            _write_faiss(tmp / "dense.faiss", vectors.reshape(-1, dim), dense_kind, hnsw_m)
        if terms:
            _write_bm25(tmp / "bm25", terms)
        now = _now()
        manifest = replace(manifest, generation=generation, dense_index=dense_kind, chunk_count=len(terms),
                           documents=entries, updated=now, created=manifest.created or now)
        write_json_atomic(tmp / "manifest.json", manifest.to_json())
        _fsync_tree(tmp)
        os.replace(tmp, final)
        current_tmp = self.path / "CURRENT.tmp"
        current_tmp.write_text(final.name + "\n", encoding="utf-8")
        os.replace(current_tmp, self.path / "CURRENT")
        _fsync_dir(self.path)
        self._drop_old(keep_names={final.name, base.path.name if base else ""})
        return manifest

    def set_access(self, doc_id: str, access_level: str, department: str = "") -> bool:
        """Change one document's access level (and department) in a new generation; False if it is absent.

        Generations are immutable, so the document is re-added with its stored chunks, vectors
        (reconstructed from FAISS) and BM25 terms; only its record differs. Nothing is re-parsed or
        re-embedded.
        """
        with self.write_lock():
            base = self.open()
            manifest = base.manifest
            db = base.db()
            row = db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
            if row is None:
                return False
            if row["access_level"] == access_level and row["department"] == department:
                return True
            record = DocumentRecord(
                doc_id=row["doc_id"], source=row["source"], title=row["title"], doc_type=row["doc_type"],
                sha256=row["sha256"], size=row["size"], access_level=access_level, department=department,
                date=row["date"], metadata=json.loads(row["metadata"] or "{}"), ingested_at=row["ingested_at"])
            rows = db.execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,)).fetchall()
            positions = np.array([r["pos"] for r in rows], dtype=np.int64)
            dim = int(manifest.embedder["dim"])
            vectors = (base.faiss.reconstruct_batch(positions) if len(positions) and base.faiss is not None
                       else np.zeros((0, dim), dtype=np.float32))
            terms = [r["terms"].split(" ") if r["terms"] else [] for r in rows]
            keep = set(manifest.documents) - {doc_id}
            self.commit(manifest, base, keep, [NewDocument(record, [_chunk(r) for r in rows], vectors, terms)],
                        manifest.dense_index)
        return True

    def _clean_stale(self) -> None:
        for p in self.path.glob(".gen-*.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)

    def _drop_old(self, keep_names: set[str]) -> None:
        for p in self.path.glob("gen-*"):
            if p.is_dir() and p.name not in keep_names:
                shutil.rmtree(p, ignore_errors=True)


def _doc_dict(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["metadata"] = json.loads(out.get("metadata") or "{}")
    if "n_chunks" in out:
        out["chunks"] = out.pop("n_chunks")
    return out


def _chunk(r: sqlite3.Row) -> Chunk:
    return Chunk(doc_id=r["doc_id"], ordinal=r["ordinal"], text=r["text"], title=r["title"], section=r["section"],
                 location=r["location"], page=r["page"], article=r["article"])


def list_indexes(root: Path) -> list[str]:
    if not Path(root).is_dir():
        return []
    return sorted(p.name for p in Path(root).iterdir() if (p / "CURRENT").is_file())


class IndexSnapshot:
    """A read-only view of one generation. Safe to share between threads."""

    def __init__(self, gen_dir: Path) -> None:
        faiss = faiss_module()
        self.path = gen_dir
        self.manifest = read_manifest(gen_dir / "manifest.json")
        dense = gen_dir / "dense.faiss"
        self.faiss = faiss.read_index(str(dense)) if dense.is_file() else None
        self.bm25 = _read_bm25(gen_dir / "bm25") if (gen_dir / "bm25").is_dir() else None
        self._local = threading.local()
        rows = self.db().execute("SELECT c.pos, d.rowid FROM chunks c JOIN documents d USING(doc_id) "
                                 "ORDER BY c.pos").fetchall()
        self.pos_doc = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        self.vocab: dict[str, int] = dict(self.bm25.vocab_dict) if self.bm25 is not None else {}

    @property
    def size(self) -> int:
        """Number of chunks (positions 0..size-1)."""
        return len(self.pos_doc)

    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"file:{self.path / 'meta.sqlite'}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def chunk_rows(self, positions: Sequence[int]) -> dict[int, sqlite3.Row]:
        if not positions:
            return {}
        marks = ",".join("?" * len(positions))
        sql = ("SELECT c.*, d.source, d.doc_type, d.access_level, d.department, d.date AS doc_date "
               f"FROM chunks c JOIN documents d USING(doc_id) WHERE c.pos IN ({marks})")
        return {r["pos"]: r for r in self.db().execute(sql, [int(p) for p in positions])}

    def doc_chunk_positions(self, doc_id: str) -> list[int]:
        rows = self.db().execute("SELECT pos FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,))
        return [r[0] for r in rows]

    def documents(self) -> list[sqlite3.Row]:
        return self.db().execute("SELECT rowid, * FROM documents ORDER BY source").fetchall()

    def doc_rowids(self, where: str, params: Sequence[Any]) -> np.ndarray:
        rows = self.db().execute(f"SELECT rowid FROM documents WHERE {where}", list(params)).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    # ------------------------------------------------------------------ the index API for tasks and the web
    # Tasks and the web app read the index through these methods, never through its tables. ``where`` and
    # ``params`` come from :meth:`assistant.retrieve.filters.SearchFilter.sql` (a condition on documents).

    def find_documents(self, where: str = "1=1", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Documents matching an access condition, with their chunk counts, by title."""
        rows = self.db().execute(
            "SELECT d.*, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.doc_id) AS n_chunks "
            f"FROM documents d WHERE ({where}) ORDER BY d.title", list(params)).fetchall()
        return [_doc_dict(r) for r in rows]

    def document(self, key: str, where: str = "1=1", params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """One document by doc id or source path, if it matches the access condition."""
        row = self.db().execute(f"SELECT * FROM documents WHERE ({where}) AND (doc_id = ? OR source = ?)",
                                [*params, key, key]).fetchone()
        return _doc_dict(row) if row is not None else None

    def chunks_of(self, doc_id: str, ordinals: Sequence[int] | None = None) -> list[Chunk]:
        """Chunks of one document in order (all, or the given ordinals)."""
        if ordinals is None:
            rows = self.db().execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,)).fetchall()
        else:
            marks = ",".join("?" * len(ordinals))
            rows = self.db().execute(f"SELECT * FROM chunks WHERE doc_id=? AND ordinal IN ({marks}) ORDER BY ordinal",
                                     [doc_id, *[int(o) for o in ordinals]]).fetchall()
        return [_chunk(r) for r in rows]

    def chunk_terms(self, doc_id: str, ordinals: Sequence[int]) -> list[list[str]]:
        """The BM25 terms stored for the given chunks (content morphemes, as indexed)."""
        marks = ",".join("?" * len(ordinals))
        rows = self.db().execute(f"SELECT terms FROM chunks WHERE doc_id=? AND ordinal IN ({marks}) ORDER BY ordinal",
                                 [doc_id, *[int(o) for o in ordinals]]).fetchall()
        return [(r[0] or "").split() for r in rows]

    def section_chunk(self, doc_id: str, section: str) -> tuple[Chunk, list[str]] | None:
        """The first chunk of a named section (e.g. a 법제처 해석례's "회답") with its terms."""
        row = self.db().execute("SELECT * FROM chunks WHERE doc_id=? AND section=? ORDER BY ordinal LIMIT 1",
                                (doc_id, section)).fetchone()
        return (_chunk(row), (row["terms"] or "").split()) if row is not None else None

    def term_df(self) -> tuple[dict[str, int], int]:
        """Document frequency of every indexed morpheme (from the BM25 matrix) and the chunk count."""
        cached = getattr(self, "_term_df", None)
        if cached is None:
            if self.bm25 is None:
                cached = ({}, self.size)
            else:
                indptr = self.bm25.scores["indptr"]
                last = len(indptr) - 1
                df = {t: int(indptr[i + 1] - indptr[i]) if i < last else 0 for t, i in self.vocab.items()}
                cached = (df, int(self.bm25.scores["num_docs"]))
            self._term_df = cached
        return cached

    def position_texts(self) -> list[str]:
        """The text each position is embedded as (title, section path, chunk text), in position order."""
        rows = self.db().execute("SELECT * FROM chunks ORDER BY pos").fetchall()
        return [_chunk(r).indexed_text() for r in rows]


def _write_sqlite(path: Path, base: IndexSnapshot | None, keep: set[str],
                  new_docs: Sequence[NewDocument]) -> tuple[np.ndarray, list[list[str]], dict[str, DocumentEntry]]:
    """Fill a fresh database; return all vectors and term lists in position order."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    vectors: list[np.ndarray] = []
    terms: list[list[str]] = []
    entries: dict[str, DocumentEntry] = {}
    pos = 0
    if base is not None and keep:
        src = base.db()
        for doc in src.execute(f"SELECT {', '.join(DOC_COLUMNS)} FROM documents ORDER BY rowid"):
            if doc["doc_id"] not in keep:
                continue
            conn.execute(f"INSERT INTO documents VALUES ({','.join('?' * len(DOC_COLUMNS))})", tuple(doc))
            rows = src.execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc["doc_id"],)).fetchall()
            old_pos = np.array([r["pos"] for r in rows], dtype=np.int64)
            if len(old_pos) and base.faiss is not None:
                vectors.append(base.faiss.reconstruct_batch(old_pos))
            for r in rows:
                conn.execute("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (pos, r["doc_id"], r["ordinal"], r["text"], r["title"], r["section"],
                              r["location"], r["page"], r["article"], r["terms"]))
                terms.append(r["terms"].split(" ") if r["terms"] else [])
                pos += 1
            entries[doc["doc_id"]] = DocumentEntry(doc["source"], doc["sha256"], doc["title"], len(rows))
    for nd in new_docs:
        conn.execute(f"INSERT INTO documents VALUES ({','.join('?' * len(DOC_COLUMNS))})", nd.record.row())
        low_ocr = low_confidence_pages(nd.record.metadata)   # their chunks' locations carry the OCR flag
        for chunk, chunk_terms in zip(nd.chunks, nd.terms, strict=True):
            conn.execute("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (pos, chunk.doc_id, chunk.ordinal, chunk.text, chunk.title, chunk.section,
                          flagged_location(chunk.location, chunk.page, low_ocr), chunk.page, chunk.article,
                          " ".join(chunk_terms)))
            terms.append(list(chunk_terms))
            pos += 1
        if len(nd.chunks) and nd.vectors.size:
            vectors.append(nd.vectors)
        entries[nd.record.doc_id] = DocumentEntry(nd.record.source, nd.record.sha256, nd.record.title, len(nd.chunks))
    conn.commit()
    conn.close()
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0,), dtype=np.float32)
    return matrix, terms, entries


def _write_faiss(path: Path, vectors: np.ndarray, kind: str, hnsw_m: int) -> None:
    faiss = faiss_module()

    dim = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def _write_bm25(path: Path, terms: list[list[str]]) -> None:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(terms, show_progress=False)
    retriever.save(str(path), show_progress=False)


def _read_bm25(path: Path) -> Any:
    import bm25s

    return bm25s.BM25.load(str(path), show_progress=False, mmap=False)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
