"""Search and ask under concurrent users: 1 user against N, one request thread count against another.

Issue 16 item 3: a server answering twenty users is always busy, so a query's FAISS scan and BLAS
products should not each start an OpenMP team that waits for cores other requests hold. This bench serves
one index with ``ASSISTANT_SERVER_QUERY_THREADS`` = 1 (the default) and = 2, and for each runs closed-loop
users (no think time) against ``/api/search`` and ``/api/ask`` — 1 user, then N — printing p50/p95.

The index is synthetic (bench/_corpus.py: passages composed from real corpus sentences, USE vectors, a
flat FAISS layer, the access mix of an agency) so that FAISS has real work; the users are 내부 clearance
in 민원봉사과, so every request carries the access filter the web app always sends.

    .venv/bin/python bench/bench_server.py                       # 100k chunks, 20 users, 20 s per cell
    .venv/bin/python bench/bench_server.py --chunks 20000 --seconds 10 --users 10

Writes bench/out/server.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import _corpus as corpus_mod  # noqa: E402
from bench_web import QUESTIONS, create_users, free_port, login, percentile, start_server  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.index.embedders import UseMultilingual  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parents[1]


def build_index(root: Path, chunks: int, corpus: Path) -> None:
    embedder = UseMultilingual(threads=2)
    print(f"문장 풀과 합성 색인 {chunks:,}개 청크 만드는 중 …", flush=True)
    pool = corpus_mod.build_pool(corpus, embedder)
    passages = corpus_mod.compose(pool, chunks)
    corpus_mod.write_index(root, "default", pool, passages, chunks, embedder, "flat", Settings().hnsw_m)


def run_cell(base: str, endpoint: str, users: int, seconds: float) -> dict:
    """Closed-loop users for ``seconds``; latency of every successful request."""
    clients = [login(base, f"user{i:02d}") for i in range(users)]
    for c in clients:                       # each user's first request (session, caches) is not timed
        _request(c, endpoint, QUESTIONS[0])
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(i: int) -> None:
        n = i
        while time.perf_counter() < deadline:
            q = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            t0 = time.perf_counter()
            try:
                _request(clients[i], endpoint, q)
            except Exception as exc:  # noqa: BLE001 — counted, never stops the run
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                lat.append(time.perf_counter() - t0)

    started = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(users)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    return {"requests": len(lat), "errors": len(errors), "error_samples": errors[:3],
            "throughput_rps": round(len(lat) / elapsed, 2),
            "p50_ms": round(percentile(lat, 50) * 1e3, 1), "p95_ms": round(percentile(lat, 95) * 1e3, 1)}


def _request(c: httpx.Client, endpoint: str, q: str) -> None:
    body = {"query": q, "k": 5} if endpoint == "search" else {"question": q}
    resp = c.post(f"/api/{endpoint}", json=body)
    if resp.status_code != 200:
        raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=2, help="alternations per cell (seconds are split)")
    ap.add_argument("--threads", default="1,2", help="ASSISTANT_SERVER_QUERY_THREADS values to compare")
    ap.add_argument("--corpus", type=Path, default=corpus_mod.default_corpus())
    ap.add_argument("--out", type=Path, default=OUT / "server.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-server-"))
    try:
        build_index(work / "indexes", args.chunks, args.corpus)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        base_env.update(ASSISTANT_INDEX_DIR=str(work / "indexes"), ASSISTANT_INDEX_NAME="default",
                        ASSISTANT_RATE_LIMIT_PER_MINUTE="0", ASSISTANT_SEMANTIC_FILL="off",
                        ASSISTANT_SEMANTIC_EMBEDDER="none", ASSISTANT_EMBEDDER="use-multilingual",
                        HF_HUB_OFFLINE="1")
        results: dict = {"chunks": args.chunks, "users": args.users, "seconds": args.seconds,
                         "cpu_count": os.cpu_count(), "load_avg_at_start": os.getloadavg(), "cells": []}
        servers: dict[int, tuple[subprocess.Popen, str]] = {}
        try:
            for qthreads in [int(x) for x in args.threads.split(",")]:
                data_dir = work / f"data-{qthreads}"
                env = {**base_env, "ASSISTANT_DATA_DIR": str(data_dir),
                       "ASSISTANT_SERVER_QUERY_THREADS": str(qthreads)}
                data_dir.mkdir(parents=True)
                create_users(env, args.users, department="민원봉사과")
                port = free_port()
                proc, _ = start_server(env, port, data_dir / "server.log")
                servers[qthreads] = (proc, f"http://127.0.0.1:{port}")
            # Both servers run side by side (an idle one costs nothing) and the cells alternate between
            # them, first one order then the other, so drift in the machine's load hits both alike.
            for endpoint in ("search", "ask"):
                for users in (1, args.users):
                    order = list(servers)
                    for rnd in range(args.rounds):
                        for qthreads in (order if rnd % 2 == 0 else order[::-1]):
                            cell = run_cell(servers[qthreads][1], endpoint, users, args.seconds / args.rounds)
                            cell.update(server_query_threads=qthreads, endpoint=endpoint, users=users, round=rnd)
                            results["cells"].append(cell)
                            print(f"  요청당 스레드 {qthreads}, {endpoint:6s}, 사용자 {users:2d}명 (회차 {rnd + 1}): "
                                  f"p50 {cell['p50_ms']:7.1f} ms, p95 {cell['p95_ms']:7.1f} ms, "
                                  f"{cell['throughput_rps']:6.1f} 요청/초, 오류 {cell['errors']}", flush=True)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"결과: {args.out}")
        return 0 if all(c["errors"] == 0 for c in results["cells"]) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
