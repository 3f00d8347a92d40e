"""Korean 공문-like test pages, rendered at 300 dpi with Pillow and the Nanum fonts (Debian fonts-nanum).

Each page is a short official letter: the issuing office, 수신/제목 lines, numbered paragraphs of real text
from the shared corpus (welfare-services-2023: one service per page), a ruled table of the service's facts,
"끝." and a 결재 block of three signature boxes. Pages alternate two fonts (NanumGothic, NanumMyeongjo).
A noisy copy adds what a scanner and a phone camera add: a slight rotation, blur, sensor noise, specks,
a grey background and JPEG compression.

Used by tests/ocr and bench/bench_ocr.py; nothing rendered here is committed.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
FONTS = ("NanumGothic.ttf", "NanumMyeongjo.ttf")
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "welfare-services-2023" / "docs"
DPI = 300
WIDTH, HEIGHT = 2480, 3508          # A4 at 300 dpi
MARGIN = 200


@dataclass(frozen=True)
class Sheet:
    """One page's source: the corpus file, its table rows (구분 | 내용 | 비고) and the 결재 names."""

    file: str
    table: tuple[tuple[str, str, str], ...]
    signers: tuple[str, str, str]


SHEETS = (
    Sheet("01_생계_지원/01_LPG용기_사용가구_시설개선.md",
          (("지원대상", "LPG 고무호스 사용 가구", "주택"), ("지원금액", "20만 원", "자부담 5만 원"),
           ("신청처", "시군구 가스담당부서", "방문"), ("문의", "한국가스안전공사", "1544-4500")),
          ("김민수", "이영희", "박철호")),
    Sheet("06_노령층_지원/06_노인_무릎인공관절_수술_지원.md",
          (("지원대상", "만 60세 이상 수급자", "차상위 포함"), ("지원금액", "한쪽 무릎 120만 원", "본인부담금"),
           ("신청처", "지역 보건소", "방문"), ("문의", "노인의료나눔재단", "02-711-6599")),
          ("정수진", "최동욱", "한지민")),
    Sheet("07_장애인_지원/07_농어촌_장애인_주택_개조.md",
          (("지원대상", "농어촌 등록장애인", "주거약자"), ("지원한도", "가구당 380만 원", "편의시설"),
           ("신청처", "읍면동 주민센터", "행정복지센터"), ("개조내용", "화장실 개조, 문턱 낮추기", "경사로")),
          ("오세훈", "윤서연", "장도윤")),
    Sheet("03_임신•보육_지원/03_가정양육수당_지원.md",
          (("0~11개월", "20만 원", "양육수당"), ("12~23개월", "15만 원", "양육수당"),
           ("24~35개월", "10만 원", "양육수당"), ("문의", "보건복지상담센터", "129")),
          ("강하늘", "서민지", "임재현")),
    Sheet("09_법률·금융_복지_지원/09_근로자_생활안정자금_융자.md",
          (("혼례비", "1,250만 원", "융자한도"), ("소액생계비", "200만 원", "융자한도"),
           ("융자금리", "연 1.5%", "신용보증료 별도"), ("문의", "근로복지공단 콜센터", "1588-0075")),
          ("조은비", "백승호", "류하은")),
    Sheet("04_청소년·청년_지원/04_HPV_국가예방접종_지원사업.md",
          (("대상", "만 12~17세 여성 청소년", "2회 또는 3회"), ("지원백신", "HPV 2가, HPV 4가", "9가 제외"),
           ("신청처", "지정의료기관 및 보건소", "방문"), ("문의", "질병관리청 콜센터", "1339")),
          ("신동현", "문가영", "홍준기")),
    Sheet("08_보훈대상자_지원/08_6·25자녀수당.md",
          (("제적자녀", "월 153만 6,000원", "가산금 8만 원"), ("승계자녀", "월 130만 7,000원", "1997년 이전"),
           ("신규 승계자녀", "월 43만 9,000원", "1998년 이후"), ("문의", "보훈상담센터", "1577-0606")),
          ("남궁민", "배수지", "엄태웅")),
    Sheet("10_기타_위기별·상황별_지원/10_1인가구_사회적관계망_형성_지원사업.md",
          (("지원대상", "청년, 중장년, 노년 1인 가구", "생애주기별"), ("운영기관", "가족센터 36개소", "지역별"),
           ("노년 프로그램", "심리상담, 노년 준비 교육", "건강"), ("문의", "여성가족부 가족정책과", "02-2100-6326")),
          ("유재석", "김태리", "송강호")),
)

TABLE_HEADER = ("구분", "내용", "비고")
SIGN_HEADER = ("담당", "팀장", "과장")


