"""OCR bench: Korean 공문-like pages rendered at 300 dpi (tests/ocr/render_pages.py), clean and noisy.

Prints and writes to bench/out/ocr.json:

- character error rate (whitespace removed, Levenshtein / reference length) on clean and noisy pages,
  table-cell accuracy (cells of the ruled tables read exactly, spaces ignored), mean page confidence, and
  pages per minute (one process, Tesseract single-threaded);
- retrieval over OCR'd text against the same pages born digital: the pages as one born-digital PDF and as
  image-only PDFs (clean, noisy) are each ingested with the project's Ingestor into an index that also holds
  the rest of the welfare corpus (456 documents, the distractors), then searched the way the app searches
  (``open_retriever``, default mode) with 24 questions worded as a citizen or 주무관 would type them, 8 of
  them about a table row ("표에서 …"). Recall@5: the question's page is among the top 5 passages;
  answer@5: a top-5 passage of that page holds the answer (for a table question, the row's cells).

    .venv/bin/python bench/bench_ocr.py [--pages 8] [--no-retrieval]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ocr"))
sys.path.insert(0, str(REPO))

from render_pages import CORPUS, FONTS, SHEETS, born_digital_pdf, noisy, render, save_pdf  # noqa: E402

from assistant.ocr import OcrOptions, get_engine  # noqa: E402


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# (page index in SHEETS, question, answer as printed, is it about the table): worded as people ask, not
# as the page says it
QUESTIONS: tuple[tuple[int, str, str, bool], ...] = (
    (0, "가스 고무호스를 금속관으로 바꾸는 공사비도 나라에서 도와주나요?", "금속배관", False),
    (0, "가스통 쓰는 집 시설 고치는 지원 신청은 어디로 가면 되나요?", "가스담당부서", False),
    (0, "표에서 LPG 시설개선 지원금액과 자부담은 각각 얼마인가요?", "지원금액|20만원|자부담5만원", True),
    (1, "무릎 수술이 필요한 저소득 어르신 수술비 지원은 몇 살부터 되나요?", "만60세이상", False),
    (1, "무릎 인공관절 지원받을 때 간병비나 상급병실료도 나오나요?", "간병비", False),
    (1, "표에서 무릎 인공관절 수술 지원 문의처 전화번호를 알려 주세요", "문의|노인의료나눔재단|02-711-6599", True),
    (2, "시골에 사는 장애인이 집 문턱 없애는 공사를 하려면 어디에 신청하나요?", "읍면동주민센터", False),
    (2, "장애인 집 화장실 고치는 데 최대 얼마까지 지원되나요?", "380만", False),
    (2, "표에서 농어촌 장애인 주택 개조의 지원한도는?", "지원한도|가구당380만원", True),
    (3, "어린이집에 안 보내고 집에서 아이를 키우면 매달 받는 돈이 있나요?", "가정에서양육", False),
    (3, "농촌에 사는 세 살 아이 양육수당은 얼마인가요?", "12만9,000원", False),
    (3, "표에서 생후 12~23개월 아이의 양육수당 금액은?", "12~23개월|15만원", True),
    (4, "월급이 줄어든 직장인이 생계비를 빌릴 수 있는 조건이 뭔가요?", "30%이상감소", False),
    (4, "자영업자도 의료비나 장례비를 융자받을 수 있나요?", "1인자영업자", False),
    (4, "표에서 근로자 생활안정자금 융자금리는 얼마인가요?", "융자금리|연1.5%", True),
    (4, "표에서 결혼 비용으로 빌릴 수 있는 한도는?", "혼례비|1,250만원", True),
    (5, "자궁경부암 백신을 무료로 맞을 수 있는 나이는?", "만12세이상17세이하", False),
    (5, "저소득층 20대 여성도 HPV 백신을 공짜로 맞을 수 있나요?", "만18세이상26세이하", False),
    (6, "6.25 전쟁 때 돌아가신 군인의 자녀가 받는 수당이 있나요?", "전몰", False),
    (6, "6·25자녀수당은 어디에 신청하나요?", "보훈지(방)청", False),
    (6, "표에서 6.25 승계자녀 수당은 한 달에 얼마인가요?", "승계자녀|월130만7,000원", True),
    (7, "혼자 사는 노인을 위한 심리상담 프로그램이 있나요?", "심리상담", False),
    (7, "혼자 사는 사람들 모임 지원 사업은 어디에 물어보면 되나요?", "02-2100-6326", False),
    (7, "표에서 1인가구 사회적관계망 사업 운영기관은 몇 곳인가요?", "운영기관|가족센터36개소", True),
)


def retrieval(n_pages: int) -> dict[str, object]:
    """Recall@5 of the questions over the pages born digital and OCR'd (clean and noisy scans)."""
    import shutil
    import tempfile
    import unicodedata

    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor
    from assistant.retrieve.search import open_retriever

    pages = [render(sheet, FONTS[i % 2]) for i, sheet in enumerate(SHEETS[:n_pages])]
    questions = [q for q in QUESTIONS if q[0] < n_pages]
    for i, _q, answer, _t in questions:      # the answers are on their pages: a typo here would skew it all
        assert all(part in squash(pages[i].text) for part in answer.split("|")), answer
    nfc = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
    own = {nfc(sheet.file) for sheet in SHEETS}
    distractors = [p for p in sorted(CORPUS.rglob("*.md")) if nfc(p.relative_to(CORPUS).as_posix()) not in own]
    work = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        base = Settings(index_dir=work / "base", index_name="bench", semantic_fill="off")
        embedder = make_embedder(base)
        t0 = time.perf_counter()
        report = Ingestor(base, IndexStore(base.index_dir, "bench"), embedder).run(distractors)
        print(f"distractors: {report.count('ok')} documents indexed in {time.perf_counter() - t0:.0f} s", flush=True)
        # the same file name (and so the same title) in each variant: only the text differs
        for name in ("born-digital", "ocr-clean", "ocr-noisy"):
            (work / "files" / name).mkdir(parents=True)
        variants = {
            "born-digital": born_digital_pdf(pages, work / "files" / "born-digital" / "공문모음.pdf"),
            "ocr-clean": save_pdf([p.image for p in pages], work / "files" / "ocr-clean" / "공문모음.pdf"),
            "ocr-noisy": save_pdf([noisy(p.image, seed=i) for i, p in enumerate(pages)],
                                  work / "files" / "ocr-noisy" / "공문모음.pdf"),
        }
        out: dict[str, object] = {"questions": len(questions), "distractor_documents": report.count("ok")}
        for name, pdf in variants.items():
            shutil.copytree(work / "base", work / name)
            settings = base.with_overrides(index_dir=work / name)
            t0 = time.perf_counter()
            added = Ingestor(settings, IndexStore(settings.index_dir, "bench"), embedder).run([pdf])
            assert added.ok, added.outcomes
            seconds = time.perf_counter() - t0
            out[name] = _score(open_retriever(settings, "bench"), questions, "공문모음") | {"ingest_s": seconds}
            print(f"{name}: indexed in {seconds:.0f} s; Recall@5 {out[name]['recall@5']:.3f}", flush=True)  # type: ignore[index]
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _score(retriever: object, questions: list[tuple[int, str, str, bool]], title: str) -> dict[str, object]:
    found = answered = table_answered = 0
    misses = []
    for i, question, answer, table in questions:
        hits = retriever.search(question, k=5)  # type: ignore[attr-defined]
        on_page = [h for h in hits if h.title == title and h.page == i + 1]
        has_answer = any(all(part in squash(h.text) for part in answer.split("|")) for h in on_page)
        found += bool(on_page)
        answered += has_answer
        table_answered += table and has_answer
        if not has_answer:
            misses.append({"question": question, "page": i + 1, "page_in_top5": bool(on_page),
                           "top5": [f"{h.title} {h.location}" for h in hits]})
    tables = sum(1 for q in questions if q[3])
    return {"recall@5": found / len(questions), "answer@5": answered / len(questions),
            "table_questions": tables, "table_answered": table_answered, "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=len(SHEETS))
    ap.add_argument("--no-retrieval", action="store_true", help="only CER, table cells and throughput")
    args = ap.parse_args()
    engine = get_engine("tesseract")
    assert engine is not None
    options = OcrOptions()
    rows, seconds = [], 0.0
    for i, sheet in enumerate(SHEETS[: args.pages]):
        page = render(sheet, FONTS[i % 2])
        for kind, image in (("clean", page.image), ("noisy", noisy(page.image, seed=i))):
            t0 = time.perf_counter()
            got = engine.read(image, options)
            seconds += time.perf_counter() - t0
            # the " | " between table cells is layout the parser adds, not characters read: not counted
            ref, hyp = squash(page.text), squash(got.text.replace(" | ", " "))
            truth = [squash(c) for row in page.table for c in row]
            read = [squash(c) for b in got.blocks if b.kind == "table" for row in b.rows for c in row]
            cells_ok = sum(1 for c in truth if c in read)
            rows.append({"sheet": sheet.file, "font": FONTS[i % 2], "kind": kind,
                         "cer": levenshtein(ref, hyp) / len(ref), "confidence": got.confidence,
                         "cells": len(truth), "cells_ok": cells_ok})
            print(f"{kind:5} {FONTS[i % 2]:18} CER {rows[-1]['cer']:.3f} conf {got.confidence} "
                  f"cells {cells_ok}/{len(truth)}  {Path(sheet.file).stem}", flush=True)

    def summary(kind: str) -> dict[str, float]:
        sel = [r for r in rows if r["kind"] == kind]
        return {"cer_mean": sum(r["cer"] for r in sel) / len(sel),
                "cer_median": sorted(r["cer"] for r in sel)[len(sel) // 2],
                "table_cell_accuracy": sum(r["cells_ok"] for r in sel) / sum(r["cells"] for r in sel),
                "confidence_mean": sum(r["confidence"] or 0 for r in sel) / len(sel)}

    out = {"engine": engine.identity, "pages": len(rows), "clean": summary("clean"), "noisy": summary("noisy"),
           "pages_per_minute": len(rows) / seconds * 60, "rows": rows}
    if not args.no_retrieval:
        out["retrieval"] = retrieval(args.pages)
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    (REPO / "bench" / "out" / "ocr.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    for kind in ("clean", "noisy"):
        s = out[kind]
        print(f"{kind}: CER mean {s['cer_mean']:.3f} (median {s['cer_median']:.3f}), table cells "
              f"{s['table_cell_accuracy']:.2%}, confidence {s['confidence_mean']:.1f}")
    print(f"throughput: {out['pages_per_minute']:.1f} pages/min ({engine.identity}, 1 thread)")
    if "retrieval" in out:
        r = out["retrieval"]
        base = r["born-digital"]
        for name, s in r.items():
            if not isinstance(s, dict):
                continue
            gap = base["recall@5"] - s["recall@5"]
            print(f"retrieval {name:12}: Recall@5 {s['recall@5']:.3f} (gap {gap:+.3f}), answer@5 "
                  f"{s['answer@5']:.3f}, table questions answered {s['table_answered']}/{s['table_questions']}")


if __name__ == "__main__":
    main()
