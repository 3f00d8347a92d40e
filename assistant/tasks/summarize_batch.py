"""Batch summarisation of folders: one output per input, an index CSV, resumable, failures skipped.

State lives in the output folder (``.summarize-state.json``), rewritten atomically after every file: a file
whose content (SHA-256), options and outputs are unchanged since it last succeeded is skipped on a rerun, so
an interrupted overnight batch (Ctrl-C, kill, power cut) continues where it stopped. A file that cannot be
read is logged with its reason and the batch goes on; ``BatchReport.ok`` is False when any file failed.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import logging
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generate.base import Generator
from assistant.output import atomic_write_text, document_from_text, parse_formats, write_outputs
from assistant.tasks.summarize import Summary, parse_length, resolve_generator, summarize_document

log = logging.getLogger(__name__)
STATE_FILE = ".summarize-state.json"
LOCK_FILE = ".summarize.lock"
INDEX_CSV = "index.csv"
CSV_COLUMNS = ("file", "title", "status", "lines", "seconds", "error")
STATE_VERSION = 1


@dataclass
class BatchItem:
    """The outcome of one input file. ``status``: ok, failed, skipped (done in an earlier run), unsupported."""

    file: str
    title: str = ""
    status: str = ""
    lines: int = 0
    seconds: float = 0.0
    error: str = ""
    outputs: list[str] = field(default_factory=list)

    def csv_row(self) -> dict[str, Any]:
        return {"file": self.file, "title": self.title, "status": self.status, "lines": self.lines,
                "seconds": f"{self.seconds:.2f}", "error": self.error}


@dataclass
class BatchReport:
    out_dir: Path
    items: list[BatchItem] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def index_csv(self) -> Path:
        return self.out_dir / INDEX_CSV


KST = timezone(timedelta(hours=9))


def summary_output_document(summary: Summary):  # -> OutputDocument
    """The file a summary is saved as: title, the source file's name (never a server path), the date in the
    official notation ("2026. 12. 6."), then the 개조식 lines."""
    today = datetime.now(KST).date()
    meta = [f"원문: {Path(summary.source).name}",
            f"요약: 개조식 {summary.lines}줄 · {today.year}. {today.month}. {today.day}. 작성"]
    return document_from_text(f"{summary.title} — 요약", summary.text, meta)


def output_names(files: Sequence[Path]) -> dict[Path, str]:
    """A unique, stable output base name per input: the file stem, then its parent folders when stems repeat."""
    names: dict[Path, str] = {}
    used: set[str] = set()
    for f in files:
        parts = list(f.resolve().parts)
        depth = 1
        while True:
            stem = "__".join([*parts[-depth - 1:-1], Path(parts[-1]).stem]) if depth > 1 else Path(parts[-1]).stem
            stem = unicodedata.normalize("NFC", stem)
            if stem not in used or depth >= len(parts) - 1:
                break
            depth += 1
        base, n = stem, 2
        while stem in used:
            stem, n = f"{base}-{n}", n + 1
        used.add(stem)
        names[f] = stem
    return names


class _State:
    """The resumable record of finished files, keyed by absolute source path."""

    def __init__(self, out_dir: Path, options: dict[str, Any]) -> None:
        self.path = out_dir / STATE_FILE
        self.options = options
        self.files: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            data = {}
        if data.get("version") == STATE_VERSION:
            self.files = dict(data.get("files", {}))

    def done(self, source: str, digest: str) -> dict[str, Any] | None:
        entry = self.files.get(source)
        if not entry or entry.get("status") != "ok" or entry.get("sha256") != digest \
                or entry.get("options") != self.options:
            return None
        if not all(Path(p).is_file() for p in entry.get("outputs", [])):
            return None
        return entry

    def record(self, source: str, digest: str, item: BatchItem) -> None:
        self.files[source] = {**asdict(item), "sha256": digest, "options": self.options}
        atomic_write_text(self.path, json.dumps({"version": STATE_VERSION, "files": self.files},
                                                ensure_ascii=False, indent=1))


def _write_csv(path: Path, items: Iterable[BatchItem]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(item.csv_row())
    # utf-8 with BOM: Excel on Korean Windows opens it with the right encoding
    atomic_write_text(path, "\ufeff" + buf.getvalue())


def discover_inputs(paths: Iterable[Path], out_dir: Path | None = None) -> list[tuple[Path, bool]]:
    """Files to summarise (with False for a folder file whose format we do not read); the output folder is skipped."""
    from assistant.ingest.pipeline import discover

    out = out_dir.resolve() if out_dir else None
    found = []
    for p, supported in discover(paths):
        if out is not None and p.resolve().is_relative_to(out):
            continue
        found.append((p, supported))
    return found


def summarize_batch(paths: Iterable[Path | str], out_dir: Path | str, *, settings: Settings,
                    generator: Generator | None = None, formats: Iterable[str] | str = ("md",),
                    length: str | int | None = None,
                    on_progress: Callable[[BatchItem], None] | None = None,
                    total_hint: Callable[[int], None] | None = None,
                    mask_personal_data: bool = False) -> BatchReport:
    """Summarise every file under ``paths`` into ``out_dir``; see the module docstring for resume semantics.
    ``mask_personal_data``: outputs, titles and reasons hold personal data only masked."""
    from assistant.ingest.pipeline import sha256_of

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AssistantError(f"출력 위치 {out}이(가) 폴더가 아닙니다. 다른 --out 폴더를 지정하세요.")
    out.mkdir(parents=True, exist_ok=True)
    fmts = parse_formats(formats)
    max_lines = parse_length(length if length is not None else settings.summary_length, settings.summary_page_lines)
    gen = resolve_generator(settings, generator)
    inputs = [Path(p) for p in paths]
    files = discover_inputs(inputs, out)
    if not files:
        raise AssistantError("요약할 파일이 없습니다. 경로를 확인하세요.")
    if total_hint:
        total_hint(len(files))
    with _folder_lock(out):
        _remove_stale_temporaries(out)
        state = _State(out, {"max_lines": max_lines, "formats": fmts, "generator": gen.identity})
        names = output_names([p for p, _ in files])
        roots = [p.resolve() for p in inputs if p.is_dir()]
        report = BatchReport(out_dir=out)
        start = time.perf_counter()
        for path, supported in files:
            item = _one(path, _shown(path, roots), supported, names[path], out, fmts, max_lines, gen, settings,
                        state, sha256_of, mask_personal_data)
            report.items.append(item)
            _write_csv(report.index_csv, report.items)
            if on_progress:
                on_progress(item)
        report.seconds = time.perf_counter() - start
    return report


@contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """One batch at a time per output folder: two would overwrite each other's state and index."""
    with open(out / LOCK_FILE, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AssistantError(f"출력 폴더 {out}에 다른 일괄 요약이 쓰는 중입니다. 끝난 뒤 다시 실행하거나 "
                                 "다른 --out 폴더를 지정하세요.") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale_temporaries(out: Path) -> None:
    """Delete the temporary files of writes a killed run never finished (``.<name>.<random>.tmp``, see
    ``atomic_write_bytes``); safe under the folder lock, since no other batch is writing here."""
    for tmp in out.glob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


def _shown(path: Path, roots: Sequence[Path]) -> str:
    """How a file is named in the report and index.csv: relative to the folder given, else its name — the
    report travels (a web job's zip), so it never carries the server's paths."""
    resolved = path.resolve()
    for root in roots:
        if resolved.is_relative_to(root):
            return unicodedata.normalize("NFC", str(resolved.relative_to(root)))
    return unicodedata.normalize("NFC", path.name)


def _one(path: Path, shown: str, supported: bool, name: str, out: Path, fmts: list[str], max_lines: int,
         gen: Generator, settings: Settings, state: _State, sha256_of: Callable[[Path], str],
         masked: bool) -> BatchItem:
    if not supported:
        return BatchItem(file=shown, status="unsupported",
                         error=f"지원하지 않는 형식({path.suffix or '확장자 없음'})이라 건너뜀")
    source = unicodedata.normalize("NFC", str(path.resolve()))
    t0 = time.perf_counter()
    try:
        digest = sha256_of(path)
    except OSError as exc:
        return BatchItem(file=shown, status="failed", error=f"파일을 읽을 수 없습니다: {exc.strerror or exc}")
    previous = state.done(source, digest)
    if previous:
        return BatchItem(file=shown, title=previous.get("title", ""), status="skipped", lines=previous.get("lines", 0),
                         seconds=0.0, error="", outputs=list(previous.get("outputs", [])))
    try:
        summary = summarize_document(path, settings=settings, generator=gen, length=max_lines)
        if masked:  # the web app's batch jobs: results are stored on the server
            from assistant.tasks.pii import mask_pii

            summary = replace(summary, title=mask_pii(summary.title).text, text=mask_pii(summary.text).text)
        written = write_outputs(summary_output_document(summary), out / name, fmts)
    except AssistantError as exc:
        item = BatchItem(file=shown, status="failed", seconds=time.perf_counter() - t0, error=str(exc))
    except Exception:  # noqa: BLE001 — one broken file must not stop an overnight batch
        log.warning("summary of %s failed", path, exc_info=True)
        item = BatchItem(file=shown, status="failed", seconds=time.perf_counter() - t0,
                         error="예기치 않은 오류로 요약하지 못했습니다. 파일이 손상되었을 수 있습니다 "
                               "(자세한 내용은 서버 기록).")
    else:
        item = BatchItem(file=shown, title=summary.title, status="ok", lines=summary.lines,
                         seconds=time.perf_counter() - t0, outputs=[str(p) for p in written])
    state.record(source, digest, item)
    return item
