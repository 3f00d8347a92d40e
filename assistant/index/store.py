"""An index on disk: immutable segments (FAISS + BM25 postings + SQLite) named by small generations.

Layout of ``<index_dir>/<name>/``::

    CURRENT          name of the live generation, replaced atomically (os.replace)
    gen-000007/      manifest.json: settings, the segments in order, each with its deleted documents
    seg-000005/      one immutable segment (see assistant.index.segments)
    seg-000007/
    .lock            held by the one writer (an ingest run, a removal, an access change)
    .publish.lock    held for the instant a generation is switched (by the writer or the merger)
    .merge.lock      held by the one merger
    MERGING          the segments a running merge reads (kept on disk until it ends)

A commit writes one new segment holding only the new documents and a new generation manifest naming the
existing segments plus the new one; a replaced or removed document is not rewritten but listed as deleted
(a tombstone) in the manifest. So adding a 20-chunk file to a million-chunk index writes about the file's
own size. Everything is written in temporary folders, fsynced, renamed into place, and only then is CURRENT
switched: ``kill -9`` at any moment leaves CURRENT pointing to the last complete generation, whose segments
are never modified or removed while it is one of the newest generations.

Size-tiered merging keeps the number of segments small: when ``MERGE_FACTOR`` segments of similar size
exist they are rewritten as one, without their deleted chunks, in a new generation (same crash safety).
Merges run in the background, beside the writer: a commit never waits for one (a large merge at a million
chunks takes a minute). The merged segment is written from a snapshot without any lock; switching to it
takes the publish lock for an instant and reconciles it with the commits made meanwhile — a document
deleted or replaced while the merge ran is a tombstone in the merged segment too.
Readers see positions 0..size-1 as the segments' chunks one after another; deleted chunks keep their
positions until a merge and are excluded by :attr:`IndexSnapshot.live` (every search mask includes it).

A generation of the first layout (a whole index in one ``gen-*`` folder) opens as one segment, and the
next commit extends it with segments. Nothing is pickled: FAISS's own format, numpy arrays, JSON, SQLite.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError, IndexNotFound
from assistant.index.bm25 import FILES, Postings, SegmentedBM25
from assistant.index.manifest import DocumentEntry, Manifest, SegmentRef, read_manifest, write_json_atomic
from assistant.index.segments import (
    CHUNK_COLUMNS,
    DOC_COLUMNS,
    SCHEMA,
    Segment,
    SegmentDoc,
    faiss_module,
    fsync_dir,
    fsync_tree,
    open_segment,
    segment_documents,
    write_segment,
)
from assistant.ocr import flagged_location, low_confidence_pages
from assistant.types import Chunk

log = logging.getLogger("assistant.index")

__all__ = ["DOC_COLUMNS", "SCHEMA", "DocumentRecord", "IndexSnapshot", "IndexStore", "NewDocument",
           "exclusive_lock", "faiss_module", "list_indexes", "plan_merge"]

#: Size-tiered merging: segments under MERGE_FLOOR live chunks form the lowest tier, each further tier is
#: MERGE_FACTOR times larger; a tier holding MERGE_FACTOR segments is merged into one. Each chunk is thus
#: rewritten about log4(n / 256) times over its life (6 times up to 1M chunks) and a snapshot has at most
#: ~3 segments per tier (about 20 at 1M chunks).
MERGE_FACTOR = 4
MERGE_FLOOR = 256
#: A segment whose chunks are more than this share deleted is rewritten without them.
MERGE_DEAD_SHARE = 0.5
#: Generations kept on disk (with their segments): the newest few, and any written in the last few
#: minutes, so a reader that opened one of them keeps working while a batch commits after every file.
KEEP_GENERATIONS = 3
KEEP_SECONDS = 60.0
#: Names the segments a running merge reads, so no cleanup removes them under it.
MERGING_FILE = "MERGING"
#: Test hook: ``ASSISTANT_INDEX_PAUSE=commit|merge`` stops the writer just before it switches CURRENT
#: (``merged``: a merge once its segment is written, before it takes the publish lock) and creates the file
#: named by ``ASSISTANT_INDEX_PAUSE_FILE``; a crash test kills it there, or creates the file named by
#: ``ASSISTANT_INDEX_RESUME_FILE`` to let it go on.
PAUSE_ENV = "ASSISTANT_INDEX_PAUSE"


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

    def segment_doc(self) -> SegmentDoc:
        low_ocr = low_confidence_pages(self.record.metadata)   # their chunks' locations carry the OCR flag
        rows = [(c.doc_id, c.ordinal, c.text, c.title, c.section, flagged_location(c.location, c.page, low_ocr),
                 c.page, c.article, " ".join(t)) for c, t in zip(self.chunks, self.terms, strict=True)]
        return SegmentDoc(self.record.row(), rows, self.vectors, [list(t) for t in self.terms])


@contextmanager
def exclusive_lock(path: Path, wait: bool = False) -> Iterator[bool]:
    """An exclusive file lock held for the block; yields False when another process (or another open of the
    file in this one) holds it — or, with ``wait``, waits for it."""
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _number(name: str) -> int:
    try:
        return int(name.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def plan_merge(segments: Sequence[tuple[int, int]]) -> list[int]:
    """Which segments to merge next, given (positions, live chunks) per segment; [] when none.

    The lowest tier holding MERGE_FACTOR segments is merged whole; otherwise a segment mostly deleted is
    rewritten alone.
    """
    tiers: dict[int, list[int]] = {}
    for i, (_, live) in enumerate(segments):
        tier = 0 if live < MERGE_FLOOR else 1 + int(math.log(live / MERGE_FLOOR, MERGE_FACTOR))
        tiers.setdefault(tier, []).append(i)
    for tier in sorted(tiers):
        if len(tiers[tier]) >= MERGE_FACTOR:
            return tiers[tier]
    for i, (size, live) in enumerate(segments):
        if size and (size - live) > MERGE_DEAD_SHARE * size:
            return [i]
    return []


class IndexStore:
    """Names and locks one index folder; opens snapshots, commits segments and merges them."""

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
        """The live generation's manifest with its documents (read from the segments' small JSON files)."""
        return load_manifest(self.current_dir())

    def open(self) -> IndexSnapshot:
        return IndexSnapshot(self.current_dir())

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.path / ".lock") as mine:
            if not mine:
                raise IndexNotFound(f"색인 '{self.name}'에 다른 작업이 쓰는 중입니다. 끝난 뒤 다시 실행하세요.")
            yield

    @contextmanager
    def publish_lock(self) -> Iterator[None]:
        """Blocking and short: one generation switch at a time, the writer's or the merger's. Whoever holds
        it sees the folder still (a backup takes it with the write lock while it links the files)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.path / ".publish.lock", wait=True):
            yield

    def merge_in_background(self, hnsw_m: int = 32) -> None:
        """Start merging as the size tiers say in a background thread of this process, unless one runs
        already for this index (here, or in another process: then that one picks up the new segments)."""
        key = str(self.path.resolve())
        with _MERGERS_LOCK:
            running = _MERGERS.get(key)
            if running is not None and not running.done:
                running.again = True
                return
            thread = _Merger(self, hnsw_m)
            _MERGERS[key] = thread
            thread.start()

    def wait_merges(self) -> Exception | None:
        """Until this process's background merge of this index (if any) has finished; returns the error
        that stopped it, if one did (it is logged: the index stays valid, only less merged)."""
        with _MERGERS_LOCK:
            thread = _MERGERS.get(str(self.path.resolve()))
        if thread is None:
            return None
        thread.join()
        return thread.error

    def remove(self) -> None:
        if not self.path.exists():
            raise IndexNotFound(f"색인 '{self.name}'이 없습니다 ({self.path}).")
        shutil.rmtree(self.path)

    # ------------------------------------------------------------------ writing (the caller holds write_lock)

    def commit(self, manifest: Manifest, base: IndexSnapshot | None, keep: set[str],
               new_docs: Sequence[NewDocument], dense_kind: str, hnsw_m: int = 32,
               merge: bool = True) -> Manifest:
        """Keep ``keep`` (doc ids of the index), add ``new_docs`` in one new segment; switch to it.

        Documents of the index not kept (and kept ones that ``new_docs`` replace) become tombstones. The
        segments are those of the live generation, which a background merge may have changed since the
        caller read ``base``: a merge changes segments, never which documents are live, so ``keep`` holds.
        ``base`` None means a new index (``manifest`` a fresh one). With ``merge``, a background merge is
        started when the size tiers ask for one. Returns the new manifest.
        """
        self._remove_temporaries(".seg-*.tmp-*")
        replaced = {d.record.doc_id for d in new_docs}
        tmp: Path | None = None
        size = 0
        if new_docs:   # the slow part, outside the publish lock: a merge can switch generations meanwhile
            tmp = self.path / f".seg-new.tmp-{os.getpid()}-{threading.get_ident()}"
            size = write_segment(tmp, (d.segment_doc() for d in new_docs), int(manifest.embedder["dim"]),
                                 dense_kind, hnsw_m)
        with self.publish_lock():
            self._clean_stale()
            current = self.open() if base is not None else None
            now = current.manifest if current is not None else manifest
            generation = now.generation + 1
            segments = self._carry(current, keep - replaced) if current is not None else []
            if tmp is not None:
                name = f"seg-{generation:06d}"
                os.replace(tmp, self.path / name)
                segments.append(SegmentRef(name, size))
            documents = {d: now.documents[d] for d in keep - replaced if d in now.documents}
            documents.update({d.record.doc_id: DocumentEntry(d.record.source, d.record.sha256, d.record.title,
                                                             len(d.chunks)) for d in new_docs})
            out = self._publish(replace(now, generation=generation, dense_index=dense_kind, segments=segments,
                                        documents=documents), "commit")
            self._drop_old()
        if merge and plan_merge([(r.size, r.size - r.dead_chunks) for r in out.segments]):
            self.merge_in_background(hnsw_m)
        return out

    def merge(self, force: bool = False, hnsw_m: int = 32, wait: bool = True) -> tuple[int, int]:
        """Merge segments as the size tiers say (``force``: everything into one segment, without deleted
        chunks), in the calling thread; returns the segment counts (before, after). Commits may go on
        meanwhile. Without ``wait``, returns (n, n) at once when another merger is running."""
        if self.manifest().format_version == 1:   # the first layout becomes a segmented generation first
            with self.write_lock():
                manifest = self.manifest()
                if manifest.format_version == 1:
                    self.commit(manifest, self.open(), set(manifest.documents), [], manifest.dense_index,
                                hnsw_m, merge=False)
        with self._merge_lock(wait) as mine:
            before = len(self.manifest().segments)
            if not mine:
                return before, before
            self._remove_temporaries(".merge-*.tmp-*")
            while True:
                snap = self.open()
                sizes = [(ref.size, ref.size - ref.dead_chunks) for ref in snap.refs]
                if not sizes:   # every document removed: nothing to merge
                    break
                if force:
                    plan = list(range(len(sizes))) if len(sizes) > 1 or sizes[0][0] != sizes[0][1] else []
                else:
                    plan = plan_merge(sizes)
                if not plan:
                    break
                self._merge_once(snap, [snap.refs[i].name for i in plan], hnsw_m)
                if force:
                    break
            return before, len(self.manifest().segments)

    @contextmanager
    def _merge_lock(self, wait: bool) -> Iterator[bool]:
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.path / ".merge.lock", wait) as mine:
            try:
                yield mine
            finally:
                if mine:
                    (self.path / MERGING_FILE).unlink(missing_ok=True)

    def _merge_once(self, snap: IndexSnapshot, names: list[str], hnsw_m: int) -> None:
        """Rewrite the segments ``names`` as one, without their deleted documents, and switch to it.

        The segment is written from the snapshot ``snap``, with no lock held; the switch
        then reconciles it with the live generation: a document of the merged segment that a commit has
        meanwhile deleted or replaced is listed as deleted in it (or, when none is left, the merged segment
        is dropped), so a merge never brings a document back.
        """
        write_json_atomic(self.path / MERGING_FILE, names)   # _drop_old keeps these
        manifest = snap.manifest
        chosen = [i for i, ref in enumerate(snap.refs) if ref.name in names]
        tmp = self.path / f".merge-{manifest.generation:06d}.tmp-{os.getpid()}"
        docs = (d for i in chosen for d in snap.segments[i].export(snap.live_documents(i)))
        size = write_segment(tmp, docs, int(manifest.embedder["dim"]), manifest.dense_index, hnsw_m)
        merged = segment_documents(tmp)
        held = {name: set(segment_documents(self.path / name)) for name in names}   # immutable: read unlocked
        _pause("merged")
        with self.publish_lock():
            self._clean_stale()
            now = self.manifest()
            refs = {ref.name: ref for ref in now.segments}
            if not refs.keys() & set(names):   # every document of the sources was deleted meanwhile
                shutil.rmtree(tmp, ignore_errors=True)
                return
            alive: set[str] = set()
            for name in names:
                if name in refs:
                    alive.update(held[name] - set(refs[name].deleted))
            dead = sorted(d for d in merged if d not in alive)
            generation = now.generation + 1
            kept = [ref for ref in now.segments if ref.name not in names]
            if len(dead) < len(merged):
                name = f"seg-{generation:06d}"
                os.replace(tmp, self.path / name)
                at = min((i for i, ref in enumerate(now.segments) if ref.name in names), default=len(kept))
                kept.insert(at, SegmentRef(name, size, dead, sum(merged[d].chunks for d in dead)))
            self._publish(replace(now, generation=generation, segments=kept), "merge")
            self._drop_old()
        shutil.rmtree(tmp, ignore_errors=True)
        for listener in list(_MERGE_LISTENERS):
            try:
                listener(self.path, size)
            except Exception as exc:  # noqa: BLE001 — a listener never undoes a merge
                log.warning("merge listener failed for index %s: %s", self.name, exc)

    def set_access(self, doc_id: str, access_level: str, department: str = "") -> bool:
        """Change one document's access level (and department); False if it is absent.

        Segments are immutable, so the document is tombstoned and re-added in a new small segment with its
        stored chunks, vectors (reconstructed from FAISS) and BM25 terms; only its record differs. Nothing is
        re-parsed or re-embedded, and nothing else is rewritten.
        """
        with self.write_lock():
            base = self.open()
            found = base.segment_of(doc_id)
            if found is None:
                return False
            stored = next(iter(found.export([doc_id])))
            columns = dict(zip(DOC_COLUMNS, stored.row, strict=True))
            if columns["access_level"] == access_level and columns["department"] == department:
                return True
            columns.update(access_level=access_level, department=department)
            record = DocumentRecord(**{**columns, "metadata": json.loads(columns["metadata"] or "{}")})
            chunks = [_chunk(dict(zip(CHUNK_COLUMNS, r, strict=True))) for r in stored.chunks]
            manifest = base.manifest
            keep = set(manifest.documents) - {doc_id}
            self.commit(manifest, base, keep, [NewDocument(record, chunks, stored.vectors, stored.terms)],
                        manifest.dense_index)
        return True

    def _carry(self, base: IndexSnapshot, keep: set[str]) -> list[SegmentRef]:
        """The base's segments with the documents not kept added to their tombstones (empty ones dropped)."""
        if base.manifest.format_version == 1:
            self._add_postings(base.segments[0])
        out = []
        for ref, seg in zip(base.refs, base.segments, strict=True):
            gone = set(ref.deleted)
            newly = sorted(d for d in seg.documents if d not in gone and d not in keep)
            if len(gone) + len(newly) >= len(seg.documents):
                continue  # nothing live is left in it
            dead = ref.dead_chunks + sum(base.manifest.documents[d].chunks for d in newly)
            out.append(SegmentRef(ref.name, ref.size, sorted(gone | set(newly)), dead))
        return out

    def _add_postings(self, seg: Segment) -> None:
        """Give a first-layout generation (about to be used as a segment) its postings files, once."""
        if Postings.exists(seg.path):
            return
        tmp = seg.path / f".postings.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        seg.postings.save(tmp)
        fsync_tree(tmp)
        for name in FILES:   # in this order: the last one marks the postings complete
            os.replace(tmp / name, seg.path / name)
        tmp.rmdir()
        fsync_dir(seg.path)

    def _publish(self, manifest: Manifest, stage: str) -> Manifest:
        """Write a generation manifest and switch CURRENT to it."""
        now = _now()
        manifest = replace(manifest, format_version=2, updated=now, created=manifest.created or now,
                           chunk_count=sum(e.chunks for e in manifest.documents.values()))
        final = self.path / f"gen-{manifest.generation:06d}"
        tmp = self.path / f".{final.name}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        # documents are listed by their segments: a commit writes O(new documents), not O(all documents)
        data = replace(manifest, documents={}).to_json()
        write_json_atomic(tmp / "manifest.json", data)
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(self.path)
        _pause(stage)
        current_tmp = self.path / "CURRENT.tmp"
        with open(current_tmp, "w", encoding="utf-8") as fh:
            fh.write(final.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(current_tmp, self.path / "CURRENT")
        fsync_dir(self.path)
        return manifest

    def _clean_stale(self) -> None:
        """Under the publish lock: remove what a killed switch left — a half-written generation folder, and
        generations or segments newer than the live generation (renamed into place, never made current)."""
        for p in self.path.glob(".gen-*.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        if not self.exists():
            return
        live = _number(self.current_dir().name)
        for p in list(self.path.glob("gen-*")) + list(self.path.glob("seg-*")):
            if p.is_dir() and _number(p.name) > live:
                shutil.rmtree(p, ignore_errors=True)

    def _remove_temporaries(self, pattern: str) -> None:
        """Remove half-written folders matching ``pattern``: the writer (write lock) its ``.seg-*``, the merger
        (merge lock) its ``.merge-*`` — each owner cleans only what a killed one of its kind left."""
        for p in self.path.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)

    def _drop_old(self) -> None:
        """Under the publish lock: keep the newest generations (KEEP_GENERATIONS, and those younger than
        KEEP_SECONDS), the segments they use and those a running merge reads; remove the rest."""
        live = _number(self.current_dir().name)
        gens = sorted((p for p in self.path.glob("gen-*") if p.is_dir() and _number(p.name) <= live),
                      key=lambda p: _number(p.name))
        recent = time.time() - KEEP_SECONDS
        kept = gens[-KEEP_GENERATIONS:] + [p for p in gens[:-KEEP_GENERATIONS] if _mtime(p) > recent]
        used = {p.name for p in kept}
        try:   # the sources of a running merge stay until it switches, even if every document left them
            used.update(json.loads((self.path / MERGING_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
        for gen in kept:
            try:
                m = read_manifest(gen / "manifest.json")
            except (OSError, ValueError, AssistantError):
                continue
            used.update(ref.name for ref in m.segments)
        for p in list(self.path.glob("gen-*")) + list(self.path.glob("seg-*")):
            if p.is_dir() and p.name not in used:
                shutil.rmtree(p, ignore_errors=True)


class _Merger(threading.Thread):
    """A background merge of one index: merges until the size tiers are satisfied, then ends; a commit made
    meanwhile that asks for another merge sets ``again`` and the loop runs once more."""

    def __init__(self, store: IndexStore, hnsw_m: int) -> None:
        super().__init__(name=f"merge-{store.name}", daemon=True)
        self.store = store
        self.hnsw_m = hnsw_m
        self.again = True
        self.error: Exception | None = None
        self.done = False

    def run(self) -> None:
        try:
            while True:
                with _MERGERS_LOCK:   # decided under the lock merge_in_background takes: no request is lost
                    if not self.again:
                        self.done = True
                        return
                    self.again = False
                self.store.merge(hnsw_m=self.hnsw_m, wait=False)
        except Exception as exc:  # noqa: BLE001 — the index stays valid; say why it is less merged
            self.error = exc
            log.warning("background merge of index %s failed: %s", self.store.name, exc)
        finally:
            self.done = True


_MERGERS: dict[str, _Merger] = {}
_MERGERS_LOCK = threading.Lock()
#: Called as ``listener(index folder, chunks of the merged segment)`` after a merge switched to its segment:
#: the web app asks its semantic filler to build the big segment's approximate index (assistant.index.
#: semantic_ann), which no commit would otherwise trigger.
_MERGE_LISTENERS: list[Callable[[Path, int], None]] = []


def add_merge_listener(listener: Callable[[Path, int], None]) -> None:
    _MERGE_LISTENERS.append(listener)


def remove_merge_listener(listener: Callable[[Path, int], None]) -> None:
    if listener in _MERGE_LISTENERS:
        _MERGE_LISTENERS.remove(listener)


def _mtime(path: Path) -> float:
    try:
        return (path / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


def _pause(stage: str) -> None:
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get("ASSISTANT_INDEX_PAUSE_FILE")
    if marker:
        Path(marker).write_text(stage, encoding="utf-8")
    resume = os.environ.get("ASSISTANT_INDEX_RESUME_FILE")
    if not resume:
        threading.Event().wait()   # until the test kills this process
    while not Path(resume or "").exists():
        time.sleep(0.02)


def load_manifest(gen_dir: Path) -> Manifest:
    """A generation's manifest with ``documents`` and ``chunk_count`` of its live documents."""
    manifest = read_manifest(gen_dir / "manifest.json")
    if manifest.format_version == 1:
        return manifest
    documents: dict[str, DocumentEntry] = {}
    for ref in manifest.segments:
        gone = set(ref.deleted)
        documents.update((k, v) for k, v in segment_documents(gen_dir.parent / ref.name).items() if k not in gone)
    return replace(manifest, documents=documents, chunk_count=sum(e.chunks for e in documents.values()))


def _doc_dict(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["metadata"] = json.loads(out.get("metadata") or "{}")
    if "n_chunks" in out:
        out["chunks"] = out.pop("n_chunks")
    return out


def _chunk(r: Any) -> Chunk:
    return Chunk(doc_id=r["doc_id"], ordinal=r["ordinal"], text=r["text"], title=r["title"], section=r["section"],
                 location=r["location"], page=r["page"], article=r["article"])


def list_indexes(root: Path) -> list[str]:
    if not Path(root).is_dir():
        return []
    return sorted(p.name for p in Path(root).iterdir() if (p / "CURRENT").is_file())


class DenseSegments:
    """The FAISS indexes of a snapshot's segments, addressed by global position."""

    def __init__(self, parts: list[tuple[int, int, Any]]) -> None:
        self.parts = parts   # (offset, size, FAISS index) per segment with vectors
        self.d = int(parts[0][2].d)
        self.ntotal = sum(n for _, n, _ in parts)

    def reconstruct_batch(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        out = np.zeros((len(positions), self.d), dtype=np.float32)
        for offset, n, index in self.parts:
            inside = (positions >= offset) & (positions < offset + n)
            if inside.any():
                out[inside] = index.reconstruct_batch(positions[inside] - offset)
        return out

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        return self.reconstruct_batch(np.arange(start, start + n, dtype=np.int64))


class IndexSnapshot:
    """A read-only view of one generation: its segments' positions one after another. Thread-safe."""

    def __init__(self, gen_dir: Path) -> None:
        self.path = gen_dir
        self.manifest = load_manifest(gen_dir)
        if self.manifest.format_version == 1:   # first layout: the generation folder is the one segment
            self.refs = [SegmentRef(gen_dir.name, -1)]
        else:
            self.refs = list(self.manifest.segments)
        self.segments = [open_segment(gen_dir.parent / ref.name) for ref in self.refs]
        self.refs = [replace(ref, size=seg.size) for ref, seg in zip(self.refs, self.segments, strict=True)]
        sizes = [seg.size for seg in self.segments]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        doc_offsets = np.concatenate([[0], np.cumsum([seg.max_rowid for seg in self.segments])]).astype(np.int64)
        self.doc_offsets = doc_offsets
        self.deleted = [frozenset(ref.deleted) for ref in self.refs]
        self.dead_positions = [seg.positions_of(sorted(gone)) if gone else np.zeros(0, np.int64)
                               for seg, gone in zip(self.segments, self.deleted, strict=True)]
        self._doc_segment = {d: i for i, seg in enumerate(self.segments) for d in seg.documents
                             if d not in self.deleted[i]}
        self.pos_doc = (np.concatenate([seg.pos_doc + doc_offsets[i] for i, seg in enumerate(self.segments)])
                        if self.segments else np.zeros(0, dtype=np.int64))
        local_live: list[np.ndarray | None] = []
        for seg, dead in zip(self.segments, self.dead_positions, strict=True):
            if len(dead):
                alive = np.ones(seg.size, dtype=bool)
                alive[dead] = False
                local_live.append(alive)
            else:
                local_live.append(None)
        #: live positions (a read-only mask), or None when no position of this snapshot is deleted
        self.live: np.ndarray | None = None
        if any(a is not None for a in local_live):
            self.live = np.concatenate([a if a is not None else np.ones(seg.size, dtype=bool)
                                        for a, seg in zip(local_live, self.segments, strict=True)])
            self.live.flags.writeable = False
        self.live_count = self.size - sum(len(d) for d in self.dead_positions)
        dense = [(int(self.offsets[i]), seg.size, seg.faiss) for i, seg in enumerate(self.segments)
                 if seg.faiss is not None]
        self.faiss: DenseSegments | None = DenseSegments(dense) if dense else None
        self.bm25: SegmentedBM25 | None = SegmentedBM25(
            [(int(self.offsets[i]), seg.postings, local_live[i]) for i, seg in enumerate(self.segments)],
            self.size) if self.segments else None
        self._local = threading.local()

    @property
    def size(self) -> int:
        """Number of positions 0..size-1: the chunks of every segment, deleted ones included until a merge
        (``live`` tells which count; ``live_count`` how many)."""
        return len(self.pos_doc)

    # ------------------------------------------------------------------ segments

    def locate(self, pos: int) -> tuple[int, int]:
        """(segment index, local position) of a global position."""
        i = int(np.searchsorted(self.offsets, pos, side="right")) - 1
        return i, int(pos) - int(self.offsets[i])

    def segment_of(self, doc_id: str) -> Segment | None:
        i = self._doc_segment.get(doc_id)
        return self.segments[i] if i is not None else None

    def live_documents(self, i: int) -> list[str]:
        """Doc ids of segment i that this generation has not deleted."""
        return [d for d in self.segments[i].documents if d not in self.deleted[i]]

    def _per_segment(self) -> Iterator[tuple[int, Segment, frozenset[str]]]:
        for i, seg in enumerate(self.segments):
            yield i, seg, self.deleted[i]

    def _doc_query(self, doc_id: str) -> tuple[int, Segment] | None:
        i = self._doc_segment.get(doc_id)
        return (i, self.segments[i]) if i is not None else None

    def db(self) -> sqlite3.Connection:
        """One SQLite connection showing ``documents`` and ``chunks`` of the live generation with global
        positions, for ad-hoc reading (tests, benchmarks). Search and tasks use the methods below, which
        query each segment with its own indexes."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if len(self.segments) == 1 and self.live is None:
            conn = self.segments[0].db()
        else:
            conn = self._view_connection()
        self._local.conn = conn
        return conn

    def _view_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)
        if len(self.segments) > limit:
            raise AssistantError(f"색인 '{self.manifest.name}'의 세그먼트가 {len(self.segments)}개라 한 번에 열 수 "
                                 f"없습니다(최대 {limit}개). 'assistant index merge'로 합친 뒤 다시 하세요.")
        conn.row_factory = sqlite3.Row
        conn.execute("CREATE TEMP TABLE dead(seg INTEGER, doc_id TEXT)")
        docs, chunks = [], []
        cols = ", ".join(f"c.{c}" for c in CHUNK_COLUMNS)
        for i, seg, gone in self._per_segment():
            conn.execute("ATTACH DATABASE ? AS ?", (f"file:{seg.path / 'meta.sqlite'}?mode=ro", f"s{i}"))
            conn.executemany("INSERT INTO dead VALUES (?, ?)", [(i, d) for d in gone])
            alive = f"doc_id NOT IN (SELECT doc_id FROM dead WHERE seg = {i})"
            docs.append(f"SELECT * FROM s{i}.documents WHERE {alive}")
            chunks.append(f"SELECT c.pos + {int(self.offsets[i])} AS pos, {cols} FROM s{i}.chunks c WHERE {alive}")
        conn.execute("CREATE TEMP VIEW documents AS " + " UNION ALL ".join(docs))
        conn.execute("CREATE TEMP VIEW chunks AS " + " UNION ALL ".join(chunks))
        return conn

    # ------------------------------------------------------------------ the index API for tasks and the web
    # Tasks and the web app read the index through these methods, never through its tables. ``where`` and
    # ``params`` come from :meth:`assistant.retrieve.filters.SearchFilter.sql` (a condition on documents).

    def chunk_rows(self, positions: Sequence[int]) -> dict[int, sqlite3.Row]:
        """The rows of these positions (chunk columns, ``pos`` global, and their document's columns)."""
        by_segment: dict[int, list[int]] = {}
        for p in positions:
            i, local = self.locate(int(p))
            by_segment.setdefault(i, []).append(local)
        cols = ", ".join(f"c.{c}" for c in CHUNK_COLUMNS)
        out: dict[int, sqlite3.Row] = {}
        for i, wanted in by_segment.items():
            marks = ",".join("?" * len(wanted))
            sql = (f"SELECT c.pos + ? AS pos, {cols}, d.source, d.doc_type, d.access_level, d.department, "
                   f"d.date AS doc_date FROM chunks c JOIN documents d USING(doc_id) WHERE c.pos IN ({marks})")
            out.update((r["pos"], r) for r in self.segments[i].db().execute(sql, [int(self.offsets[i]), *wanted]))
        return out

    def doc_chunk_positions(self, doc_id: str) -> list[int]:
        found = self._doc_query(doc_id)
        if found is None:
            return []
        i, seg = found
        rows = seg.db().execute("SELECT pos FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,))
        return [r[0] + int(self.offsets[i]) for r in rows]

    def documents(self) -> list[sqlite3.Row]:
        rows = []
        for i, seg, gone in self._per_segment():
            rows += [r for r in seg.db().execute("SELECT rowid + ? AS rowid, * FROM documents",
                                                 (int(self.doc_offsets[i]),)) if r["doc_id"] not in gone]
        return sorted(rows, key=lambda r: r["source"])

    def doc_rowids(self, where: str, params: Sequence[Any]) -> np.ndarray:
        """Global document numbers (as in ``pos_doc``) of the live documents matching the condition."""
        out: list[int] = []
        for i, seg, gone in self._per_segment():
            rows = seg.db().execute(f"SELECT rowid, doc_id FROM documents WHERE {where}", list(params))
            out += [r[0] + int(self.doc_offsets[i]) for r in rows if r[1] not in gone]
        return np.array(out, dtype=np.int64)

    def find_documents(self, where: str = "1=1", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Documents matching an access condition, with their chunk counts, by title."""
        found = []
        for _, seg, gone in self._per_segment():
            rows = seg.db().execute(
                "SELECT d.*, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.doc_id) AS n_chunks "
                f"FROM documents d WHERE ({where})", list(params)).fetchall()
            found += [_doc_dict(r) for r in rows if r["doc_id"] not in gone]
        return sorted(found, key=lambda d: d["title"])

    def document(self, key: str, where: str = "1=1", params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """One document by doc id or source path, if it matches the access condition."""
        for _, seg, gone in self._per_segment():
            rows = seg.db().execute(f"SELECT * FROM documents WHERE ({where}) AND (doc_id = ? OR source = ?)",
                                    [*params, key, key]).fetchall()
            for row in rows:
                if row["doc_id"] not in gone:
                    return _doc_dict(row)
        return None

    def chunks_of(self, doc_id: str, ordinals: Sequence[int] | None = None) -> list[Chunk]:
        """Chunks of one document in order (all, or the given ordinals)."""
        found = self._doc_query(doc_id)
        if found is None:
            return []
        db = found[1].db()
        if ordinals is None:
            rows = db.execute("SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,)).fetchall()
        else:
            marks = ",".join("?" * len(ordinals))
            rows = db.execute(f"SELECT * FROM chunks WHERE doc_id=? AND ordinal IN ({marks}) ORDER BY ordinal",
                              [doc_id, *[int(o) for o in ordinals]]).fetchall()
        return [_chunk(r) for r in rows]

    def chunk_terms(self, doc_id: str, ordinals: Sequence[int]) -> list[list[str]]:
        """The BM25 terms stored for the given chunks (content morphemes, as indexed)."""
        found = self._doc_query(doc_id)
        if found is None:
            return []
        marks = ",".join("?" * len(ordinals))
        rows = found[1].db().execute(
            f"SELECT terms FROM chunks WHERE doc_id=? AND ordinal IN ({marks}) ORDER BY ordinal",
            [doc_id, *[int(o) for o in ordinals]]).fetchall()
        return [(r[0] or "").split() for r in rows]

    def section_chunk(self, doc_id: str, section: str) -> tuple[Chunk, list[str]] | None:
        """The first chunk of a named section (e.g. a 법제처 해석례's "회답") with its terms."""
        found = self._doc_query(doc_id)
        if found is None:
            return None
        row = found[1].db().execute("SELECT * FROM chunks WHERE doc_id=? AND section=? ORDER BY ordinal LIMIT 1",
                                    (doc_id, section)).fetchone()
        return (_chunk(row), (row["terms"] or "").split()) if row is not None else None

    def term_df(self) -> tuple[dict[str, int], int]:
        """Document frequency of every indexed morpheme over the live chunks, and the live chunk count."""
        if self.bm25 is None:
            return {}, self.live_count
        return self.bm25.term_df(), self.bm25.num_docs

    def position_texts(self, live_only: bool = False) -> list[str]:
        """The text each position is embedded as (title, section path, chunk text), in position order —
        or, with ``live_only``, of the live positions only (what the semantic pass needs to embed)."""
        texts: list[str] = []
        for _, seg, gone in self._per_segment():
            if live_only and gone:
                texts += [t for t, d in zip(seg.texts(), seg.doc_ids(), strict=True) if d not in gone]
            else:
                texts += seg.texts()
        return texts
