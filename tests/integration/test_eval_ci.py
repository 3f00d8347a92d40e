"""The evaluation subset that runs in CI: real index of the five statutes, real retriever, dev questions.

It must pass with the default configuration and must fail for a deliberately broken retriever (random
ranking), for the model-free char-ngram embedder alone, and for the naive whitespace-BM25 baseline —
otherwise the thresholds would be too low to catch a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from eval.baseline import NaiveBM25, baseline_retrieved
from eval.ci import CI_CORPUS, CI_SETS, CI_THRESHOLDS, RandomRanker, check, means, run_subset
from eval.corpora import corpus_spec
from eval.evalconfig import load_config
from eval.retrieval import ensure_index, run_questions
from eval.runner import load_gold


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("eval-work")


@pytest.fixture(scope="module")
def subset(shared_corpus, work):
    spec = corpus_spec(CI_CORPUS, shared_corpus, work / "derived")
    rows = load_gold(list(CI_SETS), "dev")
    return spec, rows


def _retriever(config: str, spec, work):
    from assistant.retrieve.search import open_retriever

    info = ensure_index(load_config(config).make_settings(), spec, work, log=lambda _m: None)
    return open_retriever(info.settings, info.settings.index_name), info


@pytest.fixture(scope="module")
def default_retriever(subset, work):
    spec, _ = subset
    return _retriever("default", spec, work)[0]


def test_subset_is_the_documented_size(subset):
    spec, rows = subset
    answerable = [r for r in rows if r["answerable"]]
    assert len(spec.files) == 5
    assert len(answerable) >= 20, "CI subset shrank: thresholds were set on ~20 answerable dev questions"


def test_default_configuration_meets_thresholds(subset, default_retriever):
    spec, rows = subset
    t0 = time.perf_counter()
    metrics = run_subset(default_retriever, spec, rows, "hybrid")
    assert check(metrics) == [], metrics
    assert time.perf_counter() - t0 < 30, "searching the CI subset should take seconds"


def test_random_ranking_fails_the_thresholds(subset, default_retriever):
    spec, rows = subset
    metrics = run_subset(RandomRanker(default_retriever), spec, rows, "hybrid")
    failures = check(metrics)
    assert failures and metrics["recall@5"] < 0.5, metrics


def test_char_ngram_dense_alone_fails_the_thresholds(subset, work):
    spec, rows = subset
    retriever, info = _retriever("char-ngram", spec, work)
    assert info.settings.embedder == "char-ngram-hash"
    metrics = run_subset(retriever, spec, rows, "dense")
    assert check(metrics), metrics


def test_naive_baseline_fails_the_thresholds(subset):
    spec, rows = subset
    metrics = means(run_questions(NaiveBM25(spec), spec, rows, ["bm25"], convert=baseline_retrieved))
    assert check(metrics), metrics
    assert metrics["recall@5"] < CI_THRESHOLDS["recall@5"]


def test_cli_writes_a_report(tmp_path, shared_corpus):
    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "assistant.cli", "eval", "--config", "baseline-naive", "--sets", "korean-laws-minwon",
           "--split", "dev", "--limit", "6", "--no-answers", "--no-tasks", "--no-sts", "--out", str(out),
           "--corpus", str(shared_corpus), "--work-dir", str(tmp_path / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {r["group"] for r in report["retrieval"]} >= {"korean-laws-minwon", "all"}
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "한눈에 보기" in md and "baseline-naive" in md
    assert (out / "mrr10_all.png").stat().st_size > 5000


def test_cli_rejects_bad_input_in_korean(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "--sets", "없는-골드셋", "--no-sts",
                           "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "오류:" in proc.stderr and "없는-골드셋" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", "--config", "없는설정", "--no-sts"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "없는설정" in proc.stderr


# ------------------------------------------------------------------ optional LLM judge (fake server on loopback)

class _JudgeServer:
    """A protocol-faithful OpenAI-compatible chat server on 127.0.0.1: answers 예 when the answer block
    contains the reference block's text, 아니오 otherwise; status 500 for model "broken"."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.endswith("/chat/completions") or body.get("model") == "broken":
                    self.send_response(500)
                    self.end_headers()
                    return
                prompt = body["messages"][0]["content"]
                ref = prompt.split("<기준답>\n", 1)[1].split("\n</기준답>", 1)[0]
                ans = prompt.split("<답변>\n", 1)[1].split("\n</답변>", 1)[0]
                content = "예" if ref in ans else "아니오"
                data = json.dumps({"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": content}}],
                                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                raw = data.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def judge_server():
    server = _JudgeServer()
    yield server
    server.close()


def test_llm_judge_verdicts_and_errors(judge_server):
    from assistant.errors import AssistantError
    from eval.judge import Judge

    judge = Judge(judge_server.url, "judge-model")
    assert judge.verdict("질문", "14일 이내", "질의민원은 14일 이내에 처리합니다.") == 1.0
    assert judge.verdict("질문", "14일 이내", "7일 이내에 처리합니다.") == 0.0
    with pytest.raises(AssistantError, match="EVAL_JUDGE_URL"):
        Judge(judge_server.url, "broken").verdict("q", "r", "a")


def test_answers_with_judge_through_ask_service(subset, default_retriever, judge_server):
    from assistant.generate.factory import make_generator
    from assistant.korean.morph import content_terms_batch
    from assistant.tasks.ask import AskService
    from eval.answers import run_answers
    from eval.judge import Judge

    spec, rows = subset
    settings = load_config("default").make_settings()
    service = AskService(default_retriever, make_generator(settings), settings)
    chosen = [r for r in rows if r["answerable"]][:3] + [r for r in rows if not r["answerable"]][:1]
    runs = run_answers(service, spec, chosen, lambda t: content_terms_batch(list(t)),
                       judge=Judge(judge_server.url, "judge-model"))
    assert len(runs) == 4 and not runs[-1].answerable
    answered = [r for r in runs if r.answerable and not r.abstained]
    for r in answered:
        assert r.metrics["judge_agreement"] in (0.0, 1.0)
        assert 0.0 <= r.metrics["citation_precision"] <= 1.0
    assert "judge_agreement" not in runs[-1].metrics
