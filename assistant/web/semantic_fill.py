"""The web app's semantic-vector filler: a low-priority worker process per index.

After the server starts, and after every upload is ingested, the e5 vectors an index lacks are computed by
``assistant semantic fill --background`` (nice 10, one thread) in a child process, so answering users never
waits for it and a crash of the engine cannot take the server down. Searches pick up new vectors as they
are stored (assistant.index.semantic.SemanticLayer.refresh). A request that arrives while the index is
being filled schedules one more pass when the current one ends (an upload during a fill).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from assistant.config import Settings

log = logging.getLogger("assistant.web.semantic")


class SemanticFiller:
    def __init__(self, settings: Settings, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self._lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._again: set[str] = set()
        self._stopped = False

    @property
    def enabled(self) -> bool:
        from assistant.index.semantic import semantic_enabled

        return self.settings.semantic_fill == "background" and semantic_enabled(self.settings)

    def request(self, index_name: str) -> None:
        """Fill ``index_name``'s missing vectors soon (now, or after the pass already running)."""
        if not self.enabled:
            return
        with self._lock:
            if self._stopped:
                return
            proc = self._procs.get(index_name)
            if proc is not None and proc.poll() is None:
                self._again.add(index_name)
                return
            self._start(index_name)

    def running(self, index_name: str) -> bool:
        with self._lock:
            proc = self._procs.get(index_name)
            return proc is not None and proc.poll() is None

    def wait(self, index_name: str, timeout: float | None = None) -> int | None:
        """Wait for the current pass on an index (tests, shutdown); its exit code, or None if none ran."""
        with self._lock:
            proc = self._procs.get(index_name)
        return proc.wait(timeout) if proc is not None else None

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            procs = list(self._procs.values())
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def _start(self, index_name: str) -> None:
        cmd = [sys.executable, "-m", "assistant.cli", "--index-dir", str(self.settings.index_dir), "semantic",
               "fill", "--index", index_name, "--background", "--quiet"]
        env = {**os.environ, "ASSISTANT_SEMANTIC_EMBEDDER": self.settings.semantic_embedder,
               "OMP_NUM_THREADS": "1"}
        out: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / "semantic-fill.log", "ab")  # noqa: SIM115 - closed by the watcher
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._procs[index_name] = proc
        log.info("semantic fill started index=%s pid=%d", index_name, proc.pid)
        threading.Thread(target=self._watch, args=(index_name, proc, out), name=f"semantic-fill-{index_name}",
                         daemon=True).start()

    def _watch(self, index_name: str, proc: subprocess.Popen[bytes], out: object) -> None:
        code = proc.wait()
        if hasattr(out, "close"):
            out.close()  # type: ignore[union-attr]
        log.info("semantic fill ended index=%s code=%s", index_name, code)
        with self._lock:
            if index_name in self._again and not self._stopped:
                self._again.discard(index_name)
                self._start(index_name)
