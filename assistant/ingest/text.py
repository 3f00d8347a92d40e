"""Plain text (.txt) and Markdown (.md): encoding detection, YAML front matter, headings, 제N조 articles."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import yaml

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.types import Block, ParsedDocument

_ARTICLE = re.compile(r"^(제\s*\d+\s*조(?:의\s*\d+)?)\s*(\([^)]*\))?")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def decode_text(data: bytes, path: Path) -> str:
    """BOM, then strict UTF-8, then CP949 (a superset of EUC-KR); binary data is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for enc in ("utf-8", "cp949"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ParseError(path, "텍스트 인코딩을 알 수 없습니다 (UTF-8, CP949/EUC-KR 아님). 파일이 손상되었을 수 있습니다.")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > max(5, len(text) // 50):
        raise ParseError(path, "텍스트 파일이 아닌 이진 데이터로 보입니다.")
    return text


def _front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        return {}, text
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[end + 4:]


def _clean(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _metadata(raw: dict) -> dict[str, str]:
    meta = {str(k): _clean(v) for k, v in raw.items() if v is not None}
    mapping = {"제목": "law_name" if "법령구분" in meta else "title", "법령구분": "law_type",
               "시행일자": "effective_date", "공포일자": "promulgation_date", "출처": "source_url",
               "소관부처": "department", "소관기관": "department", "회신일자": "date", "안건번호": "case_no"}
    for k, v in mapping.items():
        if k in meta:
            meta.setdefault(v, meta[k])
    return meta


def _unescape(line: str) -> str:
    return re.sub(r"\\([.\-*_#()\[\]])", r"\1", line).replace("**", "")


def parse_lines(text: str, markdown: bool) -> tuple[list[Block], str]:
    """Blocks from lines: headings build the path; 제N조 starts an article block."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    title = ""
    para: list[str] = []
    article: str | None = None
    art_lines: list[str] = []
    seen: dict[str, int] = {}

    def heads() -> tuple[str, ...]:
        return tuple(h for _, h in path)

    def flush_para() -> None:
        if para:
            blocks.append(Block(" ".join(para).strip(), heading_path=heads()))
            para.clear()

    def flush_article() -> None:
        nonlocal article
        if article:
            blocks.append(Block("\n".join(art_lines).strip(), kind="article", heading_path=heads(), article=article))
        article = None
        art_lines.clear()

    for raw in text.splitlines():
        line = _unescape(raw.rstrip())
        m = _HEADING.match(line) if markdown else None
        label_text = m.group(2).strip() if m else line.strip()
        art = _ARTICLE.match(label_text)
        if art and (m or not markdown):
            flush_para()
            flush_article()
            label = re.sub(r"\s+", "", art.group(1))
            # the legalize-kr converter drops 조의N in headings: a repeated number is the next 조의N
            n = seen.get(label, 0)
            seen[label] = n + 1
            if n and "의" not in label:
                label = f"{label}의{n + 1}"
            article = label
            art_lines.append(label + (art.group(2) or "").replace(" ", "") + label_text[art.end():])
            continue
        if m:
            flush_para()
            flush_article()
            level, heading = len(m.group(1)), m.group(2).strip()
            if level == 1 and not title:
                title = heading
                continue
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
            continue
        if not line.strip():
            if not article:
                flush_para()
            continue
        if article:
            art_lines.append(line.strip())
        else:
            para.append(line.strip())
    flush_para()
    flush_article()
    return blocks, title


class TextParser(Parser):
    extensions = (".txt",)
    doc_type = "txt"
    markdown = False

    def parse(self, path: Path) -> ParsedDocument:
        text = decode_text(path.read_bytes(), path).replace("\r\n", "\n")
        raw_meta, body = _front_matter(text) if self.markdown else ({}, text)
        meta = _metadata(raw_meta)
        blocks, heading_title = parse_lines(body, self.markdown)
        title = meta.get("제목") or heading_title or path.stem
        if not blocks:
            raise ParseError(path, "추출할 텍스트가 없습니다.")
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)


class MarkdownParser(TextParser):
    extensions = (".md", ".markdown")
    doc_type = "md"
    markdown = True


register(TextParser)
register(MarkdownParser)
