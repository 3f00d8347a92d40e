"""Distributed bulk ingest (issue 16 item 7): documents/s in one process and on a Dask cluster of 1 and 2
local worker processes, and the semantic (e5) pass on 1 and 2 workers.

    .venv/bin/python bench/bench_distributed.py                  # welfare docs + samples (~600 files)
    .venv/bin/python bench/bench_distributed.py --semantic-chunks 400

Every configuration ingests the same files into a fresh index. The cluster's start-up is timed apart
(a long-lived cluster pays it once). The figures of a 2-core machine say what the overhead is and whether
two processes use both cores; more hosts add workers, not new code. Writes bench/out/distributed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import _corpus as corpus_mod  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.index.embedders import make_embedder, shared_embedder  # noqa: E402
from assistant.index.semantic import SemanticStore, fill  # noqa: E402
from assistant.index.store import IndexStore  # noqa: E402
from assistant.ingest.distributed import (  # noqa: E402
    ClusterEmbedder,
    DistributedIngestor,
    cluster_client,
)
from assistant.ingest.pipeline import Ingestor  # noqa: E402
from assistant.runtime import configure  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=corpus_mod.default_corpus())
    ap.add_argument("--semantic-chunks", type=int, default=300, help="chunks embedded by the e5 comparison")
    ap.add_argument("--out", type=Path, default=OUT / "distributed.json")
    args = ap.parse_args()
    paths = corpus_mod.ingest_paths(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="bench-dist-"))
    settings = Settings(index_dir=work, semantic_fill="off")
    configure(settings)
    res: dict = {"cpu_count": os.cpu_count(), "load_avg_at_start": os.getloadavg(), "paths": [str(p) for p in paths]}
    try:
        t0 = time.perf_counter()
        one = Ingestor(settings, IndexStore(work, "single"), make_embedder(settings)).run(paths)
        res["single_process"] = {"seconds": time.perf_counter() - t0, "files": one.count("ok"), "chunks": one.chunks}
        print(f"한 프로세스: 파일 {one.count('ok')}개, {res['single_process']['seconds']:.1f}초", flush=True)
        texts = IndexStore(work, "single").open().position_texts()[: args.semantic_chunks]
        local = shared_embedder(settings, settings.semantic_embedder)
        t0 = time.perf_counter()
        local.embed(texts)
        res["semantic_single_process_s"] = time.perf_counter() - t0
        print(f"한 프로세스 e5 {len(texts)}청크: {res['semantic_single_process_s']:.1f}초", flush=True)
        for workers in (1, 2):
            t0 = time.perf_counter()
            with cluster_client(workers=workers) as client:
                start_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                store = IndexStore(work, f"w{workers}")
                rep = DistributedIngestor(settings, store, make_embedder(settings), client).run(paths)
                seconds = time.perf_counter() - t0
                remote = ClusterEmbedder(client, settings, settings.semantic_embedder)
                remote.embed(texts[:4])           # each worker loads e5 before the clock starts
                vectors = SemanticStore(work / "semantic-bench" / f"w{workers}", remote.name, remote.dim)
                t0 = time.perf_counter()
                filled = fill(vectors, remote, texts, batch=remote.batch)
                sem_s = time.perf_counter() - t0
            res[f"workers_{workers}"] = {"cluster_start_s": start_s, "seconds": seconds, "files": rep.count("ok"),
                                         "chunks": rep.chunks, "semantic_s": sem_s, "semantic_done": filled.done}
            assert rep.chunks == one.chunks, (rep.chunks, one.chunks)
            print(f"작업자 {workers}개: 시작 {start_s:.1f}초, 색인 {seconds:.1f}초 "
                  f"({rep.count('ok') / seconds:.1f} 문서/초), e5 {len(texts)}청크 {sem_s:.1f}초", flush=True)
        base = res["single_process"]
        print("\n| 구성 | 문서/초 | 한 프로세스 대비 | e5 청크/초 |\n|---|---|---|---|")
        print(f"| 한 프로세스 | {base['files'] / base['seconds']:.1f} | 1.00× | "
              f"{len(texts) / res['semantic_single_process_s']:.1f} |")
        for workers in (1, 2):
            r = res[f"workers_{workers}"]
            print(f"| Dask 작업자 {workers}개 | {r['files'] / r['seconds']:.1f} | "
                  f"{base['seconds'] / r['seconds']:.2f}× | {len(texts) / r['semantic_s']:.1f} |")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"결과: {args.out}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
