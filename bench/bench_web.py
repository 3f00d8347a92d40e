"""Web load test: N concurrent users asking over loopback for T seconds, plus server start-to-ready.

Starts ``assistant serve`` on a free loopback port against an existing index (by default the sample index
that ``make run`` builds), with a fresh data folder and rate limiting off; creates N users; each user logs
in through the form and then asks questions back to back (closed loop, no think time) through the
streaming endpoint. Prints throughput, latency p50/p95/max, time to first token and errors, and writes
``bench/out/web.json``.

    .venv/bin/python bench/bench_web.py                     # 20 users, 60 s, indexes/default
    .venv/bin/python bench/bench_web.py --users 5 --seconds 10 --index-dir /tmp/idx
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
QUESTIONS = [
    "민원 처리기간은 어떻게 계산하나요?",
    "정보공개 청구는 언제까지 결정해야 하나요?",
    "행정절차법상 사전통지는 언제 해야 하나요?",
    "민원 처리기간을 연장할 수 있나요?",
    "정보공개 결정에 이의신청은 어떻게 하나요?",
    "처분의 이유 제시는 어떤 경우에 생략할 수 있나요?",
    "고충민원은 어떻게 처리하나요?",
    "반복 민원은 어떻게 처리하나요?",
    "비공개 대상 정보에는 어떤 것이 있나요?",
    "청문은 언제 실시하나요?",
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_users(env: dict[str, str], n: int, department: str = "민원과") -> None:
    """Users straight into the database (one process, not N CLI start-ups), 내부 clearance."""
    code = (
        "import sys\nfrom assistant.config import load_settings\nfrom assistant.cli.web import _sessions\n"
        "from assistant.web.auth import create_user\n"
        "with _sessions(load_settings()).begin() as db:\n"
        f"    for i in range({n}):\n"
        f"        create_user(db, f'user{{i:02d}}', {PASSWORD!r}, clearance='내부', department={department!r})\n")
    subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True)


def start_server(env: dict[str, str], port: int, log: Path, workers: int = 1) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    # a file, not a pipe: an unread pipe fills up and then blocks the server's logging
    with open(log, "w") as fh:
        cmd = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--workers", str(workers)]
        proc = subprocess.Popen(cmd, env=env,
                                cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/healthz"
    while time.perf_counter() - t0 < 120:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(encoding='utf-8')[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("server not ready after 120 s")


def login(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)
    return c


def user_loop(base: str, idx: int, deadline: float, out: dict, lock: threading.Lock) -> None:
    c = login(base, f"user{idx:02d}")
    n = idx
    while time.perf_counter() < deadline:
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t0 = time.perf_counter()
        ttft, ok, cited = None, False, False
        try:
            with c.stream("POST", "/api/ask/stream", json={"question": q}) as resp:
                if resp.status_code != 200:
                    raise RuntimeError(f"HTTP {resp.status_code}")
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    ev = json.loads(line[5:])
                    if ev["type"] == "token" and ttft is None:
                        ttft = time.perf_counter() - t0
                    elif ev["type"] == "done":
                        ok, cited = True, bool(ev["citations"])
                    elif ev["type"] == "error":
                        raise RuntimeError(ev["message"])
        except Exception as exc:  # noqa: BLE001 — every failure is counted, none stops the run
            with lock:
                out["errors"].append(f"{type(exc).__name__}: {exc}")
            continue
        total = time.perf_counter() - t0
        with lock:
            if ok:
                out["latency"].append(total)
                out["ttft"].append(ttft if ttft is not None else total)
                out["cited"] += int(cited)
            else:
                out["errors"].append("stream ended without done")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--index-dir", type=Path, default=REPO / "indexes")
    ap.add_argument("--index", default="default")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "web.json")
    ap.add_argument("--workers", type=int, default=1, help="server processes (assistant serve --workers)")
    args = ap.parse_args()
    if not (args.index_dir / args.index / "CURRENT").is_file():
        raise SystemExit(f"색인 {args.index_dir / args.index}이 없습니다. "
                         "먼저 'make run'(또는 assistant ingest samples)을 실행하세요.")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(args.index_dir.resolve()), ASSISTANT_INDEX_NAME=args.index,
               ASSISTANT_DATA_DIR=str(data_dir), ASSISTANT_RATE_LIMIT_PER_MINUTE="0", HF_HUB_OFFLINE="1")
    create_users(env, args.users)
    port = free_port()
    proc, ready_s = start_server(env, port, data_dir / "server.log", args.workers)
    base = f"http://127.0.0.1:{port}"
    results: dict = {"latency": [], "ttft": [], "errors": [], "cited": 0}
    lock = threading.Lock()
    try:
        warm = login(base, "user00")
        warm.post("/api/ask", json={"question": QUESTIONS[0]})
        start = time.perf_counter()
        deadline = start + args.seconds
        threads = [threading.Thread(target=user_loop, args=(base, i, deadline, results, lock))
                   for i in range(args.users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat, ttft = results["latency"], results["ttft"]
    report = {
        "users": args.users, "workers": args.workers, "seconds": round(elapsed, 1), "requests_ok": len(lat),
        "errors": len(results["errors"]),
        "throughput_rps": round(len(lat) / elapsed, 2),
        "latency_p50_ms": round(percentile(lat, 50) * 1e3, 1), "latency_p95_ms": round(percentile(lat, 95) * 1e3, 1),
        "latency_max_ms": round(max(lat) * 1e3, 1) if lat else None,
        "ttft_p50_ms": round(percentile(ttft, 50) * 1e3, 1), "ttft_p95_ms": round(percentile(ttft, 95) * 1e3, 1),
        "answers_with_citations": results["cited"], "server_start_to_ready_s": round(ready_s, 2),
        "mean_latency_ms": round(statistics.mean(lat) * 1e3, 1) if lat else None,
        "error_samples": results["errors"][:5], "cpu_count": os.cpu_count(),
        "server_log": str(data_dir / "server.log"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"웹 부하 시험: 사용자 {args.users}명 × {report['seconds']}초, "
          f"서버 프로세스 {args.workers}개 (루프백, 추출형 생성기)")
    print(f"  처리량 {report['throughput_rps']} 요청/초, 성공 {report['requests_ok']}건, 오류 {report['errors']}건")
    print(f"  지연 p50 {report['latency_p50_ms']} ms, p95 {report['latency_p95_ms']} ms, "
          f"최대 {report['latency_max_ms']} ms")
    print(f"  첫 토큰 p50 {report['ttft_p50_ms']} ms, p95 {report['ttft_p95_ms']} ms")
    print(f"  서버 시작→준비 {report['server_start_to_ready_s']} 초")
    print(f"  결과: {args.out}")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
