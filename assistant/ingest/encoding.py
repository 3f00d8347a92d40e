"""Byte → text decoding for Korean files: BOM, UTF-8, CP949 (⊃ EUC-KR), then charset detection."""

from __future__ import annotations

import codecs
import re
import unicodedata

from assistant.errors import ParseError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: names that mean "Korean legacy encoding": decode with CP949, its superset
_KOREAN_ALIASES = {"euc-kr", "euckr", "euc_kr", "ks_c_5601-1987", "ksc5601", "x-windows-949", "windows-949",
                   "cp949", "uhc", "ms949"}
_ALLOWED_CONTROLS = set("\n\r\t\f\v")
# characters that are always assigned and printable (ASCII, Hangul syllables and jamo, CJK ideographs,
# general punctuation, CJK symbols, full-width forms): removed before the per-character check, which
# then looks at a few characters instead of every one (0.7 s of a 21 s ingest of the sample corpus)
_ALWAYS_FINE = re.compile("[\n\r\t\f\v\x20-\x7e\u00a0-\u00ff\u1100-\u11ff\u2010-\u2027\u2030-\u205e"
                          "\u3000-\u303f\u3131-\u318e\u4e00-\u9fff\uac00-\ud7a3\uff01-\uffbe]+")


def decode_text(data: bytes, path: object, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding name)``; refuse binary data with a ParseError.

    Order: byte-order mark, the ``declared`` charset (e.g. an HTML ``<meta charset>``), strict UTF-8,
    strict CP949, and charset-normalizer as a last resort.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(name, errors="replace"), name, path)
    for name in _candidates(declared):
        try:
            return _checked(data.decode(name), name, path)
        except (UnicodeDecodeError, LookupError):
            continue
    guessed = _guess(data)
    if guessed is None:
        raise ParseError(path, "텍스트 인코딩을 알아낼 수 없습니다 (UTF-8·CP949/EUC-KR이 아님). "
                               "파일이 손상되었거나 텍스트 파일이 아닙니다. UTF-8로 다시 저장해 주세요.")
    return _checked(*guessed, path)


def _candidates(declared: str | None) -> list[str]:
    names: list[str] = []
    if declared:
        low = declared.strip().lower()
        names.append("cp949" if low in _KOREAN_ALIASES else low)
    names += ["utf-8", "cp949"]
    return list(dict.fromkeys(names))


def _guess(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    return str(best), best.encoding


def _checked(text: str, encoding: str, path: object) -> tuple[str, str]:
    if looks_binary(text):
        raise ParseError(path, "텍스트가 아닌 이진(바이너리) 데이터로 보입니다. "
                               "파일 형식과 확장자가 맞는지 확인하세요.")
    return text, encoding


def looks_binary(text: str) -> bool:
    """True when a noticeable share of characters are controls, unassigned or replacement characters."""
    if "\x00" in text:
        return True
    sample = text[:200_000]
    if not sample:
        return False
    bad = sum(1 for c in _ALWAYS_FINE.sub("", sample) if _is_bad(c))
    return bad > max(2, len(sample) // 50)


def _is_bad(char: str) -> bool:
    if char in _ALLOWED_CONTROLS:
        return False
    if char == "\ufffd":
        return True
    return unicodedata.category(char) in ("Cc", "Cn", "Cs", "Co")
