"""Writers that turn a summary or a reply draft into files: Markdown, DOCX (Word) and HWPX (한글).

All writers take the same small :class:`OutputDocument` (a title, meta lines and typed paragraphs) so a new
format is one function. Every file is written atomically: to a temporary file in the same folder, flushed,
then renamed over the target, so an interrupted batch never leaves a half-written summary behind.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError

FORMATS = ("md", "docx", "hwpx")
KINDS = ("heading", "item1", "item2", "item3", "body")


@dataclass(frozen=True)
class Para:
    """One paragraph. ``kind``: heading (1. 민원 요지), item1 (□), item2 (○ / 가.), item3 (-), body."""

    text: str
    kind: str = "body"


@dataclass
class OutputDocument:
    title: str
    meta: list[str] = field(default_factory=list)  # "원문: …", "처리기한: …" shown under the title
    paras: list[Para] = field(default_factory=list)

    def plain_text(self) -> str:
        return "\n".join([self.title, *self.meta, *(p.text for p in self.paras)])


_NUMBERED = re.compile(r"^\d{1,2}\.\s")
_LETTERED = re.compile(r"^[가-하]\.\s")
_PAREN_NUMBERED = re.compile(r"^\d{1,2}\)\s")   # the third official level, "1)" (보고서 drafts)


def classify_line(line: str) -> Para:
    """A 개조식 or reply line → typed paragraph (the symbol stays in the text)."""
    text = line.strip()
    if text.startswith("□"):
        return Para(text, "item1")
    if text.startswith("○") or _LETTERED.match(text):
        return Para(text, "item2")
    if text.startswith(("-", "·", "※")) or _PAREN_NUMBERED.match(text):
        return Para(text, "item3")
    if _NUMBERED.match(text):
        return Para(text, "heading")
    return Para(text, "body")


def document_from_text(title: str, text: str, meta: Iterable[str] = (), *, official: bool = False) -> OutputDocument:
    """Build an output document from lines (empty lines are dropped; the writers add spacing).

    ``official``: a draft to be sent (민원 답변서, 보고서) — dates written as "2026. 12. 5." and the body closed
    with "  끝." (assistant.output.notation)."""
    if official:
        from assistant.output.notation import apply_notation

        text = apply_notation(text, end=True)
        meta = [apply_notation(m) for m in meta]
    paras = [classify_line(line) for line in text.split("\n") if line.strip()]
    return OutputDocument(title=title, meta=list(meta), paras=paras)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def parse_formats(value: str | Iterable[str]) -> list[str]:
    """"md,docx" → ["md", "docx"]; unknown names are an error that lists the valid ones."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        name = item.strip().lower().lstrip(".")
        name = {"markdown": "md", "word": "docx", "hwp": "hwpx", "한글": "hwpx"}.get(name, name)
        if not name:
            continue
        if name not in FORMATS:
            raise AssistantError(f"출력 형식 '{item.strip()}'은(는) 지원하지 않습니다. "
                                 f"가능한 형식: {', '.join(FORMATS)}")
        if name not in out:
            out.append(name)
    if not out:
        raise AssistantError(f"출력 형식을 하나 이상 지정하세요 ({', '.join(FORMATS)}).")
    return out


def writer_for(fmt: str) -> Callable[[OutputDocument, Path], None]:
    if fmt == "md":
        from assistant.output.markdown import write_markdown

        return write_markdown
    if fmt == "docx":
        from assistant.output.docx import write_docx

        return write_docx
    if fmt == "hwpx":
        from assistant.output.hwpx import write_hwpx

        return write_hwpx
    raise AssistantError(f"출력 형식 '{fmt}'은(는) 지원하지 않습니다. 가능한 형식: {', '.join(FORMATS)}")


def write_outputs(doc: OutputDocument, base: Path, formats: Iterable[str]) -> list[Path]:
    """Write ``base.<fmt>`` for each format; return the paths written."""
    paths = []
    for fmt in parse_formats(list(formats)):
        target = Path(base).with_name(Path(base).name + f".{fmt}")
        writer_for(fmt)(doc, target)
        paths.append(target)
    return paths
