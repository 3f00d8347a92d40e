"""Crafted hostile files (issue 17): small on disk, expensive if handled naively.

Each maker writes one file into a folder and returns its path; ``write_all`` writes the whole set. They are
generated rather than committed so the repository holds no opaque binaries, and each says what it attacks.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

BODY = "# 민원 처리 안내\n\n민원은 접수한 날부터 7일 이내에 처리합니다.\n"


def alias_bomb(folder: Path) -> Path:
    """YAML front matter whose aliases expand exponentially (the "billion laughs" of YAML)."""
    lines = ['a: &a ["민원","민원","민원","민원","민원","민원","민원","민원","민원"]']
    prev = "a"
    for name in "bcdefghijk":
        lines.append(f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
        prev = name
    path = folder / "alias_bomb.md"
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + BODY, encoding="utf-8")
    return path


def quadratic_heading(folder: Path) -> Path:
    """A heading line of 40,000 '#' after '# ': backtracking regexes take quadratic time on it."""
    path = folder / "quadratic_heading.md"
    path.write_text("# " + "#" * 40_000 + "x\n\n" + BODY, encoding="utf-8")
    return path


def no_spaces(folder: Path) -> Path:
    """About a million Hangul syllables without a space: one 'sentence' for the morphological analyser."""
    path = folder / "no_spaces.txt"
    path.write_text("민원처리기간안내" * 125_000, encoding="utf-8")
    return path


def form_feeds(folder: Path) -> Path:
    """500 KB of form feeds between words: every page break could become a chunk."""
    path = folder / "form_feeds.txt"
    path.write_text(("민원\f" * 2 + "\f" * 8) * 50_000, encoding="utf-8")
    return path


def short_lines(folder: Path) -> Path:
    """3 MB of two-character lines: per-line objects cost far more than the bytes."""
    path = folder / "short_lines.txt"
    path.write_text("가나\n" * 400_000, encoding="utf-8")
    return path


def nul_flood(folder: Path) -> Path:
    """A text file that is mostly NUL bytes."""
    path = folder / "nul_flood.txt"
    path.write_bytes("민원 안내\n".encode() + b"\x00" * 2_000_000)
    return path


def bad_byte_utf8(folder: Path) -> Path:
    """A good UTF-8 document with two bytes flipped: it should be read, with replacement characters."""
    data = bytearray(("민원 처리기간은 접수일부터 7일 이내입니다. " * 400).encode("utf-8"))
    data[1000] ^= 0x40
    data[5001] ^= 0x80
    path = folder / "bad_byte_utf8.txt"
    path.write_bytes(bytes(data))
    return path


def _zip_bomb(path: Path, members: dict[str, bytes | int]) -> Path:
    """A zip whose members are either real bytes or N zero bytes (compressing ~1000:1)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, content in members.items():
            if isinstance(content, int):
                with zf.open(name, "w", force_zip64=True) as out:
                    block = b"<a>" + b" " * (1 << 20)
                    written = 0
                    while written < content:
                        out.write(block)
                        written += len(block)
            else:
                zf.writestr(name, content)
    return path


def docx_bomb(folder: Path) -> Path:
    """A DOCX whose document.xml inflates to 1 GB."""
    return _zip_bomb(folder / "docx_bomb.docx", {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "word/document.xml": 1 << 30})


def hwpx_bomb(folder: Path) -> Path:
    """An HWPX whose section inflates to 1 GB."""
    return _zip_bomb(folder / "hwpx_bomb.hwpx", {"mimetype": b"application/hwp+zip",
                                                 "Contents/section0.xml": 1 << 30})


