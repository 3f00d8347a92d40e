"""Summary and 민원 reply checks, through the real ``assistant.tasks.summarize`` / ``draft_reply``.

Summaries (``eval/gold/summaries.jsonl``): key-fact coverage (share of reference facts present in the
summary) and length compliance (lines ≤ the requested length). Replies (``eval/gold/replies.jsonl``,
complaints with planted personal data): PII leaks (planted strings found in the draft — the target is
zero), required sections present (민원 요지, 검토 결과, 근거, 추가 문의), cited-article validity (every 제N조
in the draft appears in a passage it was given) and key-fact coverage. Each part is skipped with a note
when its task module cannot be imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.textmatch import normalise


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fact_coverage(text: str, facts: list[str]) -> float:
    if not facts:
        return float("nan")
    t = normalise(text)
    return sum(1 for f in facts if normalise(f) in t) / len(facts)


def pii_leaks(text: str, planted: list[str]) -> list[str]:
    """Planted strings still readable in the output (whitespace-insensitive)."""
    t = normalise(text)
    return [p for p in planted if normalise(p) and normalise(p) in t]


def run_summaries(settings: Any, corpus: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Summary cases and totals (fact and section coverage, repeated facts, invented numbers, PII, noise):
    :mod:`eval.summaries`."""
    from eval.summaries import run_summaries as run

    return run(settings, corpus, log)


def run_replies(settings: Any, retriever: Any, log: Callable[[str], None]) -> dict[str, Any]:
    """Reply cases and totals (unrelated citations, notation, PII, deadline stated): :mod:`eval.replies`."""
    from eval.replies import run_replies as run

    return run(settings, retriever, log)


def reply_corpus_spec(corpus: Path, derived: Path) -> Any:
    from eval.replies import reply_corpus_spec as spec

    return spec(corpus, derived)


def run_tasks(settings: Any, specs: dict[str, Any], opts: Any, log: Callable[[str], None]) -> dict[str, Any]:
    from assistant.retrieve.search import open_retriever
    from eval.corpora import default_corpus_root
    from eval.retrieval import ensure_index

    corpus = opts.corpus or default_corpus_root()
    out: dict[str, Any] = {"summaries": run_summaries(settings, corpus, log)}
    from eval.report_drafts import run_report_drafts

    out["reports"] = run_report_drafts(settings, corpus, log)   # 보고서·보도자료 drafts from chosen files
    spec = reply_corpus_spec(corpus, opts.work_dir / "derived")
    info = ensure_index(settings, spec, opts.work_dir, log)
    out["replies"] = run_replies(info.settings, open_retriever(info.settings, info.settings.index_name), log)
    return out


def gold_cli(argv: list[str] | None, *, description: str, in_source: str, show: str,
             check: Callable[[Path], list[str]], run: Callable[..., dict[str, Any]],
             render: Callable[[dict[str, Any]], str], heading: Callable[[dict[str, Any]], str]) -> int:
    """The command line shared by ``python -m eval.summaries`` and ``python -m eval.report_drafts``:
    ``--check`` verifies the gold facts against their sources, otherwise the cases run and their table
    prints (``--show`` adds each output under ``heading(case)``, ``--json`` saves the result)."""
    import argparse
    import sys

    from assistant.config import Settings
    from eval.corpora import default_corpus_root

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--only", nargs="*", default=[], help="평가할 사례 id")
    ap.add_argument("--check", action="store_true", help=f"골드 사실이 {in_source}에 있는지만 확인")
    ap.add_argument("--show", action="store_true", help=f"{show}도 출력")
    ap.add_argument("--json", type=Path, default=None, help="결과를 JSON으로 저장")
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus_root()
    if args.check:
        problems = check(corpus)
        print("\n".join(problems) or f"골드 사실 모두 {in_source}에 있음")
        return 1 if problems else 0
    result = run(Settings(), corpus, lambda m: print(m, file=sys.stderr), args.only)
    if args.show:
        for c in result["cases"]:
            print(f"## {heading(c)}\n{c['text']}\n")
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
