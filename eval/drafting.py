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

from eval import GOLD_DIR
from eval.answers import unsupported_law_citations
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
    try:
        from assistant.tasks.summarize import parse_length, summarize_document
    except ImportError:
        return {"note": "assistant.tasks.summarize를 가져올 수 없어 요약 평가를 건너뜀", "cases": []}
    cases = []
    for case in _jsonl(GOLD_DIR / "summaries.jsonl"):
        path = corpus / case["source"]
        if not path.is_file():
            continue
        summary = summarize_document(path, settings=settings, length=case.get("length"))
        limit = parse_length(case.get("length"), settings.summary_page_lines)
        cases.append({"id": case["id"], "source": case["source"], "lines": summary.lines, "max_lines": limit,
                      "length_ok": summary.lines <= limit, "fact_coverage": fact_coverage(summary.text, case["facts"]),
                      "text": summary.text[:1500]})
    log(f"  요약 평가: {len(cases)}건")
    return {"note": "", "cases": cases}


def run_replies(settings: Any, retriever: Any, log: Callable[[str], None]) -> dict[str, Any]:
    try:
        from assistant.tasks.draft_reply import draft_reply
    except ImportError:
        return {"note": "assistant.tasks.draft_reply를 가져올 수 없어 민원 답변 평가를 건너뜀", "cases": []}
    cases = []
    for case in _jsonl(GOLD_DIR / "replies.jsonl"):
        draft = draft_reply(case["complaint"], settings=settings, retriever=retriever)
        reply = draft.reply
        given = [p.text for p in draft.retrieved]
        sections = case.get("required_sections", [])
        cases.append({
            "id": case["id"], "pii_leaks": pii_leaks(reply, case.get("pii", [])),
            "sections_present": sum(1 for s in sections if s in reply) / len(sections) if sections else float("nan"),
            "unsupported_articles": unsupported_law_citations(reply, given),
            "fact_coverage": fact_coverage(reply, case.get("facts", [])),
            "complaint_type": draft.complaint_type, "text": reply[:1500]})
    log(f"  민원 답변 평가: {len(cases)}건")
    return {"note": "", "cases": cases}


def run_tasks(settings: Any, specs: dict[str, Any], opts: Any, log: Callable[[str], None]) -> dict[str, Any]:
    from assistant.retrieve.search import open_retriever
    from eval.corpora import corpus_spec, default_corpus_root
    from eval.retrieval import ensure_index

    corpus = opts.corpus or default_corpus_root()
    out: dict[str, Any] = {"summaries": run_summaries(settings, corpus, log)}
    spec = corpus_spec("statutes", corpus, opts.work_dir / "derived")
    info = ensure_index(settings, spec, opts.work_dir, log)
    out["replies"] = run_replies(info.settings, open_retriever(info.settings, info.settings.index_name), log)
    return out
