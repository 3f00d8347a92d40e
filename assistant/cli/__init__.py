"""The ``assistant`` command line: one module per command group, each with ``add_commands(sub)``.

- :mod:`assistant.cli.documents` — ingest, remove, index, semantic
- :mod:`assistant.cli.query` — search, ask
- :mod:`assistant.cli.tasks` — summarize, draft-reply, draft-report
- :mod:`assistant.cli.web` — serve, user, audit
- :mod:`assistant.cli.admin` — backup, restore
- :mod:`assistant.cli.evaluate` — eval

A command's work is imported when it runs, so ``assistant --help`` and a quick ``search`` do not load models.
The README's command reference is generated from these parsers (``python -m assistant.cli.reference --write``)
and a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.config import load_settings
from assistant.errors import AssistantError
from assistant.runtime import configure

GROUPS = ("documents", "query", "tasks", "web", "admin", "evaluate")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # closed network: never reach a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _accept_ctrl_c()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings().with_overrides(index_dir=getattr(args, "index_dir", None))
        configure(settings)   # thread pools once, for the whole command (``serve`` switches to the server role)
        return int(args.func(args, settings) or 0)
    except AssistantError as exc:
        print(f"오류: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n중단되었습니다. 마지막으로 저장된 색인은 그대로 사용할 수 있습니다.", file=sys.stderr)
        return 130


def _accept_ctrl_c() -> None:
    """Ctrl-C stops a command and keeps what is saved — so a SIGINT blocked in the signal mask this process
    inherited (a parent that spawned it from a thread with SIGINT blocked) is unblocked. An inherited
    *ignored* SIGINT (a shell's background job) is left as the shell meant it."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="AI 행정비서 — 공문서 검색·질의응답 도구 (폐쇄망 전용)")
    p.add_argument("--index-dir", type=Path, help="색인 폴더 (기본: ASSISTANT_INDEX_DIR 또는 ./indexes)")
    sub = p.add_subparsers(metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"assistant.cli.{group}").add_commands(sub)
    return p
