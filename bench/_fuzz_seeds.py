"""Seed documents for bench/fuzz_ingest.py: real Korean texts from the shared corpus, written in every format
the assistant reads (PDF, DOCX, HWPX, HWP, HTML, Markdown, plain text).

The corpus is Markdown only, so the other formats are rendered here: DOCX and HWPX with the assistant's own
writers, PDF with reportlab (NanumGothic), HWP 5 with the minimal writer of tests/hostile/files.py, HTML and
text by hand (some in CP949/EUC-KR, as agencies still send them).
"""

from __future__ import annotations

import html
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from hostile.files import hwp_document  # noqa: E402

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
FORMATS = (".md", ".txt", ".html", ".docx", ".hwpx", ".hwp", ".pdf")
MAX_CHARS = 12_000
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)


def corpus_texts(corpus: Path, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``(file name, Markdown)`` of ``count`` documents, drawn across the corpus folders."""
    groups = [sorted((corpus / sub).rglob("*.md")) for sub in
              ("welfare-services-2023/docs", "moleg-interpretations-qa/docs", "korean-laws-admin",
               "korean-laws-minwon", "allganize-public-docs")]
    groups = [[p for p in g if p.name != "README.md"] for g in groups if g]
    if not groups:
        sys.exit(f"no Markdown documents under {corpus}")
    picked: list[Path] = []
    while len(picked) < count:
        for group in groups:
            if len(picked) < count:
                picked.append(rng.choice(group))
    return [(p.name, p.read_text(encoding="utf-8")) for p in picked]


def plain_lines(markdown: str) -> list[str]:
    """The text of a Markdown document as lines: no front matter, no markup."""
    body = _FRONT.sub("", markdown)[:MAX_CHARS]
    lines = []
    for raw in body.splitlines():
        line = re.sub(r"^#+\s*|^\s*[-*]\s+|\*\*|<!--.*?-->|`", "", raw).strip()
        line = re.sub(r"\s*\|\s*", " | ", line).strip(" |")
        if line and not re.fullmatch(r"[-:| ]+", line):
            lines.append(line)
    return lines or ["(빈 문서)"]


def _html(title: str, markdown: str, charset: str) -> str:
    parts = [f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{html.escape(title)}</title></head>'
             "<body><nav><a href='/'>홈</a></nav>"]
    for raw in _FRONT.sub("", markdown)[:MAX_CHARS].splitlines():
        m = re.match(r"^(#{1,6})\s+(.*)", raw)
        if m:
            level = min(len(m.group(1)), 6)
            parts.append(f"<h{level}>{html.escape(m.group(2))}</h{level}>")
        elif raw.strip().startswith("|"):
            cells = [c.strip() for c in raw.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                parts.append("<table><tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr></table>")
        elif re.match(r"^\s*[-*]\s+", raw):
            parts.append(f"<ul><li>{html.escape(raw.strip()[2:])}</li></ul>")
        elif raw.strip():
            parts.append(f"<p>{html.escape(raw.strip())}</p>")
    parts.append("<script>var x = 1;</script></body></html>")
    return "\n".join(parts)


def _pdf(path: Path, title: str, lines: list[str]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "NanumGothic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("NanumGothic", str(NANUM)))
    pdf = canvas.Canvas(str(path))
    pdf.setTitle(title)
    wrapped = [line[i:i + 42] for line in lines for i in range(0, len(line), 42)]
    for start in range(0, min(len(wrapped), 400), 38):
        pdf.setFont("NanumGothic", 11)
        for k, line in enumerate(wrapped[start:start + 38]):
            pdf.drawString(60, 780 - 19 * k, line)
        pdf.showPage()
    pdf.save()


def write_seed(folder: Path, number: int, ext: str, name: str, markdown: str, rng: random.Random) -> Path:
    """One seed document ``s{number}{ext}`` rendered from ``markdown``."""
    from assistant.output import document_from_text
    from assistant.output.docx import render_docx
    from assistant.output.hwpx import render_hwpx

    lines = plain_lines(markdown)
    title = Path(name).stem.replace("_", " ")
    path = folder / f"s{number:02d}{ext}"
    if ext == ".md":
        path.write_text(markdown[:MAX_CHARS], encoding="utf-8")
    elif ext == ".txt":
        encoding = "cp949" if rng.random() < 0.3 else "utf-8"
        path.write_bytes("\n\n".join(lines).encode(encoding, errors="replace"))
    elif ext == ".html":
        charset = "euc-kr" if rng.random() < 0.3 else "utf-8"
        path.write_bytes(_html(title, markdown, charset).encode("cp949" if charset == "euc-kr" else "utf-8",
                                                              errors="replace"))
    elif ext == ".docx":
        path.write_bytes(render_docx(document_from_text(title, "\n".join(lines))))
    elif ext == ".hwpx":
        path.write_bytes(render_hwpx(document_from_text(title, "\n".join(lines))))
    elif ext == ".hwp":
        half = max(1, len(lines) // 2)
        hwp_document(path, [lines[:half], lines[half:]] if len(lines) > 20 else [lines])
    elif ext == ".pdf":
        _pdf(path, title, lines)
    return path


def write_seeds(corpus: Path, folder: Path, per_format: int, rng: random.Random) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    texts = corpus_texts(corpus, rng, per_format * len(FORMATS))
    return [write_seed(folder, i, FORMATS[i % len(FORMATS)], name, md, rng) for i, (name, md) in enumerate(texts)]
