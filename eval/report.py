"""Aggregate per-question results (bootstrap 95% intervals) and write report.json, report.md and charts.

The Markdown is written for a reader who is not an engineer: a headline table first, then what each
figure means in plain Korean (with English), then targets against what was achieved and by how much.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import bootstrap_ci

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ANSWER_METRICS = ("answer_first", "lead_anywhere", "conclusion_accuracy", "conclusion_stated", "token_f1",
                  "citation_precision", "citation_recall", "groundedness", "unsupported_law_citations",
                  "judge_agreement")
LAWS_WELFARE = ("moleg-interpretations-qa", "korean-laws-minwon", "korean-laws-admin", "welfare-services-2023")
GROUPS: dict[str, tuple[str, ...]] = {
    "laws+welfare": LAWS_WELFARE,
    "handwritten laws+welfare": ("korean-laws-minwon", "korean-laws-admin", "welfare-services-2023"),
    "allganize (page)": ("allganize-public-docs",),
    # questions written the way a citizen, a new 주무관 and a 팀장 type them (eval/gold/people.py), with a
    # blind split nothing is tuned on
    "people laws+welfare": ("people-laws", "people-welfare"),
    "people allganize (page)": ("people-allganize",),
    "people all": ("people-laws", "people-welfare", "people-allganize"),
}
TARGETS = {"recall5_laws_welfare": 0.95, "recall5_allganize": 0.92, "abstention_correct": 0.90,
           "false_abstention": 0.05, "pii_leaks": 0, "unsupported_citations": 0,
           "recall5_people_laws_welfare": 0.95, "recall5_people_allganize": 0.90, "answer_first": 0.85}
#: the split the acceptance targets are judged on when present (never used to tune anything)
JUDGED_SPLIT = "blind"


def summarise(values: Iterable[float], n_boot: int = 2000) -> dict[str, Any]:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    mean, lo, hi = bootstrap_ci(vals, n=n_boot)
    return {"mean": _r(mean), "lo": _r(lo), "hi": _r(hi), "n": len(vals)}


def _r(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def _latency(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"p50": None, "p95": None}
    p50 = bootstrap_ci(values, stat=lambda a: float(np.percentile(a, 50)), n=300)
    p95 = bootstrap_ci(values, stat=lambda a: float(np.percentile(a, 95)), n=300)
    return {"p50": _r(p50[0]), "p50_ci": [_r(p50[1]), _r(p50[2])],
            "p95": _r(p95[0]), "p95_ci": [_r(p95[1]), _r(p95[2])]}


def _groups_of(sets: Iterable[str]) -> dict[str, tuple[str, ...]]:
    present = set(sets)
    out: dict[str, tuple[str, ...]] = {s: (s,) for s in sorted(present)}
    for name, members in GROUPS.items():
        if present & set(members):
            out[name] = tuple(m for m in members if m in present)
    out["all"] = tuple(sorted(present))
    return out


def _splits(items: Sequence[Any]) -> list[str]:
    """"all", then each split present when there are several (dev / test / blind reported side by side)."""
    present = sorted({getattr(i, "split", "") for i in items} - {""})
    return ["all"] + (present if len(present) > 1 else [])


def aggregate_retrieval(results: Sequence[Any], sets: Iterable[str]) -> list[dict[str, Any]]:
    groups = _groups_of(sets)
    rows = []
    for r in results:
        modes = dict.fromkeys(q.mode for q in r.retrieval)
        for mode in modes:
            runs = [q for q in r.retrieval if q.mode == mode]
            for gname, members in groups.items():
                in_group = [q for q in runs if q.set in members]
                for split in _splits(in_group):
                    chosen = [q for q in in_group if split == "all" or q.split == split]
                    if not chosen:
                        continue
                    row = {"config": r.config.name, "label": r.config.label, "mode": mode, "group": gname,
                           "split": split, "n": len(chosen)}
                    for m in RETRIEVAL_METRICS:
                        row[m] = summarise(q.metrics[m] for q in chosen)
                    row["latency_ms"] = _latency([q.latency_ms for q in chosen])
                    rows.append(row)
    return rows


def aggregate_answers(results: Sequence[Any], sets: Iterable[str]) -> list[dict[str, Any]]:
    groups = _groups_of(sets)
    rows = []
    for r in results:
        if not r.answers:
            continue
        for gname, members in groups.items():
            in_group = [a for a in r.answers if a.set in members]
            for split in _splits(in_group):
                chosen = [a for a in in_group if split == "all" or a.split == split]
                if not chosen:
                    continue
                unans = [a for a in chosen if not a.answerable]
                ans = [a for a in chosen if a.answerable]
                row = {"config": r.config.name, "group": gname, "split": split, "n": len(chosen),
                       "n_unanswerable": len(unans),
                       "abstention_correct": summarise(1.0 if a.abstained else 0.0 for a in unans),
                       "false_abstention": summarise(1.0 if a.abstained else 0.0 for a in ans),
                       "latency_ms": _latency([a.latency_ms for a in chosen])}
                for m in ANSWER_METRICS:
                    row[m] = summarise(a.metrics.get(m, float("nan")) for a in ans)
                row["answers_with_unsupported_citation"] = sum(
                    1 for a in ans if a.metrics.get("unsupported_law_citations", 0) > 0)
                row["gate_curve"] = gate_curve(chosen)
                rows.append(row)
    return rows


def gate_curve(answers: Sequence[Any]) -> list[list[float]]:
    """(gate bias, answerable declined, unanswerable declined): the trade-off the gate offers, from the
    probabilities the runs recorded (a bias shifts the fitted threshold in log-odds)."""
    pts = [(a.answerable, a.metrics.get("gate_logit")) for a in answers]
    pts = [(ok, z) for ok, z in pts if z is not None and not math.isnan(z)]
    if not pts:
        return []
    out = []
    for bias in (-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0):
        ans = [z + bias < 0 for ok, z in pts if ok]
        un = [z + bias < 0 for ok, z in pts if not ok]
        out.append([bias, round(sum(ans) / len(ans), 4) if ans else float("nan"),
                    round(sum(un) / len(un), 4) if un else float("nan")])
    return out


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _target(name: str, label: str, achieved: float | None, goal: float, higher: bool, why: str = "") -> dict[str, Any]:
    if achieved is None:
        return {"name": name, "label": label, "goal": goal, "achieved": None, "met": None, "gap": None, "note": why}
    met = achieved >= goal if higher else achieved <= goal
    gap = round(goal - achieved, 4) if higher else round(achieved - goal, 4)
    return {"name": name, "label": label, "goal": goal, "achieved": round(achieved, 4), "met": met,
            "gap": 0.0 if met else gap, "note": why}


def _mean(row: dict[str, Any] | None, metric: str) -> float | None:
    return row[metric]["mean"] if row else None


def _judged(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    """The row on the blind split when there is one, else on all questions of the run."""
    return _find(rows, split=JUDGED_SPLIT, **match) or _find(rows, split="all", **match)


def targets(retrieval: list[dict[str, Any]], answers: list[dict[str, Any]],
            results: Sequence[Any]) -> list[dict[str, Any]]:
    lw = _find(retrieval, config="default", mode="hybrid", group="laws+welfare", split="all")
    ag = _find(retrieval, config="default", mode="hybrid", group="allganize (page)", split="all")
    plw = _judged(retrieval, config="default", mode="hybrid", group="people laws+welfare")
    pag = _judged(retrieval, config="default", mode="hybrid", group="people allganize (page)")
    pan = _judged(answers, config="default", group="people all")
    an = pan or _find(answers, config="default", group="all", split="all")
    where = f" ({pan['split']})" if pan else ""
    no_answers = "" if an else "답변 평가 없음"
    out = [
        _target("recall5_laws_welfare", "hybrid Recall@5 — 법령·복지 (기존 골드셋)", _mean(lw, "recall@5"),
                TARGETS["recall5_laws_welfare"], True),
        _target("recall5_allganize", "hybrid Recall@5 — 공공문서 쪽 (기존 골드셋)", _mean(ag, "recall@5"),
                TARGETS["recall5_allganize"], True),
        _target("recall5_people_laws_welfare", f"hybrid Recall@5 — 법령·복지, 사람들이 쓰는 말"
                f"{' (' + plw['split'] + ')' if plw else ''}", _mean(plw, "recall@5"),
                TARGETS["recall5_people_laws_welfare"], True, "" if plw else "people 골드셋 없음"),
        _target("recall5_people_allganize", f"hybrid Recall@5 — 공공문서 쪽, 사람들이 쓰는 말"
                f"{' (' + pag['split'] + ')' if pag else ''}", _mean(pag, "recall@5"),
                TARGETS["recall5_people_allganize"], True, "" if pag else "people 골드셋 없음"),
        _target("answer_first", f"답변 첫 문장에 핵심 사실{where}", _mean(pan, "answer_first"),
                TARGETS["answer_first"], True, "" if pan else "people 골드셋 없음"),
        _target("abstention_correct", f"답이 없는 질문에 답변 거절{where}", _mean(an, "abstention_correct"),
                TARGETS["abstention_correct"], True, no_answers),
        _target("false_abstention", f"답이 있는 질문을 잘못 거절{where}", _mean(an, "false_abstention"),
                TARGETS["false_abstention"], False, no_answers),
    ]
    replies = [c for r in results for c in (r.tasks.get("replies", {}).get("cases", []) if r.tasks else [])]
    leaks = sum(len(c["pii_leaks"]) for c in replies) if replies else None
    out.append(_target("pii_leaks", "민원 답변 초안의 개인정보 노출(심어 둔 값)", leaks, 0, False,
                       "" if replies else "답변 초안 평가 없음"))
    from eval.replies import reply_targets

    out += reply_targets(replies, _target)
    from eval.report_drafts import report_targets

    out += report_targets([c for r in results for c in (r.tasks.get("reports", {}).get("cases", [])
                                                         if r.tasks else [])], _target)
    unsupported = None
    if an or replies:
        in_answers = sum(a.metrics.get("unsupported_law_citations", 0)
                         for r in results if r.config.name == "default" for a in r.answers)
        unsupported = in_answers + sum(c["unsupported_articles"] for c in replies)
    out.append(_target("unsupported_citations", "근거 없는 법조문 인용 수(답변+초안)", unsupported, 0, False))
    return out


def build_report(results: Sequence[Any], rows: list[dict[str, Any]], sts: list[dict[str, Any]],
                 meta: dict[str, Any]) -> dict[str, Any]:
    sets = sorted({r["set"] for r in rows})
    retrieval = aggregate_retrieval(results, sets)
    answers = aggregate_answers(results, sets)
    configs = [{"name": r.config.name, "label": r.config.label, "description": r.config.description,
                "kind": r.config.kind, "modes": r.config.modes, "status": r.status, "note": r.note,
                "answer_note": r.answer_note, "indexes": r.indexes} for r in results]
    counts = {s: {"questions": sum(1 for r in rows if r["set"] == s),
                  "unanswerable": sum(1 for r in rows if r["set"] == s and not r.get("answerable", True))}
              for s in sets}
    return {"meta": {**meta, "counts": counts}, "configs": configs, "retrieval": retrieval, "answers": answers,
            "sts": sts, "tasks": {r.config.name: r.tasks for r in results if r.tasks},
            "targets": targets(retrieval, answers, results),
            "per_question": {
                "retrieval": [{"config": r.config.name, **q.to_json()} for r in results for q in r.retrieval],
                "answers": [{"config": r.config.name, **a.to_json()} for r in results for a in r.answers]}}


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """report.json (aggregates), per_question.jsonl, report.md and PNG charts; returns the files written."""
    from eval.charts import draw_charts
    from eval.markdown import render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    per_q = report["per_question"]
    summary = {k: v for k, v in report.items() if k != "per_question"}
    files = [out_dir / "report.json", out_dir / "per_question.jsonl"]
    files[0].write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    with open(files[1], "w", encoding="utf-8") as fh:
        for kind, items in per_q.items():
            for item in items:
                fh.write(json.dumps({"kind": kind, **item}, ensure_ascii=False) + "\n")
    charts = draw_charts(summary, out_dir)
    md = out_dir / "report.md"
    md.write_text(render_markdown(summary, [c.name for c in charts], per_q), encoding="utf-8")
    return [*files, md, *charts]