def entity_bomb(folder: Path) -> Path:
    """An HTML file with an XML entity expansion (billion laughs) in its doctype."""
    ents = ['<!ENTITY l0 "민원민원민원민원민원">']
    for i in range(1, 10):
        ents.append(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">')
    path = folder / "entity_bomb.html"
    path.write_text("<?xml version=\"1.0\"?><!DOCTYPE html [" + "".join(ents) + "]><html><body><p>&l9;</p>"
                    "<p>민원 처리기간은 7일입니다.</p></body></html>", encoding="utf-8")
    return path


def xref_loop_pdf(folder: Path) -> Path:
    """A PDF whose cross-reference table points into a loop (Prev pointing to itself)."""
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n")
    xref_at = len(body)
    xref = (b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
            b"trailer<</Size 3/Root 1 0 R/Prev " + str(xref_at).encode() + b">>\nstartxref\n"
            + str(xref_at).encode() + b"\n%%EOF\n")
    path = folder / "xref_loop.pdf"
    path.write_bytes(body + xref)
    return path


def bidi_name(folder: Path) -> Path:
    """A good document whose name hides its real extension behind a right-to-left override."""
    path = folder / "보고서\u202etxt.md"
    path.write_text(BODY, encoding="utf-8")
    return path


def long_korean_name(folder: Path) -> Path:
    """A good document whose name is 100 syllables (300 bytes in UTF-8)."""
    path = folder / ("가" * 80 + ".md")   # the test machine's file system allows 255 bytes
    path.write_text(BODY, encoding="utf-8")
    return path


MAKERS: dict[str, Callable[[Path], Path]] = {f.__name__: f for f in (
    alias_bomb, quadratic_heading, no_spaces, form_feeds, short_lines, nul_flood, bad_byte_utf8, docx_bomb,
    hwpx_bomb, entity_bomb, xref_loop_pdf, bidi_name, long_korean_name)}


def write_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder) for name, make in MAKERS.items()}


def zip_of(files: list[Path], target: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.name)
    target.write_bytes(buf.getvalue())
    return target


# --- parser-side makers (issue 17, parser side) ----------------------------------------------------------
# Zips are written by hand from one deflate chunk repeated (a full flush resets the compressor, so the chunk
# is identical each time): a member that inflates to 1 GB is made in well under a second.

import struct  # noqa: E402
import zlib  # noqa: E402

_WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
               b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
               b'<Default Extension="xml" ContentType="application/xml"/>'
               b'<Override PartName="/word/document.xml" ContentType="application/'
               b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_DOCX_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
_HWPX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
              'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">')


def _repeated_deflate(block: bytes, times: int) -> bytes:
    """Raw deflate of ``block * times``, made from one compressed chunk."""
    chunk_c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = chunk_c.compress(block) + chunk_c.flush(zlib.Z_FULL_FLUSH)
    return chunk * times + b"\x03\x00"   # a final, empty fixed-Huffman block ends the stream


def _crc_repeated(block: bytes, times: int) -> int:
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    return crc


