"""Markdown output: readable as plain text and as rendered Markdown.

Item lines end with a hard line break (two spaces) so □ / ○ / - keep one line each when rendered, and a
blank line before each □ item separates the groups.
"""

from __future__ import annotations

from pathlib import Path

from assistant.output import OutputDocument, atomic_write_text

_INDENT = {"item1": "", "item2": "  ", "item3": "    ", "body": "", "heading": ""}


def render_markdown(doc: OutputDocument) -> str:
    out = [f"# {doc.title}", ""]
    if doc.meta:
        out += [f"> {m}  " for m in doc.meta] + [""]
    prev = ""
    for p in doc.paras:
        if p.kind == "heading":
            out += ["", f"## {p.text}", ""]
        elif p.kind == "body":
            if prev and prev != "body":
                out.append("")
            out += [p.text, ""]
        else:
            if p.kind == "item1" and prev not in ("", "heading", "body"):
                out.append("")
            out.append(f"{_INDENT[p.kind]}{p.text}  ")
        prev = p.kind
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"


def write_markdown(doc: OutputDocument, path: Path) -> None:
    atomic_write_text(path, render_markdown(doc))