@dataclass
class RenderedPage:
    """A rendered page and its ground truth: every text line in reading order, and the table's cells."""

    image: Image.Image
    title: str
    body: list[str]                      # body paragraphs as printed (unwrapped)
    lines: list[str] = field(default_factory=list)
    table: list[tuple[str, ...]] = field(default_factory=list)
    source: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def corpus_paragraphs(sheet: Sheet, limit: int = 720) -> tuple[str, list[str]]:
    """The service's title and its first paragraphs (about ``limit`` characters), NFC."""
    raw = unicodedata.normalize("NFC", (CORPUS / sheet.file).read_text(encoding="utf-8"))
    parts = [" ".join(p.split()) for p in raw.split("\n") if p.strip()]
    title, out, used = parts[0], [], 0
    for p in parts[1:]:
        if used + len(p) > limit and out:
            break
        out.append(p)
        used += len(p)
    return title, out


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrap at spaces (Korean 공문 break between words)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def render(sheet: Sheet, font_name: str = FONTS[0], office: str = "행복시") -> RenderedPage:
    """One clean page (grayscale, 300 dpi) with its ground truth."""
    title, body = corpus_paragraphs(sheet)
    img = Image.new("L", (WIDTH, HEIGHT), 255)
    d = ImageDraw.Draw(img)
    big, normal, small = _font(font_name, 84), _font(font_name, 46), _font(font_name, 42)
    page = RenderedPage(img, title, body, source=sheet.file)
    y = MARGIN

    def line(text: str, font: ImageFont.FreeTypeFont, x: int = MARGIN, center: bool = False) -> None:
        nonlocal y
        if center:
            x = int((WIDTH - font.getlength(text)) / 2)
        d.text((x, y), text, font=font, fill=0)
        page.lines.append(text)
        y += int(font.size * 1.7)

    line(office, big, center=True)
    y += 30
    line("수신  수신자 참조", normal)
    line("(경유)", normal)
    line(f"제목  {title} 안내", normal)
    d.line((MARGIN, y, WIDTH - MARGIN, y), fill=0, width=4)
    y += 50
    for n, para in enumerate(body, 1):
        wrapped = _wrap(f"{n}. {para}", normal, WIDTH - 2 * MARGIN)
        for text in wrapped:
            line(text, normal)
        y += 20
    y += 30
    page.table = [TABLE_HEADER, *sheet.table]
    y = _grid(d, page, (MARGIN, y), (420, 1160, 500), 96, small, page.table)
    y += 40
    line("끝.", normal)
    # the 결재 block: three signature boxes at the bottom right
    sign_rows = [SIGN_HEADER, sheet.signers]
    _grid(d, page, (WIDTH - MARGIN - 3 * 300, HEIGHT - MARGIN - 260), (300, 300, 300), 110, small, sign_rows)
    return page


def _grid(d: ImageDraw.ImageDraw, page: RenderedPage, at: tuple[int, int], widths: tuple[int, ...], row_h: int,
          font: ImageFont.FreeTypeFont, rows: list[tuple[str, ...]]) -> int:
    x0, y0 = at
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w)
    for r, row in enumerate(rows):
        top = y0 + r * row_h
        for c, cell in enumerate(row):
            tw = font.getlength(cell)
            d.text((xs[c] + (widths[c] - tw) / 2, top + (row_h - font.size) / 2 - 6), cell, font=font, fill=0)
        page.lines.append(" ".join(row))
    bottom = y0 + len(rows) * row_h
    for r in range(len(rows) + 1):
        d.line((xs[0], y0 + r * row_h, xs[-1], y0 + r * row_h), fill=0, width=3)
    for x in xs:
        d.line((x, y0, x, bottom), fill=0, width=3)
    return bottom


def noisy(page: Image.Image, seed: int = 0, angle: float = 1.3) -> Image.Image:
    """A scanned/photographed look: rotation, blur, grey paper, noise, specks (the caller may save as JPEG)."""
    rng = random.Random(seed)
    import numpy as np

    img = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(1.1))
    arr = np.asarray(img, dtype=np.float32) * 0.85 + 20            # grey paper, weaker ink
    noise = np.random.default_rng(seed).normal(0, 14, arr.shape)
    arr = arr + noise
    h, w = arr.shape
    for _ in range(1500):                                          # dust specks
        y, x = rng.randrange(h - 3), rng.randrange(w - 3)
        arr[y:y + rng.randint(1, 3), x:x + rng.randint(1, 3)] = 40
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def low_quality(page: Image.Image, seed: int = 0) -> Image.Image:
    """A page a person could barely read: heavy blur and noise at a low resolution (a confidence flag case)."""
    import numpy as np

    small = page.resize((page.width // 4, page.height // 4), Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(1.6))
    arr = np.asarray(small, dtype=np.float32) * 0.6 + 70 + np.random.default_rng(seed).normal(0, 30, small.size[::-1])
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def faded(page: Image.Image, seed: int = 0) -> Image.Image:
    """A faint copy of a copy scanned at 150 dpi: blurred, washed out and grainy. Much of the text is still
    legible but the engine is unsure of it (confidence ~60–65, under the default flag threshold of 70): the
    case the "OCR 인식 신뢰도 낮음" flag is for. (In a PDF at 300 dpi the page comes out half size.)"""
    import numpy as np

    half = page.resize((page.width // 2, page.height // 2), Image.Resampling.BILINEAR).filter(
        ImageFilter.GaussianBlur(1.6))
    arr = np.asarray(half, dtype=np.float32) * 0.7 + 50 + np.random.default_rng(seed).normal(0, 20, half.size[::-1])
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def save_pdf(images: list[Image.Image], path: Path) -> Path:
    """An image-only PDF (no text layer), one image per page at 300 dpi."""
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=rgb[1:])
    return path


def born_digital_pdf(pages: list[RenderedPage], path: Path, font: str = FONTS[0]) -> Path:
    """The same pages as a born-digital PDF: each printed line drawn as text (pypdf extracts it), one PDF page
    per rendered page, in the same wrapping; what OCR'd text is compared against in retrieval."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    name = Path(font).stem
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / font)))
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    for page in pages:
        y = 790.0
        for text in page.lines:
            c.setFont(name, 11)
            c.drawString(48, y, text)
            y -= 17
        c.showPage()
    c.save()
    return path


def require_tesseract() -> None:
    """Fail (not skip) when Tesseract or its Korean model is missing: a machine that cannot OCR must not pass
    the OCR tests (`make test` installs them through `make system-deps`)."""
    import pytest

    from assistant.ocr import OcrUnavailable, get_engine

    try:
        get_engine("tesseract")
    except OcrUnavailable as exc:
        pytest.fail(f"{exc} (run `make system-deps`)", pytrace=False)
