"""HWPX (한글 OWPML) output, written as the zip package directly — no runtime dependency.

Package layout (KS X 6101 / OWPML): ``mimetype`` first and stored uncompressed (readers sniff it at a fixed
offset, like EPUB/ODF), ``version.xml``, ``META-INF/container.xml`` pointing at ``Contents/content.hpf``
(the OPF manifest and spine), ``Contents/header.xml`` (fonts, character and paragraph shapes, styles),
``Contents/section0.xml`` (the text; its first paragraph carries the page setup ``secPr``), ``settings.xml``
and ``Preview/PrvText.txt`` (the plain-text preview 한글 and file browsers show).

Shapes used here: fonts 맑은 고딕 (id 0) and 바탕 (id 1) for every script; character shapes 0 body 11pt 바탕,
1 title 16pt bold 맑은 고딕, 2 heading 13pt bold 맑은 고딕, 3 meta 9pt grey, 4 □ item 12pt bold 맑은 고딕;
paragraph shapes 0 justified, 1 centred, 2–4 indented by item level. Sizes are HWPUNIT (1/100 pt; 1 mm ≈ 283).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from assistant.output import OutputDocument, atomic_write_bytes

NS = {
    "ha": "http://www.hancom.co.kr/hwpml/2011/app",
    "hp": "http://www.hancom.co.kr/hwpml/2011/paragraph",
    "hp10": "http://www.hancom.co.kr/hwpml/2016/paragraph",
    "hs": "http://www.hancom.co.kr/hwpml/2011/section",
    "hc": "http://www.hancom.co.kr/hwpml/2011/core",
    "hh": "http://www.hancom.co.kr/hwpml/2011/head",
    "hpf": "http://www.hancom.co.kr/schema/2011/hpf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "opf": "http://www.idpf.org/2007/opf/",
    "hwpunitchar": "http://www.hancom.co.kr/hwpml/2016/HwpUnitChar",
}
_XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
LANGS = ("HANGUL", "LATIN", "HANJA", "JAPANESE", "OTHER", "SYMBOL", "USER")
FONTS = ("맑은 고딕", "바탕")
# id: (height in 1/100 pt, bold, font id, colour)
CHAR_SHAPES = {0: (1100, False, 1, "#000000"), 1: (1600, True, 0, "#000000"), 2: (1300, True, 0, "#000000"),
               3: (900, False, 0, "#555555"), 4: (1200, True, 0, "#000000")}
# id: (horizontal alignment, left margin, space before) in HWPUNIT
PARA_SHAPES = {0: ("JUSTIFY", 0, 0), 1: ("CENTER", 0, 0), 2: ("JUSTIFY", 0, 800), 3: ("JUSTIFY", 1700, 0),
               4: ("JUSTIFY", 3400, 0)}
_KIND_SHAPES = {"title": (1, 1), "meta": (3, 0), "heading": (2, 2), "item1": (4, 2), "item2": (0, 3),
                "item3": (0, 4), "body": (0, 0)}  # kind → (charPr, paraPr)
PAGE_WIDTH, PAGE_HEIGHT = 59528, 84186  # A4
MARGINS = {"left": 8504, "right": 8504, "top": 5668, "bottom": 4252, "header": 4252, "footer": 4252, "gutter": 0}


def _per_lang(tag: str, value: str | int) -> str:
    return f"<hh:{tag} " + " ".join(f'{lang.lower()}="{value}"' for lang in LANGS) + "/>"


def _fontfaces() -> str:
    faces = []
    for lang in LANGS:
        fonts = "".join(f'<hh:font id="{i}" face={quoteattr(name)} type="TTF" isEmbedded="0"/>'
                        for i, name in enumerate(FONTS))
        faces.append(f'<hh:fontface lang="{lang}" fontCnt="{len(FONTS)}">{fonts}</hh:fontface>')
    return f'<hh:fontfaces itemCnt="{len(LANGS)}">{"".join(faces)}</hh:fontfaces>'


def _border_fills() -> str:
    sides = "".join(f'<hh:{s} type="NONE" width="0.1 mm" color="#000000"/>'
                    for s in ("leftBorder", "rightBorder", "topBorder", "bottomBorder"))
    fills = "".join(
        f'<hh:borderFill id="{i}" threeD="0" shadow="0" centerLine="NONE" breakCellSeparateLine="0">'
        '<hh:slash type="NONE" Crooked="0" isCounter="0"/><hh:backSlash type="NONE" Crooked="0" isCounter="0"/>'
        f'{sides}<hh:diagonal type="SOLID" width="0.1 mm" color="#000000"/></hh:borderFill>' for i in (1, 2))
    return f'<hh:borderFills itemCnt="2">{fills}</hh:borderFills>'


def _char_properties() -> str:
    items = []
    for cid, (height, bold, font, colour) in CHAR_SHAPES.items():
        items.append(
            f'<hh:charPr id="{cid}" height="{height}" textColor="{colour}" shadeColor="none" useFontSpace="0" '
            f'useKerning="0" symMark="NONE" borderFillIDRef="2">{_per_lang("fontRef", font)}'
            f'{_per_lang("ratio", 100)}{_per_lang("spacing", 0)}{_per_lang("relSz", 100)}{_per_lang("offset", 0)}'
            + ("<hh:bold/>" if bold else "")
            + '<hh:underline type="NONE" shape="SOLID" color="#000000"/><hh:strikeout shape="NONE" color="#000000"/>'
            '<hh:outline type="NONE"/><hh:shadow type="NONE" color="#C0C0C0" offsetX="10" offsetY="10"/></hh:charPr>')
    return f'<hh:charProperties itemCnt="{len(items)}">{"".join(items)}</hh:charProperties>'


def _margin(left: int, prev: int) -> str:
    return (f'<hh:margin><hc:intent value="0" unit="HWPUNIT"/><hc:left value="{left}" unit="HWPUNIT"/>'
            f'<hc:right value="0" unit="HWPUNIT"/><hc:prev value="{prev}" unit="HWPUNIT"/>'
            '<hc:next value="0" unit="HWPUNIT"/></hh:margin>'
            '<hh:lineSpacing type="PERCENT" value="160" unit="HWPUNIT"/>')


def _para_properties() -> str:
    items = []
    for pid, (align, left, prev) in PARA_SHAPES.items():
        items.append(
            f'<hh:paraPr id="{pid}" tabPrIDRef="0" condense="0" fontLineHeight="0" snapToGrid="1" '
            f'suppressLineNumbers="0" checked="0" textDir="LTR"><hh:align horizontal="{align}" vertical="BASELINE"/>'
            '<hh:heading type="NONE" idRef="0" level="0"/><hh:breakSetting breakLatinWord="KEEP_WORD" '
            'breakNonLatinWord="BREAK_WORD" widowOrphan="0" keepWithNext="0" keepLines="0" pageBreakBefore="0" '
            'lineWrap="BREAK"/><hh:autoSpacing eAsianEng="0" eAsianNum="0"/>'
            f'<hp:switch><hp:case hp:required-namespace="{NS["hwpunitchar"]}">{_margin(left, prev)}</hp:case>'
            f'<hp:default>{_margin(left, prev)}</hp:default></hp:switch>'
            '<hh:border borderFillIDRef="2" offsetLeft="0" offsetRight="0" offsetTop="0" offsetBottom="0" '
            'connect="0" ignoreMargin="0"/></hh:paraPr>')
    return f'<hh:paraProperties itemCnt="{len(items)}">{"".join(items)}</hh:paraProperties>'


def header_xml() -> str:
    styles = ('<hh:styles itemCnt="1"><hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="0" '
              'charPrIDRef="0" nextStyleIDRef="0" langID="1042" lockForm="0"/></hh:styles>')
    tabs = '<hh:tabProperties itemCnt="1"><hh:tabPr id="0" autoTabLeft="0" autoTabRight="0"/></hh:tabProperties>'
    return (f'{_DECL}<hh:head {_XMLNS} version="1.5" secCnt="1">'
            '<hh:beginNum page="1" footnote="1" endnote="1" pic="1" tbl="1" equation="1"/>'
            f'<hh:refList>{_fontfaces()}{_border_fills()}{_char_properties()}{tabs}{_para_properties()}{styles}'
            '</hh:refList><hh:compatibleDocument targetProgram="HWP201X"><hh:layoutCompatibility/>'
            '</hh:compatibleDocument><hh:docOption><hh:linkinfo path="" pageInherit="0" footnoteInherit="0"/>'
            '</hh:docOption></hh:head>')


def _sec_pr() -> str:
    m = MARGINS
    return ('<hp:secPr id="" textDirection="HORIZONTAL" spaceColumns="1134" tabStop="8000" tabStopVal="4000" '
            'tabStopUnit="HWPUNIT" outlineShapeIDRef="0" memoShapeIDRef="0" textVerticalWidthHead="0" '
            'masterPageCnt="0"><hp:grid lineGrid="0" charGrid="0" wonggojiFormat="0"/>'
            '<hp:startNum pageStartsOn="BOTH" page="0" pic="0" tbl="0" equation="0"/>'
            '<hp:visibility hideFirstHeader="0" hideFirstFooter="0" hideFirstMasterPage="0" border="SHOW_ALL" '
            'fill="SHOW_ALL" hideFirstPageNum="0" hideFirstEmptyLine="0" showLineNumber="0"/>'
            f'<hp:pagePr landscape="WIDELY" width="{PAGE_WIDTH}" height="{PAGE_HEIGHT}" gutterType="LEFT_ONLY">'
            f'<hp:margin header="{m["header"]}" footer="{m["footer"]}" gutter="{m["gutter"]}" left="{m["left"]}" '
            f'right="{m["right"]}" top="{m["top"]}" bottom="{m["bottom"]}"/></hp:pagePr></hp:secPr>'
            '<hp:ctrl><hp:colPr id="" type="NEWSPAPER" layout="LEFT" colCount="1" sameSz="1" sameGap="0"/></hp:ctrl>')


def _paragraph(pid: int, text: str, kind: str, first: bool = False) -> str:
    char_id, para_id = _KIND_SHAPES[kind]
    lead = f'<hp:run charPrIDRef="{char_id}">{_sec_pr()}</hp:run>' if first else ""
    return (f'<hp:p id="{pid}" paraPrIDRef="{para_id}" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">'
            f'{lead}<hp:run charPrIDRef="{char_id}"><hp:t>{escape(text)}</hp:t></hp:run></hp:p>')


def _lines(doc: OutputDocument) -> list[tuple[str, str]]:
    return [(doc.title, "title")] + [(m, "meta") for m in doc.meta] + [(p.text, p.kind) for p in doc.paras]


def section_xml(doc: OutputDocument) -> str:
    paras = "".join(_paragraph(i, text, kind, first=(i == 0)) for i, (text, kind) in enumerate(_lines(doc)))
    return f"{_DECL}<hs:sec {_XMLNS}>{paras}</hs:sec>"


def content_hpf(title: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'{_DECL}<opf:package {_XMLNS} version="" unique-identifier="" id=""><opf:metadata>'
            f'<opf:title>{escape(title)}</opf:title><opf:language>ko</opf:language>'
            '<opf:meta name="creator" content="text">AI 행정비서</opf:meta>'
            f'<opf:meta name="CreatedDate" content="text">{now}</opf:meta>'
            f'<opf:meta name="ModifiedDate" content="text">{now}</opf:meta></opf:metadata><opf:manifest>'
            '<opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>'
            '<opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>'
            '<opf:item id="settings" href="settings.xml" media-type="application/xml"/></opf:manifest>'
            '<opf:spine><opf:itemref idref="header" linear="yes"/><opf:itemref idref="section0" linear="yes"/>'
            '</opf:spine></opf:package>')


_VERSION = (f'{_DECL}<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" '
            'tagetApplication="WORDPROCESSOR" major="5" minor="1" micro="0" buildNumber="1" os="1" xmlVersion="1.5" '
            'application="AI 행정비서" appVersion="0.1"/>')
_CONTAINER = (f'{_DECL}<ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container" '
              'xmlns:hpf="http://www.hancom.co.kr/schema/2011/hpf"><ocf:rootfiles>'
              '<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>'
              '<ocf:rootfile full-path="Preview/PrvText.txt" media-type="text/plain"/>'
              '</ocf:rootfiles></ocf:container>')
_MANIFEST = f'{_DECL}<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'
_SETTINGS = (f'{_DECL}<ha:HWPApplicationSetting xmlns:ha="{NS["ha"]}" '
             'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0">'
             '<ha:CaretPosition listIDRef="0" paraIDRef="0" pos="0"/></ha:HWPApplicationSetting>')


def render_hwpx(doc: OutputDocument) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        parts = {
            "version.xml": _VERSION,
            "META-INF/container.xml": _CONTAINER,
            "META-INF/manifest.xml": _MANIFEST,
            "Contents/content.hpf": content_hpf(doc.title),
            "Contents/header.xml": header_xml(),
            "Contents/section0.xml": section_xml(doc),
            "settings.xml": _SETTINGS,
            "Preview/PrvText.txt": "\r\n".join(t for t, _ in _lines(doc))[:1024],
        }
        for name, text in parts.items():
            zf.writestr(name, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def write_hwpx(doc: OutputDocument, path: Path) -> None:
    atomic_write_bytes(path, render_hwpx(doc))
