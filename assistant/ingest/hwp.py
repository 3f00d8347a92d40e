"""HWP 5 (.hwp, OLE compound file) via hwp_hwpx_parser, with specific reasons for files it cannot read."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import olefile
from hwp_hwpx_parser import HWP5Reader

from assistant.errors import ParseError
from assistant.ingest.archive import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, inflate
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import guess_title
from assistant.ingest.hwp_common import NO_TEXT, blocks_from_text, extract_options
from assistant.types import ParsedDocument

_SIGNATURE = b"HWP Document File"
_FLAG_PASSWORD = 0x02
_FLAG_DISTRIBUTION = 0x04


def _not_ole_reason(head: bytes) -> str:
    if head.startswith(b"PK"):
        return "HWPX 형식 파일인데 확장자가 .hwp입니다. 확장자를 .hwpx로 바꿔 다시 올려 주세요."
    if head.startswith(b"HWP Document File V"):
        return "HWP 3.0 이하의 옛 형식이라 읽을 수 없습니다. 한글에서 HWP 5(.hwp)나 .hwpx로 다시 저장해 주세요."
    return ("HWP 5 형식이 아닙니다 (OLE 복합 문서가 아님). 파일이 손상되었거나 확장자가 잘못되었습니다. "
            "한글에서 다시 저장해 올려 주세요.")


def file_header(path: Path) -> tuple[int, int]:
    """``(version, property flags)`` from the FileHeader stream; ParseError when it is not HWP 5."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    if not olefile.isOleFile(str(path)):
        raise ParseError(path, _not_ole_reason(head))
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if not ole.exists("FileHeader"):
                raise ParseError(path, "한글(HWP) 문서가 아닙니다: OLE 파일이지만 FileHeader가 없습니다 "
                                       "(예전 Word .doc 등 다른 프로그램 파일일 수 있음). 파일 형식을 확인하세요.")
            header = ole.openstream("FileHeader").read(40)
    except OSError as exc:
        raise ParseError(path, "HWP 파일의 OLE 구조가 손상되었습니다. 한글에서 열어 다시 저장해 주세요.") from exc
    if len(header) < 40 or not header.startswith(_SIGNATURE):
        raise ParseError(path, "HWP 5 형식이 아닙니다 (한글 문서 서명이 없음). 파일이 손상되었을 수 있습니다.")
    version, flags = struct.unpack_from("<II", header, 32)
    return version, flags


class _Reader(HWP5Reader):
    """Body sections are inflated within the archive limits: a deflate stream of a few hundred kilobytes can
    inflate to gigabytes, and the library inflates it whole."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self._path = path
        self._inflated = 0
        self._compressed: bool | None = None
        self.skipped_sections = 0   # sections whose compressed data could not be read (skipped)

    def _decompress(self, data: bytes) -> bytes:
        if self._compressed is None:
            self._compressed = self.is_compressed()
        if not self._compressed:
            return data
        limit = min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES - self._inflated)
        # like the library: a zlib header first, then raw deflate (what 한글 writes); a section cut short
        # keeps its text up to the cut. The library parses undecodable data as records (noise): skip it.
        for wbits, partial_ok in ((15, False), (-15, True)):
            try:
                out = inflate(data, wbits, self._path, "BodyText", limit, partial_ok=partial_ok)
            except zlib.error:
                continue
            self._inflated += len(out)
            return out
        self.skipped_sections += 1
        return b""

    def _load_bindata_id_map(self) -> None:
        """Image file names (the library inflates DocInfo for them without a limit); no image markers are
        extracted here, so they are not needed."""


def _version_text(version: int) -> str:
    return ".".join(str((version >> shift) & 0xFF) for shift in (24, 16, 8, 0))


@register
class HwpParser(Parser):
    extensions = (".hwp",)
    doc_type = "hwp"
    damaged = "한글(HWP) 파일이 손상되어 내용을 읽을 수 없습니다. 한글에서 열어 다시 저장한 뒤 올려 주세요."

    def parse(self, path: Path) -> ParsedDocument:
        version, flags = file_header(path)
        if flags & _FLAG_PASSWORD:
            raise ParseError(path, "암호가 걸린 HWP 문서입니다. 한글에서 암호를 해제한 뒤 다시 저장해 올려 주세요.")
        reader = _Reader(path)
        try:
            text = reader.extract_text(extract_options())
        finally:
            reader.close()
        blocks = blocks_from_text(text)
        meta: dict[str, Any] = {"hwp_version": _version_text(version)}
        if reader.skipped_sections and not blocks:
            raise ParseError(path, "HWP 본문이 손상되어 읽을 수 없습니다 (압축된 본문을 풀 수 없음). "
                                   "한글에서 열어 다시 저장해 올려 주세요.")
        if reader.skipped_sections:
            meta["warnings"] = [f"손상된 본문 구역 {reader.skipped_sections}개를 읽지 못하고 건너뛰었습니다."]
        if not blocks:
            if flags & _FLAG_DISTRIBUTION:
                raise ParseError(path, "배포용(읽기 전용)으로 저장된 HWP 문서라 본문을 읽을 수 없습니다. "
                                       "원본 문서를 받거나 한글에서 일반 문서로 저장해 주세요.")
            raise ParseError(path, NO_TEXT)
        title = guess_title(blocks) or path.stem
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
