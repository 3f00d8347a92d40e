"""Ingestion: files → parse → chunk → morphemes + vectors → a new index generation.

Unchanged files (same path, same SHA-256) are skipped without parsing; a changed file replaces its
chunks; a file that fails is reported with its reason and never stops the batch. Work is committed in
segments (see ``assistant.index.store``) as soon as each batch of files is embedded — a commit writes only the
new documents, so it costs milliseconds — and an interruption loses only the files still being processed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError, ParseError
from assistant.index.embedders import Embedder
from assistant.index.manifest import Manifest
from assistant.index.store import DocumentRecord, IndexSnapshot, IndexStore, NewDocument
from assistant.ingest.base import nfc, supported_extensions
from assistant.ingest.budget import budget_of, parse_with_budget
from assistant.ingest.chunking import ChunkParams, chunk_blocks
from assistant.korean.morph import content_terms_batch
from assistant.korean.sentences import split_sentences_batch
from assistant.retrieve.filters import ACCESS_LEVELS
from assistant.types import Chunk, ParsedDocument

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    path: str
    status: str  # ok | failed | skipped
    reason: str = ""
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)  # ok, but something was reshaped or replaced


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=lambda: {"parse": 0.0, "terms": 0.0, "embed": 0.0, "write": 0.0})
    removed: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def doc_id_for(path: Path) -> str:
    """Stable id from the file's absolute path: re-ingesting the same file replaces it."""
    return "d" + hashlib.sha1(nfc(str(path.resolve())).encode("utf-8")).hexdigest()[:15]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """Files to ingest, with True when the user named the file itself (not found in a folder walk)."""
    exts = set(supported_extensions())
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts):
                    yield p, p.suffix.lower() in exts
        else:
            yield path, True


def discover_all(paths: Iterable[Path], total_hint: Callable[[int], None] | None = None) -> list[tuple[Path, bool]]:
    """Every file to ingest (see :func:`discover`), announced to ``total_hint`` before any work starts."""
    files = list(discover(paths))
    if total_hint:
        total_hint(len(files))
    return files


def chunk_params(settings: Settings) -> ChunkParams:
    return ChunkParams(settings.chunk_max_chars, settings.chunk_min_chars, settings.chunk_overlap_sentences)


@dataclass
class _Parsed:
    """A parsed file waiting for sentence splitting, chunking, morpheme analysis and embedding.

    ``to_split`` holds the passages too long for one chunk, whose sentence boundaries Kiwi must find;
    ``estimate`` is the chunk count with a regex sentence splitter, used only to size batches.
    """

    path: Path
    doc_id: str
    digest: str
    parsed: ParsedDocument
    outcome: FileOutcome
    to_split: list[str]
    estimate: int
    chunks: list[Chunk] = field(default_factory=list)

    def record(self, access_level: str, department: str) -> DocumentRecord:
        meta = self.parsed.metadata
        return DocumentRecord(
            doc_id=self.doc_id, source=nfc(str(self.path.resolve())), title=self.parsed.title,
            doc_type=self.parsed.doc_type, sha256=self.digest, size=self.path.stat().st_size,
            access_level=access_level, department=department or str(meta.get("department", "")),
            date=str(meta.get("effective_date") or meta.get("date") or ""), metadata=meta)


