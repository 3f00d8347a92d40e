"""The README's command reference and settings table, generated from the code they describe.

    python -m assistant.cli.reference --write    # rewrite both README sections
    python -m assistant.cli.reference --check    # exit 1 when the README is stale (what the tests run)

The command reference is every command's ``--help`` (argparse, 100 columns); the settings table is every
field of :class:`assistant.config.Settings` with its default and description. Each sits between
``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` markers in README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
WIDTH = 100


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    out.append((name, sub))
    return out


def _walk(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, str]]:
    out = [(path, parser.format_help().rstrip())]
    for name, sub in _subparsers(parser):
        out.extend(_walk(sub, f"{path} {name}"))
    return out


def cli_reference() -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)   # argparse wraps to the terminal: fix it so the text is stable
    try:
        from assistant.cli import build_parser

        parser = build_parser()
        for _, sub in _subparsers(parser):
            sub.prog = sub.prog.replace(parser.prog, "assistant", 1)
        blocks = _walk(parser, "assistant")
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    parts = []
    for path, text in blocks:
        parts.append(f"<details><summary><code>{path}</code></summary>\n\n```text\n{text}\n```\n\n</details>")
    return "\n".join(parts)


def _default(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, Path):
        return f"`{value.as_posix()}`"
    return f"`{value}`"


def settings_table() -> str:
    from assistant.config import Settings

    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        text = " ".join((field.description or "").split()).replace("|", "\\|")
        rows.append(f"| `ASSISTANT_{name.upper()}` | {_default(field.default)} | {text} |")
    return "\n".join(rows)


SECTIONS = {"cli": cli_reference, "settings": settings_table}


def render(readme: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(\n<!-- /generated:{name} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md에 <!-- generated:{name} --> 표시가 없습니다.")
        body = make()

        def fill(m: re.Match[str], body: str = body) -> str:
            return m.group(1) + body + m.group(3)

        readme = pattern.sub(fill, readme)
    return readme


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="README의 명령 참고와 설정 표를 코드에서 다시 만듦")
    ap.add_argument("--write", action="store_true", help="README.md를 고쳐 씀")
    ap.add_argument("--check", action="store_true", help="README.md가 코드와 다르면 1로 끝남")
    args = ap.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if args.write:
        if fresh != current:
            README.write_text(fresh, encoding="utf-8")
        print("README.md: " + ("고쳐 씀" if fresh != current else "이미 최신"))
        return 0
    if fresh != current:
        print("README.md의 명령 참고나 설정 표가 코드와 다릅니다: python -m assistant.cli.reference --write",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
