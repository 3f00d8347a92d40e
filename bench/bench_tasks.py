"""Benchmark: batch 개조식 summarisation throughput and peak memory (and, optionally, draft-reply latency).

    python bench/bench_tasks.py                          # all documents of ../shared/corpus/allganize-public-docs
    python bench/bench_tasks.py --formats md,docx,hwpx   # with every output format
    python bench/bench_tasks.py --draft-index indexes    # also time draft-reply on the 'default' index there

Target (issue 3): every document of that folder summarised in under 2 minutes on 2 cores. The figure includes
process start-up costs that a batch pays once (Kiwi's model load), so it is what an overnight run sees.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "corpus" / "allganize-public-docs"
COMPLAINT = ("안녕하세요. 정보공개를 청구하면 공공기관은 며칠 안에 공개 여부를 결정해야 하나요? "
             "기간이 지나도 결정이 없으면 어떻게 해야 하는지 알려주시기 바랍니다. 연락처 010-1234-5678")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def bench_summaries(folder: Path, formats: str, length: str) -> None:
    from assistant.config import Settings
    from assistant.tasks.summarize_batch import summarize_batch

    docs = sorted(p for p in folder.iterdir() if p.suffix == ".md" and p.name != "README.md")
    chars = sum(len(p.read_text(encoding="utf-8")) for p in docs)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        report = summarize_batch(docs, Path(out), settings=Settings(threads=2), formats=formats, length=length)
        total = time.perf_counter() - t0
    per_doc = [i.seconds for i in report.items if i.status == "ok"]
    print(f"batch summarisation ({length}, formats {formats}): {len(docs)} documents, {chars:,} chars")
    print(f"  ok {report.count('ok')}, failed {report.count('failed')}")
    print(f"  total {total:.1f} s (incl. Kiwi load) → {len(docs) / total * 60:.1f} documents/minute "
          f"(target: all {len(docs)} in < 120 s: {'met' if total < 120 else 'NOT met'})")
    print(f"  per document: p50 {statistics.median(per_doc):.2f} s, max {max(per_doc):.2f} s "
          f"(first includes Kiwi load)")
    print(f"  lines per summary: {[i.lines for i in report.items]}")


def bench_draft(index_dir: Path, index_name: str, runs: int) -> None:
    from assistant.config import Settings
    from assistant.retrieve.search import open_retriever
    from assistant.tasks.draft_reply import draft_reply

    settings = Settings(index_dir=index_dir, index_name=index_name)
    retriever = open_retriever(settings)
    draft_reply(COMPLAINT, settings=settings, retriever=retriever, received="2025-05-02")  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        draft_reply(COMPLAINT, settings=settings, retriever=retriever, received="2025-05-02")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(f"draft-reply (extractive, index '{index_name}', {runs} runs): p50 {statistics.median(times):.0f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--formats", default="md")
    ap.add_argument("--length", default="one-page")
    ap.add_argument("--draft-index", type=Path, help="index folder for the draft-reply timing")
    ap.add_argument("--draft-index-name", default="default")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}")
        return 1
    bench_summaries(args.corpus, args.formats, args.length)
    if args.draft_index:
        bench_draft(args.draft_index, args.draft_index_name, args.runs)
    print(f"peak memory (max RSS): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
