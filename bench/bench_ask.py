"""Ask latency with the default configuration on the sample index, time to first streamed event, memory,
and the answerability decisions on a calibration list.

    python bench/bench_ask.py                      # builds the sample index and its e5 vectors (~6 min), then measures
    python bench/bench_ask.py --index-dir indexes   # reuse an index of samples/ that already exists (name: default)
    python bench/bench_ask.py --calibrate           # also print each calibration question's gate probability

Targets: p50 ≤ 150 ms and p95 ≤ 400 ms per ask (2 cores, no GPU). Every ask runs the whole path a user's
question takes: PII masking, Kiwi analysis, hybrid retrieval (BM25 with lexicon expansion + the e5 semantic
layer: one query embedding), the answerability gate, answer-first composition and citation checks. The
index's semantic vectors are filled before measuring (the steady state a server reaches minutes after an
upload). Figures are printed and written to bench/out/bench_ask-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.generate.extractive import ExtractiveGenerator  # noqa: E402
from assistant.index.embedders import make_embedder  # noqa: E402
from assistant.index.semantic import fill_index  # noqa: E402
from assistant.index.store import IndexStore  # noqa: E402
from assistant.ingest.pipeline import Ingestor  # noqa: E402
from assistant.retrieve.search import open_retriever  # noqa: E402
from assistant.tasks.ask import AskService  # noqa: E402

# questions over the sample corpus (answerable) and outside it (must abstain); also the calibration sets
ANSWERABLE = [
    "민원 처리기간은 어떻게 계산하나요?",
    "정보공개 청구를 받으면 언제까지 공개 여부를 결정해야 하나요?",
    "건축허가 시 부동산개발업 등록 여부를 심사할 수 있나요?",
    "고충심사를 청구할 수 있는 공무원의 범위는?",
    "특별성과 포상금 지급 대상에 파견 공무원도 포함되나요?",
    "행정처분을 하기 전에 의견제출 기회를 주어야 하나요?",
    "전자정부법에서 행정기관등의 장이 해야 하는 전자문서 관련 의무는?",
    "민원을 접수하지 않고 반려할 수 있는 경우가 있나요?",
    "정보공개 청구는 어떤 방법으로 하나요?",
    "민원인이 민원을 취하할 수 있나요?",
    "처분의 사전 통지는 언제 해야 하나요?",
    "관보 정정 대상에 오기가 있는 법률도 포함되나요?",
    "지방자치단체의 자체감사 대상기관의 범위는?",
    "복합민원은 어떻게 처리하나요?",
    "비공개 대상 정보에는 어떤 것이 있나요?",
    # everyday wording (not in any gold set)
    "민원 넣은 지 일주일 됐는데 답이 없어요 원래 며칠 걸려요?",
    "정보공개 거절당하면 어떻게 다시 요청해요?",
    "전화로 계속 욕하는 민원인 끊어도 됨?",
    "민원 서류 빠진 거 있으면 바로 돌려보내도 되나요?",
    "토요일도 처리기간에 들어가요?",
]
UNANSWERABLE = [
    "우주 발사체의 추진제는 무엇인가요?",
    "김치찌개 맛있게 끓이는 법 알려줘",
    "프로야구 올해 우승팀은 어디인가요?",
    "주식 투자할 때 배당금은 어떻게 받나요?",
    "공무원 연가 일수는 며칠인가요?",
    "주민등록 전입신고는 며칠 이내에 해야 하나요?",
    "자동차 정기검사 주기는 어떻게 되나요?",
    "육아휴직 급여는 얼마인가요?",
    "출산장려금 신청 방법을 알려주세요",
    "코로나19 백신 접종 예약은 어떻게 하나요?",
    "양도소득세 세율은 얼마인가요?",
    "운전면허 갱신 기간은?",
    "국민연금 수령 나이는 몇 살인가요?",
    "반려견 등록은 어디서 하나요?",
    "태풍 피해 재난지원금 지급 기준은?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def build_index(root: Path) -> tuple[Settings, float, float]:
    """The sample index with the default settings, and its semantic vectors (seconds for each)."""
    settings = Settings(index_dir=root, index_name="default")
    store = IndexStore(root, "default")
    t0 = time.perf_counter()
    report = Ingestor(settings, store, make_embedder(settings)).run([ROOT / "samples"])
    if not report.ok:
        raise SystemExit(f"sample ingest failed: {[o.reason for o in report.outcomes if o.status == 'failed']}")
    t1 = time.perf_counter()
    fill_index(settings, store)
    return settings, t1 - t0, time.perf_counter() - t1


def measure(service: AskService, questions: list[str], rounds: int) -> dict:
    for q in questions[:3]:
        service.ask(q)  # warm-up: Kiwi and the embedder are loaded once per process
    total, first_event, first_token, stages = [], [], [], {"prepare": [], "retrieve": [], "generate": []}
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            ans = service.ask(q)
            total.append((time.perf_counter() - t0) * 1e3)
            for k in stages:
                stages[k].append(ans.timings_ms[k])
            t0 = time.perf_counter()
            seen_token = False
            for i, event in enumerate(service.ask_stream(q)):
                now = (time.perf_counter() - t0) * 1e3
                if i == 0:
                    first_event.append(now)
                if event["type"] == "token" and not seen_token:
                    first_token.append(now)
                    seen_token = True
    return {
        "asks": len(total),
        "p50_ms": statistics.median(total), "p95_ms": pct(total, 0.95), "max_ms": max(total),
        "first_event_p50_ms": statistics.median(first_event), "first_event_p95_ms": pct(first_event, 0.95),
        "first_token_p50_ms": statistics.median(first_token), "first_token_p95_ms": pct(first_token, 0.95),
        "stage_p50_ms": {k: statistics.median(v) for k, v in stages.items()},
    }


def calibration(service: AskService) -> dict:
    rows = []
    for group, questions in (("answerable", ANSWERABLE), ("unanswerable", UNANSWERABLE)):
        for q in questions:
            ans = service.ask(q)
            d = ans.decision
            rows.append({"group": group, "question": q, "probability": round(d.probability, 3) if d else 0.0,
                         "model": d.model if d else "none", "abstained": ans.abstained})
    wrong = [r for r in rows if r["abstained"] != (r["group"] == "unanswerable")]
    return {"rows": rows, "misclassified": len(wrong)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, help="existing index folder holding a 'default' index of samples/")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the question list")
    ap.add_argument("--calibrate", action="store_true", help="print each calibration question's gate probability")
    args = ap.parse_args()

    tmp = None
    fill_s = None
    if args.index_dir:
        settings, build_s = Settings(index_dir=args.index_dir, index_name="default"), None
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-ask-"))
        print("building the sample index and its semantic vectors …", flush=True)
        settings, build_s, fill_s = build_index(tmp)
    try:
        t0 = time.perf_counter()
        retriever = open_retriever(settings)
        service = AskService(retriever, ExtractiveGenerator(), settings)
        open_s = time.perf_counter() - t0
        res = measure(service, ANSWERABLE + UNANSWERABLE, args.rounds)
        res["answered_only"] = measure(service, ANSWERABLE, args.rounds)
        layer = retriever.semantic
        res.update(index_build_s=build_s, semantic_fill_s=fill_s, open_s=open_s, calibration=calibration(service),
                   semantic_coverage=list(layer.coverage) if layer is not None else None,
                   peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print_report(res, args.calibrate)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_ask-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten: {path}")


def print_report(res: dict, show_rows: bool) -> None:
    if res["index_build_s"] is not None:
        print(f"sample index built in {res['index_build_s']:.1f} s (searchable), semantic vectors in "
              f"{res['semantic_fill_s']:.0f} s")
    if res["semantic_coverage"]:
        have, total = res["semantic_coverage"]
        print(f"semantic vectors: {have:,}/{total:,} chunks")
    met = "met" if res["p50_ms"] <= 150 and res["p95_ms"] <= 400 else "NOT met"
    print(f"\nask (extractive, sample index, {res['asks']} asks): p50 {res['p50_ms']:.1f} ms, "
          f"p95 {res['p95_ms']:.1f} ms, max {res['max_ms']:.1f} ms  (targets p50 ≤ 150 ms, p95 ≤ 400 ms: {met})")
    ans = res["answered_only"]
    print(f"  answerable questions only ({ans['asks']} asks): p50 {ans['p50_ms']:.1f} ms, p95 {ans['p95_ms']:.1f} ms")
    st = res["stage_p50_ms"]
    print(f"  stages p50: prepare {st['prepare']:.1f} ms, retrieve {st['retrieve']:.1f} ms, "
          f"evidence+generate+validate {st['generate']:.1f} ms")
    print(f"stream: first event (citations) p50 {res['first_event_p50_ms']:.1f} ms / "
          f"p95 {res['first_event_p95_ms']:.1f} ms; first token p50 {res['first_token_p50_ms']:.1f} ms / "
          f"p95 {res['first_token_p95_ms']:.1f} ms")
    cal = res["calibration"]
    print(f"answerability gate: {cal['misclassified']} of {len(cal['rows'])} calibration questions misclassified")
    if show_rows:
        for r in cal["rows"]:
            verdict = "abstain" if r["abstained"] else "answer"
            print(f"  {r['group']:<12} p={r['probability']:.2f} ({r['model']}) {verdict:<7} {r['question']}")
    print(f"peak RSS {res['peak_rss_mb']:.0f} MB, index open {res['open_s']:.2f} s")


if __name__ == "__main__":
    main()
