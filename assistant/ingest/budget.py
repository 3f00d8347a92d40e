"""Every file is parsed under a budget: a wall-time limit and a memory limit, in a worker process.

A hostile or broken file — a YAML alias bomb, a zip bomb, a shape that makes some library quadratic — must
cost only itself. Parsing (the format's reader, NFC, the text bounds of :mod:`assistant.ingest.bounds` and the
first, cheap chunking pass) therefore runs in a child process:

- the child lowers its own address-space limit (``RLIMIT_AS``) to ``parse_memory_mb`` before it reads
  anything, so an allocation past the budget fails *in the child* (``MemoryError``) instead of swapping the
  machine or waking the kernel's OOM killer for the server;
- the parent waits for the answer at most ``parse_timeout_s``; past that it kills the child (SIGKILL: a
  parser stuck in C code does not see anything gentler) and starts a new one for the next file.

Either way the file fails with a reason a person can act on, and the batch goes on. One child is started
per process on first use and reused for every file (starting one costs about a second of imports); calls
are serialised by a lock, so the web app's threads and the CLI share it safely.

Set ``parse_timeout_s`` to 0 to parse in-process without budgets (debugging only).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from assistant.errors import ParseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    timeout_s: float = 60.0
    memory_mb: int = 1024
    max_bytes: int | None = None
    max_chunks: int = 10_000
    #: OCR: what one parse may spend (engine, page cap, threshold); each OCR'd page adds ``ocr_page_s``
    #: to the time limit (the worker reports pages as they finish), so a long scan is not cut off
    #: while a stuck one still is
    ocr: Any = None                 # assistant.ocr.OcrOptions; None = the configured settings
    ocr_page_s: float = 60.0


def budget_of(settings: Any) -> Budget:
    from assistant.ocr import options_of

    return Budget(settings.parse_timeout_s, settings.parse_memory_mb, settings.max_file_bytes,
                  settings.max_chunks_per_file, options_of(settings), settings.ocr_page_timeout_s)


_progress = threading.local()


@contextmanager
def ocr_progress(sink: Callable[[Path, int, int], None]) -> Iterator[None]:
    """Report OCR progress (file, pages done, pages to do) of the parses this thread runs to ``sink``
    (the web app's job shows it)."""
    before = getattr(_progress, "sink", None)
    _progress.sink = sink
    try:
        yield
    finally:
        _progress.sink = before


def _tell(path: Path, done: int, total: int) -> None:
    sink = getattr(_progress, "sink", None)
    if sink is not None:
        try:
            sink(path, done, total)
        except Exception:  # noqa: BLE001 — progress display must never fail a parse
            log.debug("OCR progress sink failed", exc_info=True)


@dataclass
class Parsed:
    """What the worker sends back: the document, the passages Kiwi must split, the chunk estimate."""

    document: Any          # assistant.types.ParsedDocument
    to_split: list[str]
    estimate: int
    warnings: list[str]


def parse_bounded(path: Path, doc_id: str, params: Any, budget: Budget,
                  progress: Callable[[int, int], None] | None = None) -> Parsed:
    """Parse one file and run the first chunking pass (in whatever process calls this); ``progress`` hears
    of each OCR'd page."""
    from assistant.ingest.base import parse_file
    from assistant.ingest.bounds import bound_document
    from assistant.ingest.chunking import chunk_blocks
    from assistant.korean.sentences import regex_sentences
    from assistant.ocr import current_options, using_options

    with using_options(budget.ocr or current_options(), progress):
        document = parse_file(path, max_bytes=budget.max_bytes)
    document, reshaped = bound_document(document)
    # what the reader replaced or skipped (damaged bytes, pages past the limit), then what was reshaped
    warnings = [str(w) for w in document.metadata.get("warnings") or []] + reshaped
    to_split: list[str] = []

    def record(text: str) -> list[str]:
        to_split.append(text)
        return regex_sentences(text)

    estimate = len(chunk_blocks(doc_id, document.title, document.blocks, params, record))
    if not estimate:
        raise ParseError(path, "추출할 텍스트가 없습니다 (스캔 이미지라면 OCR이 필요합니다).")
    if estimate > budget.max_chunks:
        raise ParseError(path, f"청크가 {estimate:,}개로 한 파일의 한도({budget.max_chunks:,}개)를 넘습니다. "
                               "내용이 비정상적으로 잘게 나뉘는 파일입니다. 파일을 나누거나 원본을 확인하세요.")
    return Parsed(document, to_split, estimate, warnings)


# ---------------------------------------------------------------------------------------------- the child

def _child_main(conn: Connection, memory_mb: int) -> None:
    """Serve parse requests until the parent closes the pipe."""
    import resource

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")   # tesseract (OCR) runs single-threaded beside search
    limit = memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a platform without the limit: time is still bounded
        pass
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        path, doc_id, params, budget = request

        def progress(done: int, total: int) -> None:
            conn.send(("progress", (done, total)))

        try:
            conn.send(("ok", parse_bounded(Path(path), doc_id, params, budget, progress)))
        except ParseError as exc:
            conn.send(("error", exc.reason))
        except MemoryError:
            conn.send(("memory", ""))
            return  # the heap may be in pieces: let the parent start a fresh child
        except Exception as exc:  # noqa: BLE001 — a parser bug must not end the batch
            conn.send(("bug", f"{type(exc).__name__}: {exc}"))


class ParseWorker:
    """The process-wide budgeted parser (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._memory_mb = 0

    def parse(self, path: Path, doc_id: str, params: Any, budget: Budget) -> Parsed:
        if budget.timeout_s <= 0:
            return parse_bounded(path, doc_id, params, budget, lambda d, t: _tell(path, d, t))
        with self._lock:
            conn = self._ensure(budget.memory_mb)
            try:
                conn.send((str(path), doc_id, params, budget))
                kind, value = self._answer(conn, path, budget)
            except (EOFError, OSError, BrokenPipeError):
                self._stop()
                raise ParseError(path, f"처리 중 메모리 한도({budget.memory_mb:,}MB)를 넘었거나 읽기 프로그램이 "
                                       "비정상 종료되었습니다. 파일이 손상되었을 수 있습니다.") from None
        if kind == "ok":
            return value
        if kind == "memory":
            self._restart_later()
            raise ParseError(path, f"처리에 메모리가 너무 많이 필요합니다 ({budget.memory_mb:,}MB 한도). "
                                   "압축 폭탄이거나 비정상적인 파일일 수 있습니다. 원본을 확인하세요.")
        if kind == "bug":
            log.warning("parser failed on %s: %s", path, value)
            raise ParseError(path, "파일을 읽는 중 예기치 못한 오류가 났습니다. 파일이 손상되었을 수 있습니다. "
                                   "다른 프로그램에서 열어 다시 저장해 보세요.")
        raise ParseError(path, value)

    def _answer(self, conn: Connection, path: Path, budget: Budget) -> tuple[str, Any]:
        """The child's answer; each OCR progress report on the way extends the deadline by one page's
        allowance (the time limit scales with the pages that need OCR)."""
        deadline = time.monotonic() + budget.timeout_s
        done = total = 0
        while True:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                self._stop()
                if total:
                    raise ParseError(path, f"OCR(문자 인식) 시간이 한도를 넘어 중단했습니다 ({done}/{total}쪽 처리, "
                                           f"쪽당 {budget.ocr_page_s:.0f}초). 스캔 품질이 매우 나쁘거나 쪽이 "
                                           "비정상적으로 큽니다. 파일을 나누거나 다시 스캔해 올리세요.")
                raise ParseError(path, f"처리 시간이 너무 깁니다 ({budget.timeout_s:.0f}초 한도를 넘어 중단). "
                                       "파일이 손상되었거나 비정상적으로 복잡합니다. "
                                       "원본을 확인하거나 나누어 올리세요.")
            kind, value = conn.recv()
            if kind != "progress":
                return kind, value
            done, total = value
            deadline = max(deadline, time.monotonic() + budget.ocr_page_s)
            _tell(path, done, total)

    def _ensure(self, memory_mb: int) -> Connection:
        if self._proc is not None and (not self._proc.is_alive() or memory_mb != self._memory_mb):
            self._stop()
        if self._proc is None:
            ctx = multiprocessing.get_context("spawn")   # no fork of a process holding threads and locks
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child_main, args=(child, memory_mb), name="assistant-parse", daemon=True)
            proc.start()
            child.close()
            self._proc, self._conn, self._memory_mb = proc, parent, memory_mb
        assert self._conn is not None
        return self._conn

    def _restart_later(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def close(self) -> None:
        with self._lock:
            self._stop()


_WORKER = ParseWorker()


def parse_with_budget(path: Path, doc_id: str, params: Any, budget: Budget) -> Parsed:
    return _WORKER.parse(path, doc_id, params, budget)
