"""What a segmented index costs: adding one file to a large index, merging, and searching many segments.

    python bench/bench_segments.py                       # 100k chunks, flat and HNSW (~10 minutes)
    python bench/bench_segments.py --sizes 1000000 --kinds flat
    python bench/bench_segments.py --quick               # smoke run: 5k chunks

For each size and dense kind it prints:

* add one 20-chunk document: seconds and bytes written (write() calls, /proc/self/io wchar; and the size of
  the new folders) — a commit writes one small segment and a small manifest;
* the same document the way every commit worked before segments (the whole index rewritten as one
  generation), measured as a forced merge of everything into one segment — the same work;
* 200 further one-document commits with the size-tiered merges they trigger, which run in a background
  thread beside the commits: commit mean / p95 / max seconds, the bytes written per commit (merges
  amortised) and how long the last merges ran after the last commit;
* hybrid search p50 / p95 with the index in 1 segment, after those commits, and in 10 equal segments
  (BM25 with index-wide statistics plus the FAISS layer; synthetic passages have no e5 vectors, so the
  semantic layer is off), with the web app's thread settings (server role).

Indexes are synthetic passages composed from real corpus sentences (bench/_corpus.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import _corpus as corpus_mod  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.index.embedders import make_embedder  # noqa: E402
from assistant.index.manifest import Manifest  # noqa: E402
from assistant.index.store import IndexStore  # noqa: E402
from assistant.retrieve.search import Retriever, retrieval_params  # noqa: E402
from assistant.runtime import configure  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def wchar() -> int:
    """Bytes this process has passed to write() so far (Linux /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def folder_bytes(paths: list[Path]) -> int:
    return sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file())


def add_document(store: IndexStore, docs: list, kind: str, hnsw_m: int) -> dict:
    """Commit ``docs`` onto the live generation; seconds, write() bytes and bytes of new folders.

    The base snapshot is opened before the clock starts, as the ingest pipeline holds it between commits
    (a web server likewise holds the previous snapshot, so its segments are already loaded).
    """
    before = {p.name for p in store.path.iterdir()}
    with store.write_lock():
        base = store.open()
        w0, t0 = wchar(), time.perf_counter()
        store.commit(base.manifest, base, set(base.manifest.documents), docs, kind, hnsw_m)
        seconds = time.perf_counter() - t0
        written = wchar() - w0
    new = [p for p in store.path.iterdir() if p.name not in before and p.is_dir()]
    return {"s": seconds, "written_mb": written / 1e6, "new_folders_mb": folder_bytes(new) / 1e6}


def one_doc(pool, passages, i: int) -> list:
    docs = corpus_mod._documents(pool, passages, 0, corpus_mod.PASSAGES_PER_DOC, prefix=f"extra{i:04d}-")
    return docs


def build(root: Path, name: str, pool, passages, n: int, embedder, kind: str, hnsw_m: int,
          segments: int) -> float:
    """An index of n passages committed in ``segments`` commits without merging; seconds."""
    store = IndexStore(root, name)
    manifest = Manifest(name=name, embedder=embedder.identity, chunking={"synthetic": True})
    bounds = np.linspace(0, n, segments + 1).astype(int)
    bounds -= bounds % corpus_mod.PASSAGES_PER_DOC
    bounds[-1] = n
    t0 = time.perf_counter()
    with store.write_lock():
        base = None
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            docs = corpus_mod._documents(pool, passages, int(lo), int(hi))
            keep = set(base.manifest.documents) if base is not None else set()
            store.commit(base.manifest if base is not None else manifest, base, keep, docs, kind, hnsw_m,
                         merge=False)
            base = store.open()
    return time.perf_counter() - t0


def latency(settings: Settings, root: Path, name: str, embedder, qs: list[str]) -> dict:
    """Hybrid search as the web app runs it (server role: FAISS and BLAS on one thread per request)."""
    s = settings.with_overrides(index_dir=root, semantic_embedder="none")
    configure(settings, "server")
    try:
        return _latency(s, root, name, embedder, qs)
    finally:
        configure(settings, "batch")


def _latency(s: Settings, root: Path, name: str, embedder, qs: list[str]) -> dict:
    r = Retriever(IndexStore(root, name).open(), embedder, retrieval_params(s))
    for q in qs[:10]:
        r.search(q, k=5, mode="hybrid")
    times = []
    for q in qs:
        t0 = time.perf_counter()
        r.search(q, k=5, mode="hybrid")
        times.append(time.perf_counter() - t0)
    a = np.asarray(times) * 1000
    return {"segments": len(r.snapshot.segments), "p50_ms": float(np.percentile(a, 50)),
            "p95_ms": float(np.percentile(a, 95))}


