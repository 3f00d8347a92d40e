"""The default OCR engine: Tesseract 5 with its Korean model (Debian ``tesseract-ocr`` + ``tesseract-ocr-kor``).

Called through pytesseract rather than OCRmyPDF: the parsers need per-word confidences and boxes (pages are
flagged by confidence, table words are put into cells), which ``image_to_data`` gives and OCRmyPDF does not
expose; OCRmyPDF also needs Ghostscript and writes a whole new PDF, where only the text is wanted. Deskew
and ruled-table handling are done here (assistant.ocr.layout) on the page image instead.

Each page is one ``tesseract`` process with OpenMP limited to one thread: the web app's two cores are shared
with search, and Tesseract's own threading gives little on one page.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from assistant.ocr import OcrBlock, OcrEngine, OcrOptions, OcrPage, OcrUnavailable, register_ocr_engine
from assistant.ocr.layout import erase, find_tables, ink_mask, rotate, skew_angle

log = logging.getLogger(__name__)

_INSTALL = ("관리자에게 Debian 패키지 tesseract-ocr, tesseract-ocr-kor 설치를 요청하세요 "
            "(프로젝트의 'make system-deps'가 설치합니다).")
#: Tesseract reads a text line best when capitals are ~30 px: pages are brought near 300 dpi
_TARGET_LONG_SIDE = 3300
#: a line read with less confidence than this (0–100) is read again on its own (see ``_reread``)
_REREAD_BELOW = 85.0
#: a word below this confidence may be Latin the Korean model cannot read (see ``_latin_runs``)
_DOUBTFUL_WORD = 70.0
_ODD = re.compile(r"[\u3131-\u318e『』\uff21-\uff3a\uff41-\uff5a]|\[(?!\d)")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9.,:/%&+-]*")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,)\]」』%])")


@register_ocr_engine("tesseract")
class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self) -> None:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self._version = ""
        self._psm = 6
        self._has_eng = False

    def check(self) -> None:
        import pytesseract

        try:
            self._version = str(pytesseract.get_tesseract_version())
            languages = set(pytesseract.get_languages(config=""))
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrUnavailable("OCR 엔진 tesseract가 설치되어 있지 않아 스캔 문서와 이미지를 읽을 수 없습니다. "
                                 + _INSTALL) from exc
        self._has_eng = "eng" in languages
        if "kor" not in languages:
            raise OcrUnavailable("tesseract의 한국어 모델(kor)이 없어 스캔 문서와 이미지를 읽을 수 없습니다. "
                                 + _INSTALL)

    @property
    def identity(self) -> str:
        return f"tesseract {self._version}".strip()

    def read(self, image: Any, options: OcrOptions) -> OcrPage:
        gray = _prepared(image)
        angle = skew_angle(gray)
        gray = rotate(gray, angle)
        noisy = _noisy(gray)
        if noisy:   # sensor noise and dust: a 5-px median keeps strokes and removes specks (CER 17 % → 9 %)
            gray = ImageOps.autocontrast(gray.filter(ImageFilter.MedianFilter(5)), cutoff=1)
        self._psm = 4 if noisy else 6
        tables, lines = find_tables(ink_mask(gray), options.dpi)
        erased = erase(gray, lines, grow=4)
        words = self._words(erased, options.language)
        if not noisy:   # on noisy pages the line pass made things worse (one page: CER 6 % → 21 %): not used
            words = self._reread(erased, words, options.language)
        page = _assemble(words, tables)
        page.rotation = angle
        if page.confidence is not None and page.confidence < options.low_confidence:
            turned = self._upright(gray, options, page)
            if turned is not None:
                return turned
        return page

    def _reread(self, gray: Image.Image, words: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
        """Read the page's doubtful lines again, one line at a time, and keep the more confident reading.

        Two things the page-level pass gets wrong on clean 공문 are mended this way: large headings (the
        issuing office, often split into two "lines" by their height), re-read as one line scaled to body-text
        size; and Latin inside Korean ("LPG용기" read as "[『?ㅇ용기"): a run of doubtful words is read with
        the English model and kept when it reads as Latin letters and digits. Only lines below
        ``_REREAD_BELOW``, tall lines and lines with doubtful words are touched, so a clean page costs a few
        extra Tesseract runs (about a third more time).
        """
        body = sorted(w["height"] for w in words) or [0]
        body_h = body[len(body) // 2]
        out: list[dict[str, Any]] = []
        for n, ws in enumerate(_visual_lines(words)):
            conf = _confidence(ws) or 0.0
            height = max(w["top"] + w["height"] for w in ws) - min(w["top"] for w in ws)
            large = bool(body_h) and height > 1.5 * body_h   # misread with confidence: always re-read
            if (conf < _REREAD_BELOW or large) and body_h:
                again = self._line(gray, ws, body_h, language)
                if again and (_confidence(again) or 0.0) > conf + (0 if large else 5):
                    ws = again
            if self._has_eng and "eng" not in language.split("+") and any(_doubtful(w) for w in ws):
                ws = self._latin_runs(gray, ws)
            # one line again, its words numbered left to right (joined or re-read lines mix numberings)
            first = ws[0] if ws else {}
            out += [w | {"block_num": first.get("block_num", 0), "par_num": first.get("par_num", 0),
                         "line_num": first.get("line_num", n), "word_num": i} for i, w in enumerate(ws, 1)]
        return out

    def _latin_runs(self, gray: Image.Image, words: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Runs of doubtful words in a line read again with the English model; a reading of Latin letters
        and digits (an acronym, a unit) replaces the run."""
        out: list[dict[str, Any]] = []
        run: list[dict[str, Any]] = []
        for w in [*words, None]:
            # a run starts at a doubtful word and takes in the unsure ones beside it (Tesseract often splits
            # "LPG" into "[『", "ㅇ", "6" with mixed confidences)
            if w is not None and (_doubtful(w) or (run and w["conf"] < _REREAD_BELOW - 5)):
                run.append(w)
                continue
            if run:
                got = self._line(gray, run, 0, "eng")
                text = "".join(g["text"] for g in got).rstrip(";:,'\"|")
                conf = _confidence(got) or 0.0
                if got and _LATIN.fullmatch(text) and conf >= 75:
                    merged = run[0] | {"text": text, "conf": conf,
                                       "width": run[-1]["left"] + run[-1]["width"] - run[0]["left"]}
                    out.append(merged)
                else:
                    out += run
                run = []
            if w is not None:
                out.append(w)
        return out

    def _line(self, gray: Image.Image, words: list[dict[str, Any]], body_h: int,
              language: str) -> list[dict[str, Any]]:
        """One line's words read on their own (psm 7), scaled so its letters are body-text size; boxes are
        mapped back to the page."""
        left = min(w["left"] for w in words)
        top = min(w["top"] for w in words)
        right = max(w["left"] + w["width"] for w in words)
        bottom = max(w["top"] + w["height"] for w in words)
        h = bottom - top
        pad = max(h // 2, 8)
        box = (max(left - pad, 0), max(top - pad, 0), min(right + pad, gray.width), min(bottom + pad, gray.height))
        crop = gray.crop(box)
        scale = min(1.0, body_h / max(h, 1) * 1.2) if body_h else 1.0   # shrink a heading, never enlarge
        if scale < 0.95:
            crop = crop.resize((max(round(crop.width * scale), 1), max(round(crop.height * scale), 1)),
                               Image.Resampling.LANCZOS)
        got = self._words(crop, language, psm=7)
        for w in got:
            w["left"] = box[0] + round(w["left"] / scale if scale < 0.95 else w["left"])
            w["top"] = box[1] + round(w["top"] / scale if scale < 0.95 else w["top"])
            if scale < 0.95:
                w["width"], w["height"] = round(w["width"] / scale), round(w["height"] / scale)
        return got

    def _words(self, gray: Image.Image, language: str, psm: int | None = None) -> list[dict[str, Any]]:
        import pytesseract

        # psm 6 (one uniform block) reads clean 공문 best; psm 4 (one column of lines) copes better with noise.
        # preserve_interword_spaces stops the Korean model from spacing out every syllable.
        config = f"--psm {psm or self._psm} -c preserve_interword_spaces=1"
        data = pytesseract.image_to_data(gray, lang=language, config=config,
                                         output_type=pytesseract.Output.DICT)
        out = []
        for i, text in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if conf < 0 or not str(text).strip():
                continue
            out.append({k: data[k][i] for k in ("block_num", "par_num", "line_num", "word_num",
                                                 "left", "top", "width", "height")}
                       | {"text": str(text).strip(), "conf": conf})
        return out

    def _upright(self, gray: Image.Image, options: OcrOptions, page: OcrPage) -> OcrPage | None:
        """A page read badly may be sideways or upside down: ask Tesseract's orientation detector, and keep
        the turned reading when it is more confident."""
        import pytesseract

        try:
            osd = pytesseract.image_to_osd(gray, config="--psm 0", output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractError:   # too little text to tell, or no osd model installed
            return None
        turn = int(osd.get("rotate", 0) or 0)
        if turn not in (90, 180, 270):
            return None
        turned = gray.rotate(-turn, expand=True, fillcolor=255)
        tables, lines = find_tables(ink_mask(turned), options.dpi)
        again = _assemble(self._words(erase(turned, lines), options.language), tables)
        again.rotation = page.rotation + turn
        if again.confidence is not None and again.confidence > (page.confidence or 0):
            return again
        return None


def _doubtful(word: dict[str, Any]) -> bool:
    """A word the Korean model probably misread: unsure, or holding what Korean 공문 text does not (a lone
    jamo, 『 or [ inside a word, full-width Latin) — the marks of Latin read with the Korean model."""
    return word["conf"] < _DOUBTFUL_WORD or bool(_ODD.search(word["text"]))


def _visual_lines(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Tesseract's lines, with lines that overlap vertically by more than half joined (a large heading is
    sometimes split into two lines by its height)."""
    lines: dict[tuple[int, int, int], list[dict[str, Any]]] = defaultdict(list)
    for w in words:
        lines[(w["block_num"], w["par_num"], w["line_num"])].append(w)
    joined: list[list[dict[str, Any]]] = []
    span: list[tuple[int, int]] = []
    for ws in lines.values():
        top, bottom = min(w["top"] for w in ws), max(w["top"] + w["height"] for w in ws)
        if joined:
            ptop, pbottom = span[-1]
            overlap = min(bottom, pbottom) - max(top, ptop)
            if overlap > 0.5 * min(bottom - top, pbottom - ptop):
                joined[-1] = sorted(joined[-1] + ws, key=lambda w: w["left"])
                span[-1] = (min(top, ptop), max(bottom, pbottom))
                continue
        joined.append(ws)
        span.append((top, bottom))
    return joined


def _prepared(image: Image.Image) -> Image.Image:
    """Grayscale, upright per EXIF, and scaled so text is near the size Tesseract was trained on."""
    img = ImageOps.exif_transpose(image) or image
    gray = img.convert("L")
    long_side = max(gray.size)
    if long_side < _TARGET_LONG_SIDE * 0.6:    # a phone photo or a low-dpi scan
        scale = _TARGET_LONG_SIDE * 0.8 / long_side
        gray = gray.resize((round(gray.width * scale), round(gray.height * scale)), Image.Resampling.LANCZOS)
    return gray


def _noisy(gray: Image.Image) -> bool:
    """Whether the page carries sensor noise or dust: how much the paper (pixels a 3-px median calls
    background) varies, on a full-resolution crop of the page's middle. Clean scans vary by ~1 gray level."""
    w, h = gray.size
    crop = gray.crop((w // 4, h // 4, w // 4 + min(800, w // 2), h // 4 + min(800, h // 2)))
    a = np.asarray(crop, dtype=np.int16)
    b = np.asarray(crop.filter(ImageFilter.MedianFilter(3)), dtype=np.int16)
    paper = b > 180
    return bool(paper.any()) and float(np.abs(a - b)[paper].mean()) > 4.0


def _assemble(words: list[dict[str, Any]], tables: list[Any]) -> OcrPage:
    """Paragraphs from Tesseract's own grouping, table words into their cells; blocks in reading order."""
    paragraphs: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    cells: list[dict[tuple[int, int], list[dict[str, Any]]]] = [defaultdict(list) for _ in tables]
    for w in words:
        cx, cy = w["left"] + w["width"] / 2, w["top"] + w["height"] / 2
        for t, table in enumerate(tables):
            if table.left <= cx <= table.right and table.top <= cy <= table.bottom:
                where = table.cell_of(cx, cy)
                if where is not None:
                    cells[t][where].append(w)
                break
        else:
            paragraphs[(w["block_num"], w["par_num"])].append(w)
    blocks = [OcrBlock(_paragraph_text(ws), "paragraph", min(w["top"] for w in ws)) for ws in paragraphs.values()]
    for table, found in zip(tables, cells, strict=True):
        rows = []
        for r, xs in enumerate(table.columns):
            row = tuple(_cell_text(found.get((r, c), [])) for c in range(max(len(xs) - 1, 0)))
            if any(row):
                rows.append(row)
        if rows:
            text = "\n".join(" | ".join(c for c in row if c) for row in rows)
            blocks.append(OcrBlock(text, "table", table.top, tuple(rows)))
    blocks.sort(key=lambda b: b.top)
    return OcrPage([b for b in blocks if b.text.strip()], _confidence(words))


def _paragraph_text(words: list[dict[str, Any]]) -> str:
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for w in sorted(words, key=lambda w: (w["line_num"], w["word_num"])):
        lines[w["line_num"]].append(w)
    return "\n".join(_tidy(_joined(ws)) for ws in lines.values())


def _cell_text(words: list[dict[str, Any]]) -> str:
    ordered = sorted(words, key=lambda w: (w["block_num"], w["par_num"], w["line_num"], w["word_num"]))
    return _tidy(_joined(ordered))


def _joined(words: list[dict[str, Any]]) -> str:
    """A line's words, with a space only where the page has one.

    The Korean model often returns each syllable as a "word"; the gap between boxes tells a real space
    (about half a character wide) from the tracking inside a word.
    """
    if not words:
        return ""
    heights = sorted(w["height"] for w in words)
    gap_min = 0.3 * heights[len(heights) // 2]
    out = [words[0]["text"]]
    for prev, w in zip(words, words[1:], strict=False):
        gap = w["left"] - (prev["left"] + prev["width"])
        same_line = w["line_num"] == prev["line_num"] and w["par_num"] == prev["par_num"]
        out.append((" " if gap > gap_min or not same_line else "") + w["text"])
    return "".join(out)


def _tidy(text: str) -> str:
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text).strip()


def _confidence(words: list[dict[str, Any]]) -> float | None:
    """Character-weighted mean word confidence: a confident long word outweighs a doubtful speck."""
    total = sum(len(w["text"]) for w in words)
    if not total:
        return None
    return round(sum(w["conf"] * len(w["text"]) for w in words) / total, 1)
