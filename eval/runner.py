"""Run the whole evaluation: configurations × gold sets → per-question results → aggregated report.

    assistant eval [--config NAME ...] [--sets NAME ...] [--split test] [--out DIR]

Steps per configuration: build or reuse the cached index of each corpus the selected sets need
(:mod:`eval.retrieval`), run every question in each retrieval mode, then (for configurations with
``answers: true``) every question through ``AskService``, and (``tasks: true``) the summary and 민원 reply
checks. Embedders are checked once on KLUE-STS. :mod:`eval.report` turns the results into report.md,
report.json and charts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from eval import GOLD_DIR
from eval.corpora import SET_CORPUS, CorpusSpec, corpus_spec, default_corpus_root
from eval.evalconfig import EvalConfig, load_configs
from eval.retrieval import QuestionRun, ensure_index, run_questions

ALL_SETS = ("moleg-interpretations-qa", "korean-laws-minwon", "korean-laws-admin", "welfare-services-2023",
            "allganize-public-docs", "people-laws", "people-welfare", "people-allganize")


@dataclass
class RunOptions:
    configs: list[str] | None = None
    sets: list[str] | None = None
    split: str = "test"                  # dev | test | all
    corpus: Path | None = None
    work_dir: Path = Path("eval/reports/.cache")
    answers: bool = True
    tasks: bool = True
    sts: bool = True
    limit: int | None = None             # at most this many questions per set (quick runs)
    set_corpus: dict[str, str] = field(default_factory=dict)   # override SET_CORPUS (CI uses "statutes")


@dataclass
class ConfigResult:
    config: EvalConfig
    status: str = "ok"                   # ok | skipped | failed
    note: str = ""
    indexes: list[dict[str, Any]] = field(default_factory=list)
    retrieval: list[QuestionRun] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    answer_note: str = ""
    tasks: dict[str, Any] = field(default_factory=dict)


def load_gold(sets: list[str], split: str, gold_dir: Path = GOLD_DIR, limit: int | None = None) -> list[dict[str, Any]]:
    rows = []
    for name in sets:
        path = gold_dir / f"{name}.jsonl"
        if not path.is_file():
            raise AssistantError(f"골드셋 파일이 없습니다: {path}. 'python -m eval.gold.author'로 만드세요.")
        chosen = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssistantError(f"골드셋 {path} {n}번째 줄이 올바른 JSON이 아닙니다: {exc.msg}") from None
            if split == "all" or row.get("split") == split or (split == "test" and row.get("split") == "blind"):
                chosen.append(row)
        rows += chosen[:limit] if limit else chosen
    return rows


def _corpora_for(rows: list[dict[str, Any]], opts: RunOptions) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = {}
    mapping = {**SET_CORPUS, **opts.set_corpus}
    for row in rows:
        by.setdefault(mapping[row["set"]], []).append(row)
    return by


def evaluate_config(cfg: EvalConfig, by_corpus: dict[str, list[dict[str, Any]]], specs: dict[str, CorpusSpec],
                    opts: RunOptions, log: Callable[[str], None]) -> ConfigResult:
    result = ConfigResult(cfg)
    missing = cfg.missing()
    if missing:
        result.status, result.note = "skipped", missing
        log(f"[{cfg.name}] {missing}")
        return result
    log(f"[{cfg.name}] {cfg.label}")
    for corpus_name, rows in by_corpus.items():
        spec = specs[corpus_name]
        if cfg.kind == "baseline":
            from eval.baseline import NaiveBM25, baseline_retrieved

            t0 = time.perf_counter()
            backend = NaiveBM25(spec)
            result.indexes.append({"corpus": corpus_name, "chunks": len(backend.rows),
                                   "seconds": round(time.perf_counter() - t0, 1), "reused": False})
            result.retrieval += run_questions(backend, spec, rows, cfg.modes, convert=baseline_retrieved)
            continue
        settings = cfg.make_settings()
        info = ensure_index(settings, spec, opts.work_dir, log)
        result.indexes.append({"corpus": corpus_name, "index": info.settings.index_name, "chunks": info.chunks,
                               "seconds": round(info.seconds, 1), "reused": info.reused})
        from assistant.retrieve.search import open_retriever

        retriever = open_retriever(info.settings, info.settings.index_name)
        result.retrieval += run_questions(retriever, spec, rows, cfg.modes)
        if cfg.answers and opts.answers:
            _answers(result, info.settings, spec, rows, log)
    if cfg.tasks and opts.tasks:
        from eval.drafting import run_tasks

        result.tasks = run_tasks(cfg.make_settings(), specs, opts, log)
    return result


def _answers(result: ConfigResult, settings: Any, spec: CorpusSpec, rows: list[dict[str, Any]],
             log: Callable[[str], None]) -> None:
    from eval.answers import ask_service_class, make_service, run_answers

    if ask_service_class() is None:
        result.answer_note = "assistant.tasks.ask.AskService를 가져올 수 없어 답변 평가를 건너뜀"
        return
    from assistant.korean.morph import content_terms_batch

    service = make_service(settings)
    log(f"  답변 평가: {spec.name} {len(rows)}문항")
    from eval.judge import Judge

    judge = Judge.from_env()
    if judge is None:
        result.answer_note = result.answer_note or "LLM 채점(EVAL_JUDGE_URL) 미설정: judge_agreement 없음"
    result.answers += run_answers(service, spec, rows, lambda texts: content_terms_batch(list(texts)),
                                  judge=judge)


def run_sts(configs: list[ConfigResult], corpus: Path, log: Callable[[str], None]) -> list[dict[str, Any]]:
    from assistant.index.embedders import make_embedder
    from eval.sts import evaluate_embedder, load_pairs

    pairs = load_pairs(corpus)
    if not pairs:
        return []
    out, seen = [], set()
    for r in configs:
        if r.status != "ok" or r.config.kind != "assistant":
            continue
        settings = r.config.make_settings()
        for name in (settings.embedder, settings.semantic_embedder):
            key = (name, settings.embedder_model if name == settings.embedder else "")
            if name in ("", "none") or key in seen:
                continue
            seen.add(key)
            log(f"  KLUE-STS: {name}")
            out.append(evaluate_embedder(make_embedder(settings, name), pairs))
    return out


def run(opts: RunOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Evaluate and return the report data (see :func:`eval.report.build_report`)."""
    from eval.report import build_report

    corpus = opts.corpus or default_corpus_root()
    sets = opts.sets or list(ALL_SETS)
    unknown = [s for s in sets if s not in SET_CORPUS]
    if unknown:
        raise AssistantError(f"알 수 없는 골드셋: {', '.join(unknown)}. 가능한 값: {', '.join(ALL_SETS)}")
    if opts.split not in ("dev", "test", "all"):
        raise AssistantError(f"--split은 dev, test, all 중 하나여야 합니다 (입력: {opts.split}).")
    configs = load_configs(opts.configs)
    rows = load_gold(sets, opts.split, limit=opts.limit)
    by_corpus = _corpora_for(rows, opts)
    opts.work_dir.mkdir(parents=True, exist_ok=True)
    specs = {name: corpus_spec(name, corpus, opts.work_dir / "derived") for name in by_corpus}
    started = time.perf_counter()
    results = [evaluate_config(cfg, by_corpus, specs, opts, log) for cfg in configs]
    sts = run_sts(results, corpus, log) if opts.sts else []
    meta = {"created": datetime.now().isoformat(timespec="seconds"), "split": opts.split, "sets": sets,
            "questions": len(rows), "corpus": str(corpus), "seconds": round(time.perf_counter() - started, 1)}
    return build_report(results, rows, sts, meta)