class Ingestor:
    """Adds files to one index. Create, call :meth:`run`, read the report."""

    def __init__(self, settings: Settings, store: IndexStore, embedder: Embedder,
                 access_level: str = "공개", department: str = "") -> None:
        if access_level not in ACCESS_LEVELS:
            raise AssistantError(f"열람 등급은 {', '.join(ACCESS_LEVELS)} 중 하나여야 합니다 (입력: {access_level}).")
        if access_level == "부서" and not department:
            raise AssistantError("'부서' 등급 문서는 --department로 담당 부서를 지정해야 합니다.")
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.access_level = access_level
        self.department = department
        self.params = chunk_params(settings)
        self.embed_max_chars = settings.embed_max_chars
        self.budget = budget_of(settings)

    def _follow(self, manifest: Manifest) -> None:
        """Chunk and embed new files the way the index's existing files were (its manifest), so one index
        never mixes chunk sizes; the settings apply to new indexes (remove and re-ingest to change them)."""
        rec = manifest.chunking
        self.params = ChunkParams(int(rec.get("max_chars", self.params.max_chars)),
                                  int(rec.get("min_chars", self.params.min_chars)),
                                  int(rec.get("overlap_sentences", self.params.overlap_sentences)))
        self.embed_max_chars = int(rec.get("embed_max_chars", self.embed_max_chars))

    def run(self, paths: Iterable[Path], on_file: Callable[[FileOutcome], None] | None = None,
            total_hint: Callable[[int], None] | None = None, wait_merges: bool = True) -> IngestReport:
        """Ingest ``paths``, committing as files finish. Segment merges the commits ask for run in the
        background; ``wait_merges`` waits for them at the end (after the write lock is released), as a
        command that is about to exit should — a server passes False and lets them finish on their own."""
        report, start, files = IngestReport(), time.perf_counter(), discover_all(paths, total_hint)
        with self.store.write_lock():
            base, manifest = self._open_base()
            self._follow(manifest)
            known = dict(manifest.documents)
            seen: set[str] = set()
            pending: list[NewDocument] = []
            parsed: list[_Parsed] = []
            # outcomes are reported once their file's batch is chunked (they carry its chunk count), in
            # file order
            held: list[FileOutcome] = []

            def release() -> None:
                for outcome in held:
                    report.outcomes.append(outcome)
                    if on_file:
                        on_file(outcome)
                held.clear()

            for path, named in files:
                outcome, doc = self._one(path, named, known, seen, report)
                held.append(outcome)
                if doc is not None:
                    parsed.append(doc)
                # Kiwi and the embedder pay a fixed cost per call, and Kiwi splits a list of texts on all
                # its workers: split, analyse and embed several documents at once.
                # (Embedding in a background thread while parsing was measured slower on 2 cores.)
                if sum(d.estimate for d in parsed) >= self.settings.embed_batch_size:
                    pending += self._process(parsed, report)
                    parsed = []
                if not parsed:
                    release()
                if pending:  # every finished file is committed at once: a killed batch keeps it
                    base, manifest = self._commit(base, manifest, pending, set(), report)
                    pending = []
            pending += self._process(parsed, report)
            release()
            if pending:
                self._commit(base, manifest, pending, set(), report)
        if wait_merges:
            self.store.wait_merges()
        report.seconds = time.perf_counter() - start
        return report

    def remove(self, selectors: Iterable[str], wait_merges: bool = True) -> list[str]:
        """Remove documents by doc id, source path or source prefix; return the removed ids (merges as in
        :meth:`run`)."""
        with self.store.write_lock():
            base, manifest = self._open_base()
            wanted = [nfc(s) for s in selectors]
            resolved = [str(Path(s).resolve()) for s in wanted]
            drop = {doc_id for doc_id, e in manifest.documents.items()
                    if doc_id in wanted
                    or any(e.source == r or e.source.startswith(r.rstrip("/") + "/") for r in resolved)}
            if drop:
                self._commit(base, manifest, [], drop, IngestReport())
        if wait_merges:
            self.store.wait_merges()
        return sorted(drop)

    def _open_base(self) -> tuple[IndexSnapshot | None, Manifest]:
        if self.store.exists():
            base = self.store.open()
            base.manifest.check_embedder(self.embedder.identity)
            return base, base.manifest
        return None, Manifest(name=self.store.name, embedder=self.embedder.identity,
                              chunking={**self.params.as_dict(), "embed_max_chars": self.embed_max_chars})

    def _one(self, path: Path, named: bool, known: dict, seen: set[str],
             report: IngestReport) -> tuple[FileOutcome, _Parsed | None]:
        skipped, doc_id, digest = self.screen(path, named, known, seen)
        if skipped is not None:
            return skipped, None
        return self.parse_one(path, doc_id, digest, report)

    def screen(self, path: Path, named: bool, known: dict,
               seen: set[str]) -> tuple[FileOutcome | None, str, str]:
        """What can be decided without parsing: (an outcome when the file is skipped or unreadable, its doc
        id, its SHA-256). ``seen`` collects the doc ids of this batch."""
        shown = nfc(str(path))
        if not named:
            reason = f"지원하지 않는 형식이라 건너뜀 ({path.suffix or '확장자 없음'})"
            return FileOutcome(shown, "skipped", reason), "", ""
        try:
            doc_id = doc_id_for(path) if path.exists() else ""
            digest = sha256_of(path) if path.is_file() and path.stat().st_size else ""
        except OSError as exc:
            return _unreadable(path, exc), "", ""
        if doc_id and doc_id in seen:
            return FileOutcome(shown, "skipped", "같은 파일이 두 번 지정됨"), "", ""
        seen.add(doc_id)
        entry = known.get(doc_id)
        if entry is not None and entry.sha256 == digest:
            return FileOutcome(shown, "skipped", "변경 없음"), "", ""
        return None, doc_id, digest

    def parse_one(self, path: Path, doc_id: str, digest: str,
                  report: IngestReport) -> tuple[FileOutcome, _Parsed | None]:
        """Parse one screened file within its time and memory budget; a failure is an outcome, not an error."""
        shown = nfc(str(path))
        try:
            t0 = time.perf_counter()
            got = parse_with_budget(path, doc_id, self.params, self.budget)
            report.timings["parse"] += time.perf_counter() - t0
            outcome = FileOutcome(shown, "ok", "", got.estimate, got.warnings)
            return outcome, _Parsed(path, doc_id, digest, got.document, outcome, got.to_split, got.estimate)
        except ParseError as exc:
            return FileOutcome(shown, "failed", exc.reason), None
        except OSError as exc:
            return _unreadable(path, exc), None

    def prepare(self, files: list[tuple[Path, str, str]],
                report: IngestReport) -> list[tuple[FileOutcome, NewDocument | None]]:
        """Everything but the commit for screened files ``(path, doc id, digest)``: parse, chunk, analyse
        and embed them as one batch. This is the unit of work a distributed ingest sends to a worker."""
        outcomes: list[FileOutcome] = []
        parsed: list[_Parsed] = []
        for path, doc_id, digest in files:
            outcome, doc = self.parse_one(path, doc_id, digest, report)
            outcomes.append(outcome)
            if doc is not None:
                parsed.append(doc)
        by_id = {d.record.doc_id: d for d in self._process(parsed, report)}
        docs = {id(p.outcome): by_id.get(p.doc_id) for p in parsed}
        return [(o, docs.get(id(o))) for o in outcomes]

    def _process(self, docs: list[_Parsed], report: IngestReport) -> list[NewDocument]:
        """Split, chunk, analyse and embed a batch of parsed documents."""
        if not docs:
            return []
        known_terms = self._chunk(docs, report)
        return self._embed(self._analyse(docs, known_terms, report), report)

    def _chunk(self, docs: list[_Parsed], report: IngestReport) -> dict[str, list[str]]:
        """Chunk a batch with Kiwi's sentence boundaries, found for all its long passages in one parallel
        call; returns the content morphemes of the sentences Kiwi analysed, for :meth:`_analyse`."""
        t0 = time.perf_counter()
        texts = list(dict.fromkeys(t for d in docs for t in d.to_split))
        split = dict(zip(texts, split_sentences_batch(texts), strict=True))
        def sentences_of(text: str) -> list[str]:
            if text not in split:  # the first pass saw every such text; this is only a safety net
                split[text] = split_sentences_batch([text])[0]
            return [sentence for sentence, _ in split[text]]

        for d in docs:
            d.chunks = chunk_blocks(d.doc_id, d.parsed.title, d.parsed.blocks, self.params, sentences_of)
            d.outcome.chunks = len(d.chunks)
        report.timings["parse"] += time.perf_counter() - t0
        return {sentence: terms for rows in split.values() for sentence, terms in rows}

    def _analyse(self, docs: list[_Parsed], known_terms: dict[str, list[str]],
                 report: IngestReport) -> list[tuple[_Parsed, list[list[str]]]]:
        """BM25 terms (Kiwi content morphemes) for the chunks of several documents in one call.

        A chunk's terms are those of its heading plus those of each of its lines. The chunks of a section
        share one heading (17 % of the sample corpus's characters) and boilerplate lines repeat, so each
        distinct heading and line is analysed once; lines that are sentences Kiwi already analysed while
        splitting (``known_terms``) are not analysed again.
        """
        t0 = time.perf_counter()
        chunks = [c for d in docs for c in d.chunks]
        headings = [c.heading() for c in chunks]
        lines = [c.text.split("\n") for c in chunks]
        wanted = dict.fromkeys(h for h in headings if h)
        wanted.update(dict.fromkeys(ln for group in lines for ln in group if ln not in known_terms))
        need = list(wanted)
        found = dict(zip(need, content_terms_batch(need), strict=True))
        found.update(known_terms)
        terms = [(found[h] if h else []) + [t for ln in group for t in found[ln]]
                 for h, group in zip(headings, lines, strict=True)]
        report.timings["terms"] += time.perf_counter() - t0
        out, at = [], 0
        for d in docs:
            out.append((d, terms[at:at + len(d.chunks)]))
            at += len(d.chunks)
        return out

    def _embed(self, batch: list[tuple[_Parsed, list[list[str]]]], report: IngestReport) -> list[NewDocument]:
        """Vectors for an analysed batch, in one embedder call."""
        if not batch:
            return []
        t0 = time.perf_counter()
        cap = self.embed_max_chars
        texts = [c.indexed_text() for d, _ in batch for c in d.chunks]
        vectors = self.embedder.embed([t[:cap] if cap else t for t in texts], self.settings.embed_batch_size)
        report.timings["embed"] += time.perf_counter() - t0
        out, at = [], 0
        for d, terms in batch:
            n = len(d.chunks)
            out.append(NewDocument(d.record(self.access_level, self.department), d.chunks, vectors[at:at + n], terms))
            at += n
        return out

    def _commit(self, base: IndexSnapshot | None, manifest: Manifest, pending: list[NewDocument],
                drop: set[str], report: IngestReport) -> tuple[IndexSnapshot, Manifest]:
        t0 = time.perf_counter()
        replaced = {d.record.doc_id for d in pending}
        keep = set(manifest.documents) - replaced - drop
        total = sum(manifest.documents[d].chunks for d in keep) + sum(len(d.chunks) for d in pending)
        kind = self.settings.dense_index
        if kind == "auto":
            kind = "hnsw" if total > self.settings.hnsw_threshold else "flat"
        self.store.commit(manifest, base, keep, pending, kind, self.settings.hnsw_m)
        report.removed += len(drop)
        report.timings["write"] += time.perf_counter() - t0
        snapshot = self.store.open()
        return snapshot, snapshot.manifest


def _unreadable(path: Path, exc: OSError) -> FileOutcome:
    log.warning("cannot read %s: %s", path, exc)
    return FileOutcome(nfc(str(path)), "failed",
                       "파일을 읽을 수 없습니다. 파일이 있는지, 읽을 권한이 있는지 확인하세요.")