def _raw_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip from ``(name, raw deflate data, crc, inflated size, size written in the directory)``."""
    out, central = bytearray(), bytearray()
    for name, data, crc, size, declared in members:
        encoded = name.encode("utf-8")
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, 8, 0, 0x21, crc, len(data), declared,
                               len(encoded), 0, 0, 0, 0, 0, len(out)) + encoded
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, 8, 0, 0x21, crc, len(data), declared,
                           len(encoded), 0) + encoded + data
        del size
    count = len(members)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def _deflated(name: str, content: bytes, times: int = 1, declared: int | None = None) -> tuple:
    data = _repeated_deflate(content, times)
    size = len(content) * times
    return name, data, _crc_repeated(content, times), size, size if declared is None else declared


def _docx_members(document: bytes, times: int = 1, declared: int | None = None) -> list[tuple]:
    return [_deflated("[Content_Types].xml", _DOCX_TYPES), _deflated("_rels/.rels", _DOCX_RELS),
            _deflated("word/document.xml", document, times, declared)]


def _hwpx_members(section: bytes, times: int = 1, declared: int | None = None) -> list[tuple]:
    return [_deflated("mimetype", b"application/hwp+zip"),
            _deflated("Contents/section0.xml", section, times, declared)]


def docx_bomb_full(folder: Path) -> Path:
    """A complete DOCX package (content types, relationships) whose document.xml inflates to 1 GB, so the
    reader really opens it (``docx_bomb`` lacks the relationships and is refused before that)."""
    block = (b"<w:p><w:r><w:t>" + b" " * 4000 + b"</w:t></w:r></w:p>") * 256
    return _raw_zip(folder / "docx_bomb_full.docx", _docx_members(block, (1 << 30) // len(block)))


def zip_many_members(folder: Path) -> Path:
    """An HWPX of 20,000 empty members: the directory alone costs objects per entry."""
    members = _hwpx_members((_HWPX_HEAD + "<hp:p><hp:run><hp:t>민원</hp:t></hp:run></hp:p></hs:sec>").encode())
    members += [_deflated(f"BinData/{i}", b"") for i in range(20_000)]
    return _raw_zip(folder / "zip_many_members.hwpx", members)


def zip_lying_size(folder: Path) -> Path:
    """An HWPX whose directory says its section is 4 KB while it inflates to 100 MB."""
    block = (b"<hp:p><hp:run><hp:t>" + "민원".encode() * 1000 + b"</hp:t></hp:run></hp:p>") * 100
    return _raw_zip(folder / "zip_lying_size.hwpx", _hwpx_members(block, (100 << 20) // len(block), declared=4096))


def _billion_laughs(root: str) -> bytes:
    ents = ['<!ENTITY l0 "민원민원민원민원민원민원민원민원민원민원">']
    ents += [f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">' for i in range(1, 10)]
    return f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE {root} [{"".join(ents)}]>'.encode()


def docx_entity_bomb(folder: Path) -> Path:
    """A DOCX whose document.xml declares entities expanding to 10^9 × "민원" (billion laughs)."""
    body = _billion_laughs("w:document") + (
        f'<w:document xmlns:w="{_WORD_NS}"><w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>민원 처리기간은 7일입니다.</w:t></w:r></w:p></w:body></w:document>').encode()
    return _raw_zip(folder / "docx_entity_bomb.docx", _docx_members(body))


def hwpx_entity_bomb(folder: Path) -> Path:
    """An HWPX whose section declares entities expanding to 10^9 × "민원" (billion laughs)."""
    section = (_billion_laughs("hs:sec") + _HWPX_HEAD[_HWPX_HEAD.index("?>") + 2:].encode()
               + b"<hp:p><hp:run><hp:t>&l9;</hp:t></hp:run></hp:p></hs:sec>")
    return _raw_zip(folder / "hwpx_entity_bomb.hwpx", _hwpx_members(section))


def hwpx_deep_nesting(folder: Path) -> Path:
    """An HWPX section nested 20,000 elements deep: recursive readers run out of stack."""
    section = (_HWPX_HEAD + "<hp:p>" * 20_000 + "<hp:run><hp:t>민원</hp:t></hp:run>" + "</hp:p>" * 20_000
               + "</hs:sec>").encode()
    return _raw_zip(folder / "hwpx_deep_nesting.hwpx", _hwpx_members(section))


# --- HWP 5: an OLE compound file written by hand (512-byte sectors, no mini stream) -------------------

_END, _FREE, _FATSECT, _NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(name: str, kind: int, child: int = _NONE, right: int = _NONE, start: int = _END,
               size: int = 0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack("<64sHBB3L16sL16sLQ", encoded, len(encoded), kind, 1, _NONE, right, child, b"", 0, b"",
                       start, size)


def ole_file(path: Path, streams: dict[str, bytes]) -> Path:
    """A compound file holding ``streams`` ("Storage/Stream" names, one level of storage at most). Streams
    shorter than 4,096 bytes are padded to it, so no mini stream is needed."""
    data = {name: content.ljust(4096, b"\0") for name, content in streams.items()}
    storages = sorted({n.split("/")[0] for n in data if "/" in n})
    # directory: root, then each storage and stream; children chained through right siblings
    def order(n: str) -> tuple[int, str]:
        return len(n), n.upper()

    names = ["Root Entry"] + sorted(set(storages) | {n for n in data if "/" not in n}, key=order)
    for storage in storages:
        names += sorted((n for n in data if n.startswith(storage + "/")), key=order)
    ids = {n: i for i, n in enumerate(names)}
    sectors: list[bytes] = []
    starts: dict[str, tuple[int, int]] = {}
    fat: list[int] = []
    for name in names[1:]:
        if name in data:
            content = data[name]
            count = -(-len(content) // 512)
            starts[name] = (len(fat), len(content))
            fat += [len(fat) + k + 1 for k in range(count - 1)] + [_END]
            sectors.append(content.ljust(count * 512, b"\0"))

    def chain(children: list[str]) -> dict[str, int]:
        return {c: ids[children[k + 1]] if k + 1 < len(children) else _NONE for k, c in enumerate(children)}

    top = names[1:1 + len(storages) + sum(1 for n in data if "/" not in n)]
    right = chain(top)
    entries = [_dir_entry("Root Entry", 5, child=ids[top[0]])]
    for storage in storages:
        right.update(chain([n for n in names if n.startswith(storage + "/")]))
    for name in names[1:]:
        short = name.split("/")[-1]
        if name in data:
            start, size = starts[name]
            entries.append(_dir_entry(short, 2, right=right[name], start=start, size=size))
        else:
            kids = [n for n in names if n.startswith(name + "/")]
            entries.append(_dir_entry(short, 1, child=ids[kids[0]], right=right[name]))
    while len(entries) % 4:
        entries.append(_dir_entry("", 0))
    directory = b"".join(entries)
    dir_start, dir_count = len(fat), len(directory) // 512
    fat += [dir_start + k + 1 for k in range(dir_count - 1)] + [_END]
    fat_count = 1
    while (len(fat) + fat_count) > fat_count * 128:
        fat_count += 1
    assert fat_count <= 109, "no DIFAT sectors: the file must stay under ~7 MB"
    fat_start = len(fat)
    fat += [_FATSECT] * fat_count
    fat += [_FREE] * (fat_count * 128 - len(fat))
    difat = [fat_start + k for k in range(fat_count)] + [_FREE] * (109 - fat_count)
    header = struct.pack("<8s16s5H6s9L109L", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", 0x3E, 3, 0xFFFE, 9, 6,
                         b"", 0, fat_count, dir_start, 0, 4096, _END, 0, _END, 0, *difat)
    path.write_bytes(header + b"".join(sectors) + directory + struct.pack(f"<{len(fat)}L", *fat))
    return path


def hwp_records(paragraphs: list[str]) -> bytes:
    """HWP 5 body records: one PARA_TEXT (tag 67) per paragraph, ending with a paragraph break."""
    out = bytearray()
    for text in paragraphs:
        data = (text + "\r").encode("utf-16-le")
        if len(data) < 0xFFF:
            out += struct.pack("<I", 67 | (len(data) << 20)) + data
        else:
            out += struct.pack("<II", 67 | (0xFFF << 20), len(data)) + data
    return bytes(out)


def _file_header(compressed: bool = True) -> bytes:
    return b"HWP Document File".ljust(32, b"\0") + struct.pack("<II", 0x05000300, int(compressed))


def hwp_document(path: Path, sections: list[list[str]]) -> Path:
    """A minimal HWP 5 file (FileHeader and compressed BodyText/SectionN) with the given paragraphs."""
    streams = {"FileHeader": _file_header()}
    for number, paragraphs in enumerate(sections):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        streams[f"BodyText/Section{number}"] = c.compress(hwp_records(paragraphs)) + c.flush()
    return ole_file(path, streams)


def hwp_bomb(folder: Path) -> Path:
    """An HWP 5 file whose body section (a raw deflate stream of 1 MB) inflates to 1 GB."""
    head = hwp_records(["민원 처리기간은 7일입니다."])
    body = _repeated_deflate(b"\0" * (1 << 20), 1 << 10)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    return ole_file(folder / "hwp_bomb.hwp", {"FileHeader": _file_header(), "BodyText/Section0": first + body})


# --- PDF ---------------------------------------------------------------------------------------------

def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


_PDF_PAGE_TAIL = (b"/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>")
_PDF_TEXT = b"BT /F1 12 Tf 72 720 Td (Minwon processing period is 7 days.) Tj ET"
_PDF_FONT = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"


def pdf_many_pages(folder: Path) -> Path:
    """A PDF of 50,000 pages (one page object listed 50,000 times): every page costs a text extraction."""
    count = 50_000
    kids = b" ".join([b"3 0 R"] * count)
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[%s]/Count %d>>" % (kids, count),
               b"<</Type/Page/Parent 2 0 R" + _PDF_PAGE_TAIL,
               b"<</Length %d>>stream\n%s\nendstream" % (len(_PDF_TEXT), _PDF_TEXT), _PDF_FONT]
    path = folder / "pdf_many_pages.pdf"
    path.write_bytes(_pdf(objects))
    return path


def pdf_page_loop(folder: Path) -> Path:
    """A PDF whose page tree lists itself among its kids (a cycle) and claims a billion pages."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R 2 0 R]/Count 1000000000>>",
               b"<</Type/Page/Parent 2 0 R" + _PDF_PAGE_TAIL,
               b"<</Length %d>>stream\n%s\nendstream" % (len(_PDF_TEXT), _PDF_TEXT), _PDF_FONT]
    path = folder / "pdf_page_loop.pdf"
    path.write_bytes(_pdf(objects))
    return path


PARSER_MAKERS: dict[str, Callable[[Path], Path]] = {f.__name__: f for f in (
    docx_bomb_full, zip_many_members, zip_lying_size, docx_entity_bomb, hwpx_entity_bomb, hwpx_deep_nesting,
    hwp_bomb, pdf_many_pages, pdf_page_loop)}
MAKERS.update(PARSER_MAKERS)
