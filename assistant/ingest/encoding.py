"""Byte → text decoding for Korean files: BOM, UTF-8, CP949 (⊃ EUC-KR), then charset detection.

A UTF-8 file with a few damaged bytes is still UTF-8: when at most 0.1 % of its bytes (or 8 bytes) fall in
undecodable sequences, and those are few among its non-ASCII bytes (which tells it from CP949 text), it is
read with replacement characters and a warning instead of being refused. A character cut off at the very
end (a truncated file) is dropped with a warning, in any of the encodings tried.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

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


#: most bytes in undecodable sequences, as a share of all bytes, for a file still to be read as UTF-8 …
MAX_BAD_UTF8_SHARE = 0.001
#: … or this many, whichever is more: two flipped bits damage up to 8 bytes, in a short file too
BAD_UTF8_FLOOR = 8


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    #: sentences for people about what was replaced (empty when the bytes decoded cleanly)
    warnings: tuple[str, ...] = ()


def decode_text(data: bytes, path: object, declared: str | None = None) -> tuple[str, str]:
    """``(text, encoding name)`` of :func:`decode_document` (its warnings dropped)."""
    decoded = decode_document(data, path, declared)
    return decoded.text, decoded.encoding


def decode_document(data: bytes, path: object, declared: str | None = None) -> Decoded:
    """Decode ``data``; refuse binary data with a ParseError.

    Order: byte-order mark, the ``declared`` charset (e.g. an HTML ``<meta charset>``), strict UTF-8,
    UTF-8 with replacement when only a few bytes are damaged (with a warning), strict CP949, and
    charset-normalizer as a last resort.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = data.decode(name, errors="replace")
            bad = bad_utf8_bytes(data[len(bom):], text) if name == "utf-8-sig" else 0
            return _checked(text, name, path, _replaced(bad))
    for name in _candidates(declared):
        try:
            return _checked(data.decode(name), name, path)
        except (UnicodeDecodeError, LookupError):
            pass
        cut = _cut_at_end(data, name)
        if cut is not None:
            return _checked(cut, name, path, (_TRUNCATED,))
        if name == "utf-8":
            lenient = mostly_utf8(data)
            if lenient is not None:
                text, bad, tail = lenient
                return _checked(text, "utf-8", path, _replaced(bad) + ((_TRUNCATED,) if tail else ()))
    guessed = _guess(data)
    if guessed is None:
        raise ParseError(path, "텍스트 인코딩을 알아낼 수 없습니다 (UTF-8·CP949/EUC-KR이 아님). "
                               "파일이 손상되었거나 텍스트 파일이 아닙니다. UTF-8로 다시 저장해 주세요.")
    return _checked(*guessed, path)


def bad_utf8_bytes(data: bytes, text: str) -> int:
    """How many bytes of ``data`` lie in undecodable sequences, given ``text = data.decode("utf-8", "replace")``.

    Every decodable byte re-encodes to itself and every undecodable sequence became one U+FFFD (3 bytes);
    U+FFFD already in the file (EF BF BD) always decodes, so it is told apart by counting it in the bytes.
    """
    replaced = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    return len(data) + 3 * replaced - len(text.encode("utf-8"))


def mostly_utf8(data: bytes) -> tuple[str, int, int] | None:
    """``(text with replacement characters, bad byte count, bytes of a character cut off at the end)`` when
    ``data`` is UTF-8 with a few damaged bytes: at most :data:`MAX_BAD_UTF8_SHARE` of all bytes (or
    :data:`BAD_UTF8_FLOOR`), and at most a quarter of the non-ASCII bytes (CP949 Hangul is mostly
    undecodable as UTF-8, so a CP949 file with little Korean is not mistaken). A character cut off at the
    end is dropped, not counted."""
    tail = _utf8_tail(data)
    body = data[:len(data) - tail]
    text = body.decode("utf-8", errors="replace")
    bad = bad_utf8_bytes(body, text)
    non_ascii = len(body.translate(None, bytes(range(128))))
    if bad > max(len(body) * MAX_BAD_UTF8_SHARE, BAD_UTF8_FLOOR) or bad * 4 > non_ascii:
        return None
    return text, bad, tail


def _utf8_tail(data: bytes) -> int:
    """How many bytes at the end begin a UTF-8 sequence that the data ends before completing (0–3)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if need > back else 0
    return 0


def _cut_at_end(data: bytes, encoding: str) -> str | None:
    """The text when ``data`` decodes strictly except for a character cut off at the very end."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        text = decoder.decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return None
    return text if decoder.getstate()[0] else None


_TRUNCATED = "파일 끝에서 잘린 글자 하나를 버렸습니다. 파일이 중간에 잘렸을 수 있으니 원본을 확인하세요."


def _replaced(bad: int) -> tuple[str, ...]:
    if not bad:
        return ()
    return (f"UTF-8로 읽을 수 없는 바이트 {bad:,}개를 대체 문자(\ufffd)로 바꿔 읽었습니다. "
            "원본 파일 일부가 손상되었을 수 있습니다.",)


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


def _checked(text: str, encoding: str, path: object, warnings: tuple[str, ...] = ()) -> Decoded:
    if looks_binary(text):
        raise ParseError(path, "텍스트가 아닌 이진(바이너리) 데이터로 보입니다. "
                               "파일 형식과 확장자가 맞는지 확인하세요.")
    return Decoded(text, encoding, warnings)


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
