"""HWP 5 (.hwp, OLE compound file) via hwp_hwpx_parser, with specific reasons for files it cannot read."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile
from hwp_hwpx_parser import HWP5Reader

from assistant.errors import ParseError
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


def _version_text(version: int) -> str:
    return ".".join(str((version >> shift) & 0xFF) for shift in (24, 16, 8, 0))


@register
class HwpParser(Parser):
    extensions = (".hwp",)
    doc_type = "hwp"

    def parse(self, path: Path) -> ParsedDocument:
        version, flags = file_header(path)
        if flags & _FLAG_PASSWORD:
            raise ParseError(path, "암호가 걸린 HWP 문서입니다. 한글에서 암호를 해제한 뒤 다시 저장해 올려 주세요.")
        reader = HWP5Reader(str(path))
        try:
            text = reader.extract_text(extract_options())
        finally:
            reader.close()
        blocks = blocks_from_text(text)
        if not blocks:
            if flags & _FLAG_DISTRIBUTION:
                raise ParseError(path, "배포용(읽기 전용)으로 저장된 HWP 문서라 본문을 읽을 수 없습니다. "
                                       "원본 문서를 받거나 한글에서 일반 문서로 저장해 주세요.")
            raise ParseError(path, NO_TEXT)
        title = guess_title(blocks) or path.stem
        return ParsedDocument(str(path), title, self.doc_type, blocks, {"hwp_version": _version_text(version)})