def bench(settings, embedder, pool, passages, n: int, kind: str, root: Path, qs: list[str], commits: int) -> dict:
    out: dict = {"n": n, "kind": kind}
    name = f"n{n}-{kind}"
    out["build_1_segment_s"] = build(root, name, pool, passages, n, embedder, kind, settings.hnsw_m, 1)
    out["index_mb"] = folder_bytes([root / name]) / 1e6
    store = IndexStore(root, name)
    out["add_one_doc"] = add_document(store, one_doc(pool, passages, 0), kind, settings.hnsw_m)
    # before segments, every commit rewrote the whole index: the same work as merging everything into one
    w0, t0 = wchar(), time.perf_counter()
    store.merge(force=True, hnsw_m=settings.hnsw_m)
    out["whole_rewrite"] = {"s": time.perf_counter() - t0, "written_mb": (wchar() - w0) / 1e6}
    out["search_1_segment"] = latency(settings, root, name, embedder, qs)
    w0 = wchar()
    runs = [add_document(store, one_doc(pool, passages, i), kind, settings.hnsw_m) for i in range(1, commits + 1)]
    t0 = time.perf_counter()
    store.wait_merges()   # merges run in the background, beside the commits; the last ones finish here
    drained = time.perf_counter() - t0
    secs = np.array([r["s"] for r in runs])
    out["commits_with_merges"] = {
        "commits": commits, "mean_s": float(secs.mean()), "p95_s": float(np.percentile(secs, 95)),
        "max_s": float(secs.max()), "written_mb_per_commit": (wchar() - w0) / 1e6 / commits,
        "merges_after_last_commit_s": drained, "segments_after": len(store.manifest().segments)}
    out["search_after_commits"] = latency(settings, root, name, embedder, qs)
    shutil.rmtree(root / name)
    build(root, name + "-10", pool, passages, n, embedder, kind, settings.hnsw_m, 10)
    out["search_10_segments"] = latency(settings, root, name + "-10", embedder, qs)
    shutil.rmtree(root / (name + "-10"))
    return out


def show(r: dict) -> None:
    a, w, c = r["add_one_doc"], r["whole_rewrite"], r["commits_with_merges"]
    print(f"\n== {r['n']:,} chunks, {r['kind']} (index {r['index_mb']:.0f} MB, "
          f"built in {r['build_1_segment_s']:.1f} s)")
    print(f"add one 20-chunk document: {a['s'] * 1000:.0f} ms, {a['written_mb']:.2f} MB written "
          f"(new folders {a['new_folders_mb']:.2f} MB)")
    print(f"same as a whole-index rewrite (before segments): {w['s']:.1f} s, {w['written_mb']:.0f} MB written")
    print(f"{c['commits']} more one-document commits, merges running beside them: mean "
          f"{c['mean_s'] * 1000:.0f} ms, p95 {c['p95_s'] * 1000:.0f} ms, max {c['max_s'] * 1000:.0f} ms; "
          f"{c['written_mb_per_commit']:.2f} MB written per commit (merges included), the last merges done "
          f"{c['merges_after_last_commit_s']:.1f} s after the last commit, {c['segments_after']} segments after")
    for key in ("search_1_segment", "search_after_commits", "search_10_segments"):
        s = r[key]
        print(f"hybrid search, {s['segments']} segment(s): p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--kinds", default="flat,hnsw")
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--corpus", type=Path, default=corpus_mod.default_corpus())
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    sizes = [5000] if args.quick else [int(s) for s in args.sizes.split(",")]
    settings = Settings(embedder="use-multilingual", semantic_embedder="none")
    configure(settings, "batch")
    embedder = make_embedder(settings)
    pool = corpus_mod.build_pool(args.corpus, embedder, 80 if args.quick else None)
    passages = corpus_mod.compose(pool, max(sizes))
    qs = corpus_mod.queries(args.corpus, 30 if args.quick else args.queries)
    results = []
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-seg-", dir=OUT) as tmp:
        for n in sizes:
            for kind in args.kinds.split(","):
                r = bench(settings, embedder, pool, passages, n, kind, Path(tmp), qs,
                          20 if args.quick else args.commits)
                show(r)
                results.append(r)
    path = OUT / f"bench_segments-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nfigures: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
