"""Why Dask: start-up, per-task overhead, result transfer and memory of a 2-worker local cluster.

Issue 16 item 7 asks to pick Ray, Dask or Celery by measurement. Celery needs a broker (RabbitMQ or
Redis) as a separate service and ships results through it, which a closed network must install and run
as well; Ray and Dask need nothing but their wheels. This script measures the two, each in an
interpreter that has it installed:

    .venv/bin/python bench/compare_task_engines.py --engine dask
    /path/to/venv-with-ray/bin/python bench/compare_task_engines.py --engine ray

The workload mimics distributed ingest: a task per batch of files returning a document's chunks (20
texts of 300 characters, their terms) and its 20 x 512 float32 vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import psutil


def trivial(i: int) -> int:
    return i


def document(i: int) -> dict:
    rng = np.random.default_rng(i)
    return {"texts": ["가" * 300] * 20, "terms": [["민원", "처리"] * 20] * 20,
            "vectors": rng.standard_normal((20, 512)).astype(np.float32)}


def tree_rss_mb() -> float:
    me = psutil.Process()
    procs = [me, *me.children(recursive=True)]
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def run_dask() -> dict:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    client.submit(trivial, 0).result()
    start = time.perf_counter() - t0
    rss = tree_rss_mb()
    t0 = time.perf_counter()
    client.gather(client.map(trivial, range(1, 501)))
    per_task = (time.perf_counter() - t0) / 500
    t0 = time.perf_counter()
    docs = client.gather(client.map(document, range(200)))
    per_doc = (time.perf_counter() - t0) / 200
    assert len(docs) == 200 and docs[5]["vectors"].shape == (20, 512)
    client.close()
    cluster.close()
    return {"start_s": start, "per_task_ms": per_task * 1e3, "per_document_ms": per_doc * 1e3, "rss_mb": rss}


def run_ray() -> dict:
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    f_trivial = ray.remote(trivial)
    f_document = ray.remote(document)
    ray.get(f_trivial.remote(0))
    start = time.perf_counter() - t0
    rss = tree_rss_mb()
    t0 = time.perf_counter()
    ray.get([f_trivial.remote(i) for i in range(1, 501)])
    per_task = (time.perf_counter() - t0) / 500
    t0 = time.perf_counter()
    docs = ray.get([f_document.remote(i) for i in range(200)])
    per_doc = (time.perf_counter() - t0) / 200
    assert len(docs) == 200 and docs[5]["vectors"].shape == (20, 512)
    ray.shutdown()
    return {"start_s": start, "per_task_ms": per_task * 1e3, "per_document_ms": per_doc * 1e3, "rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=("dask", "ray"), required=True)
    args = ap.parse_args()
    out = run_dask() if args.engine == "dask" else run_ray()
    out = {k: round(v, 2) for k, v in out.items()}
    print(json.dumps({"engine": args.engine, "cpu_count": os.cpu_count(), **out}, ensure_ascii=False))


if __name__ == "__main__":
    main()
