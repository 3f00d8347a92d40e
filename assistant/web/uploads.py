"""Receiving files safely: size and type limits, sanitised names, no traversal, no overwriting, safe zips."""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.errors import AssistantError

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_CHUNK = 1 << 20
#: longest stored file name in UTF-8 bytes: file systems allow 255, and " (12)" may be added to keep names unique
MAX_NAME_BYTES = 200


class UploadRejected(AssistantError):
    """One file was refused; the message names it and says why."""


@dataclass
class Saved:
    original_name: str
    path: Path
    size: int


def document_extensions() -> list[str]:
    from assistant.ingest.base import supported_extensions

    return sorted(supported_extensions())


def shown_name(name: str) -> str:
    """The name as people will see it: NFC, without invisible format characters — bidi overrides such as
    U+202E make "보고서\u202etxt.exe" display as "보고서exe.txt" — and at most 255 characters."""
    name = unicodedata.normalize("NFC", name or "")
    return "".join(c for c in name if unicodedata.category(c) not in ("Cf", "Cc"))[:255]


def _cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of whole characters (never half a Hangul syllable) within ``limit`` UTF-8 bytes."""
    out, used = [], 0
    for ch in text:
        size = len(ch.encode("utf-8"))
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out)


def safe_name(name: str) -> str:
    """A file name without folders, control or invisible characters, or leading dots; NFC; at most
    ``MAX_NAME_BYTES`` UTF-8 bytes (a long Korean name is cut by bytes, keeping its extension)."""
    name = shown_name(name).replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name or name in {".", ".."}:
        name = "이름없는파일"
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = name, ""
    stem = _cut_bytes(stem, MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1).rstrip() or "파일"
    return f"{stem}.{ext}" if ext else stem


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem (2).ext`` … when taken — an upload never replaces a file."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while True:
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.close(fd)
            return candidate
        except FileExistsError:
            candidate = folder / f"{stem} ({n}){suffix}"
            n += 1


def check_extension(name: str, allowed: Iterable[str]) -> None:
    ext = Path(name).suffix.lower()
    allowed = sorted(set(allowed))
    if ext not in allowed:
        raise UploadRejected(f"'{name}': 지원하지 않는 파일 형식입니다 ({ext or '확장자 없음'}). "
                             f"가능한 형식: {', '.join(a.lstrip('.') for a in allowed)}")


def save_stream(src: IO[bytes], folder: Path, original: str, max_bytes: int) -> Saved:
    """Copy an upload into ``folder`` under a safe, unused name; refuse it once it passes ``max_bytes``."""
    name = safe_name(original)
    try:
        target = unique_path(folder, name)
    except OSError as exc:  # a name the file system still refuses fails this file, not the whole upload
        raise UploadRejected(f"'{shown_name(original)}': 이 이름으로 저장할 수 없습니다 ({exc.strerror or exc}). "
                             "파일 이름을 줄여 다시 올리세요.") from None
    size = 0
    try:
        with open(target, "wb") as out:
            while block := src.read(_CHUNK):
                size += len(block)
                if size > max_bytes:
                    raise UploadRejected(f"'{shown_name(original)}': 파일이 너무 큽니다 "
                                         f"(최대 {max_bytes / 1024 / 1024:.0f}MB). 파일을 나누거나 관리자에게 "
                                         "올리기 한도 조정을 요청하세요.")
                out.write(block)
        if size == 0:
            raise UploadRejected(f"'{shown_name(original)}': 빈 파일입니다.")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Saved(shown_name(original), target, size)


#: a zip may not unpack to more than this many times its own size (office files are already compressed;
#: text compresses about 5–10:1) — beyond that it is a zip bomb, not a folder of documents
MAX_ZIP_RATIO = 100


def extract_zip(archive: Path, folder: Path, allowed: Iterable[str], max_bytes: int,
                max_files: int, max_total_bytes: int | None = None) -> tuple[list[Saved], list[str]]:
    """Extract supported members safely (flat, sanitised names); return saved files and skipped reasons.

    The archive is refused before anything is written when :func:`assistant.ingest.archive.check_zip` finds
    it abnormal or its members declare more than ``max_total_bytes`` in all or more than
    :data:`MAX_ZIP_RATIO` times the archive's size; while extracting, the bytes actually written count
    against the same budget (declared sizes can lie)."""
    from assistant.ingest.archive import TooLarge, ZipLimits, check_zip

    allowed = set(allowed)
    saved: list[Saved] = []
    skipped: list[str] = []
    budget = min(max_total_bytes or max_bytes * max_files, max(archive.stat().st_size, 1) * MAX_ZIP_RATIO)
    # the archive checks documents get (member count, directory size, each member's ratio), with the batch's
    # own total: refused before anything is written
    try:
        check_zip(archive, ZipLimits(member_bytes=budget, total_bytes=budget))
        zf = zipfile.ZipFile(archive)
    except TooLarge as exc:
        raise UploadRejected(f"'{archive.name}': {exc.reason}") from None
    except zipfile.BadZipFile:
        raise UploadRejected(f"'{archive.name}': 올바른 ZIP 파일이 아닙니다.") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        for m in members:
            raw = _member_name(m)
            if Path(raw).name.startswith(".") or "__MACOSX" in raw:
                continue
            if Path(raw).suffix.lower() not in allowed:
                skipped.append(f"{raw}: 지원하지 않는 형식이라 건너뜀")
                continue
            if m.file_size > max_bytes:
                skipped.append(f"{raw}: 파일이 너무 큼 (최대 {max_bytes / 1024 / 1024:.0f}MB)")
                continue
            if len(saved) >= max_files:
                skipped.append(f"{raw}: 한 번에 받을 수 있는 파일 수({max_files}개)를 넘어 건너뜀")
                continue
            left = budget - sum(s.size for s in saved)
            if left <= 0:
                skipped.append(f"{raw}: 압축을 푼 전체 크기 한도를 넘어 건너뜀")
                continue
            with zf.open(m) as src:
                try:
                    saved.append(save_stream(src, folder, Path(raw).name, min(max_bytes, left)))
                except UploadRejected as exc:
                    skipped.append(str(exc))
                except (zipfile.BadZipFile, OSError, EOFError, ValueError):
                    skipped.append(f"{raw}: 압축이 손상되어 풀 수 없어 건너뜀")
    return saved, skipped


def _member_name(member: zipfile.ZipInfo) -> str:
    """Korean Windows zip tools write CP949 names without the UTF-8 flag; recover them."""
    name = member.filename
    if not member.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("cp949")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)
