"""Zip containers (DOCX, HWPX) and HWP's deflate streams, checked before anything is inflated.

A document package is a zip: a few kilobytes on disk can declare — or really hold — gigabytes once inflated
(a "zip bomb"). Before a reader touches a member, :func:`check_zip` compares the central directory with the
limits: member count, each member's declared size, the total, and the compression ratio. Members are then
read with :class:`GuardedZip`, which streams each one and stops at its limit whatever the directory
declared, and counts everything it hands out against the total. HWP 5 bodies are raw deflate streams inside
an OLE file; :func:`inflate` applies the same limits to them.

The limits are module constants (a real 한글 or Word document stays far below them); callers may pass their
own :class:`ZipLimits`.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ParseError

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
#: a member inflating to more than RATIO_FLOOR bytes may be at most MAX_RATIO times its compressed size
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1 << 16
_STEP = 4 << 20
_KEEP = 32 << 20
#: a document type declaration is where XML entities are declared ("billion laughs"); office suites never
#: write one into a document package
_DTD_MARKS = tuple(mark.encode(enc) for mark in ("<!DOCTYPE", "<!ENTITY")
                   for enc in ("ascii", "utf-16-le", "utf-16-be"))
_XML_MEMBERS = (".xml", ".rels", ".hpf", ".rdf")

_BOMB = "압축을 풀면 너무 커지는 파일입니다 (zip 폭탄 의심)"
_ADVICE = "정상적인 문서가 아닐 수 있습니다. 원본 프로그램에서 다시 저장해 올려 주세요."
_LIES = f"{_BOMB}: 목록에 적힌 크기보다 크게 풀리는 항목이 있습니다 (조작된 압축 파일). {_ADVICE}"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class ZipLimits:
    members: int = MAX_MEMBERS
    member_bytes: int = MAX_MEMBER_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR

    def member_limit(self, compressed: int) -> int:
        """Most bytes a member of ``compressed`` bytes may inflate to."""
        return min(self.member_bytes, max(self.ratio_floor, compressed * self.ratio))


DEFAULT_LIMITS = ZipLimits()


class TooLarge(ParseError):
    """An archive or stream would inflate past its limits."""


def _shown(name: str) -> str:
    """A member name fit to show a person: no control or direction characters, at most 60 characters."""
    name = _UNSAFE_NAME.sub("", name)
    return name if len(name) <= 60 else name[:57] + "…"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f}MB"


def _member_reason(name: str, size: int, compressed: int, limits: ZipLimits) -> str | None:
    if size > limits.member_bytes:
        return (f"{_BOMB}: 안의 '{_shown(name)}' 항목이 {_mb(size)}로 풀립니다 "
                f"(항목당 한도 {_mb(limits.member_bytes)}). {_ADVICE}")
    if size > limits.member_limit(compressed):
        ratio = size / max(compressed, 1)
        return (f"{_BOMB}: 안의 '{_shown(name)}' 항목이 {ratio:,.0f}배로 부풀어 {_mb(size)}가 됩니다 "
                f"(압축률 한도 {limits.ratio}:1). {_ADVICE}")
    return None


def _too_many(count: int, limits: ZipLimits) -> str:
    return f"압축 파일 안 항목이 너무 많습니다 ({count:,}개, 한도 {limits.members:,}개). {_ADVICE}"


def _directory_size(path: Path) -> tuple[int, int] | None:
    """``(entries, central directory bytes)`` from the end record, before zipfile reads the directory."""
    try:
        with open(path, "rb") as fh:
            end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # stable since Python 2
    except (OSError, AttributeError, zipfile.BadZipFile):
        return None
    if not end:
        return None
    return int(end[4]), int(end[5])   # _ECD_ENTRIES_TOTAL, _ECD_SIZE


def check_zip(path: Path, limits: ZipLimits = DEFAULT_LIMITS, inflate_all: bool = False) -> list[zipfile.ZipInfo]:
    """The members of the zip at ``path``; :class:`TooLarge` when the directory breaks a limit.

    Declared sizes are checked here, and a directory can lie: ``zipfile.ZipFile.read`` inflates everything
    a member's compressed bytes hold *before* cutting it to the declared size. Readers that use ZipFile
    directly (python-docx) need ``inflate_all``: every member is streamed once, stopping as soon as it
    outgrows its declared size. Otherwise read with :class:`GuardedZip`, which streams.
    """
    # zipfile reads the whole central directory into objects: look at its end record first
    counted = _directory_size(path)
    if counted and counted[0] > limits.members:
        raise TooLarge(path, _too_many(counted[0], limits))
    if counted and counted[1] > limits.members * 1024:
        raise TooLarge(path, f"압축 파일의 목록(중앙 디렉터리)이 비정상적으로 큽니다 ({_mb(counted[1])}). {_ADVICE}")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    if len(infos) > limits.members:
        raise TooLarge(path, _too_many(len(infos), limits))
    total = 0
    for info in infos:
        reason = _member_reason(info.filename, info.file_size, info.compress_size, limits)
        if reason:
            raise TooLarge(path, reason)
        total += info.file_size
    if total > limits.total_bytes:
        raise TooLarge(path, f"{_BOMB}: 모두 풀면 {_mb(total)}가 됩니다 (한도 {_mb(limits.total_bytes)}). {_ADVICE}")
    if inflate_all:
        with GuardedZip(path, limits) as zf:
            for info in infos:
                zf.verify(info)
    return infos


class GuardedZip(zipfile.ZipFile):
    """A read-only ZipFile whose :meth:`read` streams each member and stops at its limit, and refuses XML
    members with a document type declaration (where entities — "billion laughs" — are declared).

    ``read_bytes`` counts every byte handed out (a member read twice counts twice) against the total.
    Readers that take a ZipFile (hwp_hwpx_parser) use it unchanged.
    """

    def __init__(self, path: Path | str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        super().__init__(path, "r")
        self.path = Path(path)
        self.limits = limits
        self.read_bytes = 0

    def read(self, name: str | zipfile.ZipInfo, pwd: bytes | None = None) -> bytes:
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        data = self._stream(info, keep=True, pwd=pwd)
        assert data is not None
        return data

    def verify(self, info: zipfile.ZipInfo) -> None:
        """Stream a member as :meth:`read` does, keeping only what the XML check needs."""
        self._stream(info, keep=info.filename.lower().endswith(_XML_MEMBERS))

    def _stream(self, info: zipfile.ZipInfo, keep: bool, pwd: bytes | None = None) -> bytes | None:
        limit = min(self.limits.member_limit(info.compress_size), self.limits.total_bytes - self.read_bytes)
        if info.file_size > limit:
            raise TooLarge(self.path, self._reason(info, info.file_size))
        parts: list[bytes] = []
        got = 0
        with self.open(info, pwd=pwd) as member:
            # small reads: ZipExtFile.read() without a size inflates all the compressed bytes at once
            while chunk := member.read(min(_CHUNK, info.file_size + 1 - got)):
                got += len(chunk)
                if keep:
                    parts.append(chunk)
                if got > info.file_size:   # zipfile cuts at the declared size: this is a safety net
                    raise TooLarge(self.path, _LIES)
        self.read_bytes += got
        if not keep:
            return None
        data = b"".join(parts)
        if info.filename.lower().endswith(_XML_MEMBERS) and any(m in data for m in _DTD_MARKS):
            raise ParseError(self.path, "문서 안의 XML에 문서형 선언(DOCTYPE·ENTITY)이 있습니다. 정상적인 문서에는 "
                                        "없는 것으로, 내용을 부풀리는 공격일 수 있어 읽지 않습니다. "
                                        "원본 프로그램에서 다시 저장해 올려 주세요.")
        return data

    def _reason(self, info: zipfile.ZipInfo, size: int) -> str:
        return (_member_reason(info.filename, size, info.compress_size, self.limits)
                or f"{_BOMB}: 모두 풀면 한도({_mb(self.limits.total_bytes)})를 넘습니다. {_ADVICE}")


def inflate(data: bytes, wbits: int, path: Path, name: str, limit: int, limits: ZipLimits = DEFAULT_LIMITS,
            partial_ok: bool = False) -> bytes:
    """Decompress a zlib (``wbits`` 15) or raw deflate (-15) stream, refusing output past
    ``min(limit, the ratio limit)``. Bad data raises ``zlib.error`` like ``zlib.decompress``; so does a
    stream cut short, unless ``partial_ok`` (then what it held is returned).

    Output past :data:`_KEEP` bytes is counted, not kept, until the stream is known to fit; it is then
    inflated a second time. A bomb is refused without ever holding its output.
    """
    cap = min(limit, limits.member_limit(len(data)))
    out, size, complete = _inflate_pass(data, wbits, cap, _KEEP)
    if size > cap:
        raise TooLarge(path, f"{_BOMB}: 안의 '{_shown(name)}' 항목이 {_mb(cap)}를 넘게 풀립니다 "
                             f"(압축된 크기 {len(data) / 1024:,.0f}KB, 항목당 한도 {_mb(limits.member_bytes)}·"
                             f"압축률 한도 {limits.ratio}:1). {_ADVICE}")
    if not complete and not (partial_ok and size):
        raise zlib.error("incomplete or truncated stream")
    if out is None:
        out, _, _ = _inflate_pass(data, wbits, cap, cap)
    assert out is not None
    return bytes(out)


def _inflate_pass(data: bytes, wbits: int, cap: int, keep: int) -> tuple[bytearray | None, int, bool]:
    """``(output or None when it outgrew keep, output size (stops past cap), stream complete)``."""
    inflater = zlib.decompressobj(wbits)
    out: bytearray | None = bytearray()
    size = 0
    pending = data
    while not inflater.eof and size <= cap:
        piece = inflater.decompress(pending, min(_STEP, cap + 1 - size))
        if not piece and inflater.unconsumed_tail == pending:
            break   # input used up (a stream cut short), or no progress
        pending = inflater.unconsumed_tail
        size += len(piece)
        if out is not None:
            out += piece
            if len(out) > keep:
                out = None
    return out, size, inflater.eof
