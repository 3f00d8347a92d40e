"""OCR in ingest: the engine registry, images, image-only and mixed PDFs, confidence flags, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from render_pages import FONTS, SHEETS, low_quality, noisy, render, save_pdf

from assistant.errors import ParseError
from assistant.ingest.base import parse_file, supported_extensions
from assistant.ocr import LOW_CONFIDENCE_NOTE, OcrOptions, flagged_location, registered_ocr_engines, using_options


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pages():
    return [render(SHEETS[1], FONTS[0]), render(SHEETS[2], FONTS[1])]


def test_engines_are_a_registry_and_images_are_supported_types():
    assert "tesseract" in registered_ocr_engines()
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff"} <= set(supported_extensions())
    from assistant.ocr import OcrUnavailable, get_engine

    assert get_engine("none") is None
    with pytest.raises(OcrUnavailable, match="ASSISTANT_OCR_ENGINE"):
        get_engine("no-such-engine")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff"])
def test_an_image_is_read_with_its_page_number_and_confidence(pages, tmp_path, suffix):
    path = tmp_path / f"공문{suffix}"
    pages[0].image.convert("RGB").save(path, quality=85) if suffix == ".jpg" else pages[0].image.save(path)
    doc = parse_file(path)
    assert doc.doc_type == "image" and {b.page for b in doc.blocks} == {1}
    text = squash("\n".join(b.text for b in doc.blocks))
    assert squash("노인 무릎 인공관절 수술 지원") in text and "120만원" in text
    conf = doc.metadata["ocr"]["pages"]["1"]
    assert conf is not None and conf >= 70 and doc.metadata["ocr"]["low_pages"] == []
    table = [b for b in doc.blocks if b.kind == "table"]
    assert table and any("노인의료나눔재단" in squash(b.text) for b in table)


def test_image_only_pdf_keeps_page_numbers_and_flags_the_unreadable_page(pages, tmp_path):
    path = save_pdf([pages[0].image, low_quality(pages[1].image)], tmp_path / "스캔공문.pdf")
    doc = parse_file(path)
    assert {b.page for b in doc.blocks} >= {1}
    first = squash("\n".join(b.text for b in doc.blocks if b.page == 1))
    assert squash("지역 보건소") in first
    ocr = doc.metadata["ocr"]
    assert set(ocr["pages"]) == {"1", "2"} and ocr["low_pages"] == [2]
    assert any("OCR 인식 신뢰도가 낮은 쪽" in w and "2쪽" in w for w in doc.metadata["warnings"])
    assert flagged_location("2쪽", 2, set(ocr["low_pages"])) == f"2쪽 ({LOW_CONFIDENCE_NOTE})"
    assert flagged_location("1쪽", 1, set(ocr["low_pages"])) == "1쪽"


def test_a_mixed_pdf_ocrs_only_the_page_without_text(pages, tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    scan = tmp_path / "scan.png"
    noisy(pages[1].image, 1).save(scan)
    pdfmetrics.registerFont(TTFont("Nanum", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"))
    path = tmp_path / "혼합.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("Nanum", 12)
    c.drawString(72, 760, "첫 쪽은 텍스트가 있는 보고서입니다. 민원 처리기간은 접수일부터 계산합니다.")
    c.showPage()
    c.drawImage(str(scan), 0, 0, width=595, height=842)
    c.showPage()
    c.save()
    doc = parse_file(path)
    assert list(doc.metadata["ocr"]["pages"]) == ["2"]          # page 1 had text: not OCR'd
    assert "민원 처리기간은 접수일부터" in "\n".join(b.text for b in doc.blocks if b.page == 1)
    assert squash("농어촌 장애인 주택 개조") in squash("\n".join(b.text for b in doc.blocks if b.page == 2))


def test_bad_input_gets_a_reason(tmp_path, pages):
    broken = tmp_path / "깨진사진.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    with pytest.raises(ParseError, match="이미지 파일이 손상"):
        parse_file(broken)
    from pypdf import PdfWriter

    locked = tmp_path / "암호.pdf"
    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.encrypt("secret")
    w.write(locked)
    with pytest.raises(ParseError, match="암호"):
        parse_file(locked)
    many = save_pdf([pages[0].image.resize((600, 850))] * 4, tmp_path / "긴스캔.pdf")
    with using_options(OcrOptions(max_pages=3)), pytest.raises(ParseError, match=r"4쪽으로 .*한도\(3쪽\)"):
        parse_file(many)
    with using_options(OcrOptions(engine="none")), pytest.raises(ParseError, match="OCR.*꺼져"):
        parse_file(many)


def test_a_batch_goes_on_past_bad_files_and_the_index_carries_the_flag(pages, tmp_path):
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor

    folder = tmp_path / "docs"
    folder.mkdir()
    save_pdf([pages[0].image, low_quality(pages[1].image)], folder / "스캔.pdf")
    (folder / "깨진.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    pages[1].image.save(folder / "사진.png")
    settings = Settings(index_dir=tmp_path / "idx", index_name="t", ocr_max_pages=10)
    store = IndexStore(settings.index_dir, "t")
    report = Ingestor(settings, store, make_embedder(settings)).run([folder])
    status = {Path(o.path).name: o.status for o in report.outcomes}
    assert status == {"스캔.pdf": "ok", "깨진.png": "failed", "사진.png": "ok"}, report.outcomes
    failed = next(o for o in report.outcomes if o.status == "failed")
    assert "깨진.png" in failed.path and "손상" in failed.reason
    rows = store.open().db().execute("SELECT location, page FROM chunks").fetchall()
    flagged = {r["page"] for r in rows if LOW_CONFIDENCE_NOTE in r["location"]}
    assert flagged == {2}                               # only the unreadable page of the scan
    assert any(r["location"] == "1쪽" for r in rows)
