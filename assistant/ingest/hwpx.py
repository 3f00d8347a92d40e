"""HWPX (.hwpx, 한글 2014+ XML) via hwp_hwpx_parser: paragraphs, tables, statute articles."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from hwp_hwpx_parser import HWPXReader

from assistant.errors import ParseError
from assistant.ingest.archive import GuardedZip, check_zip
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import guess_title
from assistant.ingest.hwp_common import NO_TEXT, blocks_from_text, extract_options
from assistant.types import ParsedDocument

log = logging.getLogger(__name__)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BAD_XML = "HWPX 본문 XML이 손상되어 읽을 수 없습니다. 한글에서 열어 다시 저장해 주세요."
_INLINE = {"lineBreak": "\n", "tab": "\t", "nbSpace": " ", "fwSpace": " ", "hyphen": "-"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def run_text(t_elem: ET.Element) -> str:
    """All text of an ``<hp:t>``, including what follows ``<hp:lineBreak/>``/``<hp:tab/>`` (element tails)."""
    parts = [t_elem.text or ""]
    for child in t_elem:
        parts.append(_INLINE.get(_local(child.tag), ""))
        parts.append(child.tail or "")
    return "".join(parts)


class _Reader(HWPXReader):
    """The library reads only ``<hp:t>``'s leading text and loses everything after a line break or tab.
    Its zip is a :class:`GuardedZip` (members read within limits, no XML entity declarations)."""

    def _open(self) -> zipfile.ZipFile:
        if self._zipfile is None:  # type: ignore[has-type]  # set (untyped) by the library's __init__
            self._zipfile = GuardedZip(self.filepath)
        return self._zipfile

    def _process_para_element(self, elem: ET.Element, options: Any, state: dict[str, Any],
                              in_memo_content: bool) -> None:
        if _local(elem.tag) == "t" and len(elem) and not in_memo_content:
            text = run_text(elem)
            for key, on in (("hyperlink_parts", state.get("hyperlink_id")), ("memo_ref_parts", state.get("memo_id"))):
                if on:
                    state[key].append(text)
            state["texts"].append(text)
            return
        super()._process_para_element(elem, options, state, in_memo_content)

    def _collect_cell_text_with_notes(self, elem: ET.Element, texts: list[str]) -> None:
        if _local(elem.tag) == "t" and len(elem):
            texts.append(run_text(elem).replace("\n", " "))
            return
        super()._collect_cell_text_with_notes(elem, texts)


def _check(path: Path) -> None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise ParseError(path, "HWP 5 형식(.hwp) 파일인데 확장자가 .hwpx입니다. 확장자를 .hwp로 바꿔 다시 올려 주세요.")
    if not zipfile.is_zipfile(path):
        raise ParseError(path, "HWPX 파일이 아니거나 손상되었습니다 (ZIP 구조가 아님). "
                               "한글에서 다시 저장해 올려 주세요.")
    check_zip(path)


def package_metadata(path: Path) -> dict[str, str]:
    """Title and creator from ``Contents/content.hpf`` (OPF metadata), when present."""
    try:
        with GuardedZip(path) as zf:
            root = ET.fromstring(zf.read("Contents/content.hpf"))
    except (KeyError, ET.ParseError, zipfile.BadZipFile):
        return {}
    meta: dict[str, str] = {}
    for el in root.iter():
        name, value = _local(el.tag), (el.text or "").strip()
        if name == "title" and value:
            meta["title"] = value
        elif name == "meta" and el.get("name") == "creator" and value:
            meta["author"] = value
    return meta


@register
class HwpxParser(Parser):
    extensions = (".hwpx",)
    doc_type = "hwpx"
    damaged = "한글(HWPX) 파일이 손상되어 내용을 읽을 수 없습니다. 한글에서 열어 다시 저장한 뒤 올려 주세요."

    def parse(self, path: Path) -> ParsedDocument:
        _check(path)
        reader = _Reader(str(path))
        try:
            if not reader.is_valid():
                raise ParseError(path, "HWPX 문서 구조(Contents/section*.xml)가 없습니다. "
                                       "한글 문서가 아니거나 손상되었습니다. 한글에서 다시 저장해 주세요.")
            if reader.is_encrypted():
                raise ParseError(path, "암호가 걸린 HWPX 문서입니다. "
                                       "한글에서 암호를 해제한 뒤 다시 저장해 올려 주세요.")
            text = reader.extract_text(extract_options())
        except ET.ParseError as exc:
            if "out of memory" in str(exc):   # expat ran into the memory limit: not a damaged file
                raise MemoryError(str(exc)) from exc
            log.warning("HWPX XML error in %s: %s", path, exc)
            raise ParseError(path, _BAD_XML) from exc
        finally:
            reader.close()
        blocks = blocks_from_text(text)
        if not blocks:
            raise ParseError(path, NO_TEXT)
        meta = package_metadata(path)
        title = meta.pop("title", "") or guess_title(blocks) or path.stem
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
