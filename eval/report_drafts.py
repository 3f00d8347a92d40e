"""보고서·보도자료 drafting evaluation over ``eval/gold/reports.jsonl``, through the real
``assistant.tasks.draft_report``.

Each gold case gives a topic, a kind (보고서 | 보도자료), the source documents (paths under the corpus root, or
``samples/…`` in the repository), the ``facts`` a good draft must contain and the ``sections`` it must have
(each a list of alternatives). Per case and in total:

- fact coverage and section coverage (whitespace-insensitive);
- repeated facts (target 0): a figure restated on another line in much the same words (eval.summaries); the
  "1)" items quoted from one statute list are parallel by nature and are not compared with each other;
- invented numbers (target 0): a number in a content line (item marks and [n] markers aside) that occurs in
  none of the source documents;
- untraceable lines (target 0): a content line (가./나., □, ○, a 부제, the 리드문) without a [n] marker that
  names an entry of the source list — fill-in lines (【…】) are the officer's, not a claim;
- notation violations (target 0): assistant.output.notation.check_notation (끝. required for a 보고서);
- PII left (target 0) and machine noise (server paths, generator names; target 0).

``python -m eval.report_drafts`` prints the table; ``--check`` verifies the gold facts occur in their sources;
``--show`` prints the drafts. ``assistant eval`` runs it next to summaries and replies.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from eval import GOLD_DIR
from eval.summaries import fact_coverage, pii_left, readability_faults, repeated_facts, section_coverage
from eval.textmatch import normalise

GOLD = GOLD_DIR / "reports.jsonl"
REPO = Path(__file__).resolve().parents[1]

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARK = re.compile(r"^\s*(?:\d{1,2}\.|[가-하]\.|\d{1,2}\)|[가-하]\)|\(\d{1,2}\)|\([가-하]\)|[□○]|-)\s")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
#: "1) …" lines quote the items of a statute's list ("30일 미만인 민원 / 30일 이상인 민원"): parallel by nature
_ENUM_ITEM = re.compile(r"^\s*\d{1,2}\)\s")
_HEADER = re.compile(r"^(?:기관|보도 일시|담당 부서·담당자):")
_NOISE = re.compile(r"(?:/[\w.\-]+){2,}|\b(?:data|jobs|input|tmp)/|\b(?:extractive|transformers|openai|generator)\b"
                    r"|요청\s*\d+\s*줄|\.(?:md|pdf|hwpx?|docx)\b", re.I)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def resolve(corpus: Path, rel: str) -> Path:
    return REPO / rel if rel.startswith("samples/") else corpus / rel


def split_draft(text: str) -> tuple[list[str], list[str]]:
    """(body lines, source-list lines): the list starts at the 붙임 line."""
    lines = text.split("\n")
    cut = next((i for i, ln in enumerate(lines) if ln.strip().startswith("붙임")), len(lines))
    return lines[:cut], lines[cut:]


def content_lines(text: str) -> list[str]:
    """Lines that state something from a source: every body line except level-1 headings ("2. 현황"), the
    보도자료 header, blanks and fill-in lines."""
    body, _ = split_draft(text)
    out = []
    for ln in body:
        s = ln.strip()
        if not s or _HEADER.match(s) or re.match(r"^\d{1,2}\.\s", s) or "【" in s:
            continue
        out.append(s)
    return out


def bare(line: str) -> str:
    """A content line without its item mark and source markers."""
    return _MARKER.sub("", _MARK.sub("", line, count=1)).strip().strip("-").strip()


def untraceable(text: str, n_sources: int) -> list[str]:
    out = []
    for ln in content_lines(text):
        cited = [int(n) for n in _MARKER.findall(ln)]
        if not cited or any(not 1 <= n <= n_sources for n in cited):
            out.append(ln[:50])
    return out


def invented_numbers(text: str, source_text: str) -> list[str]:
    src = unicodedata.normalize("NFC", source_text)
    return sorted({n for ln in content_lines(text) for n in _NUMBER.findall(bare(ln)) if n not in src})


def repeated(text: str) -> list[str]:
    """Facts stated twice among the content lines (the "1)" items of one statute list aside)."""
    return repeated_facts("\n".join(bare(ln) for ln in content_lines(text) if not _ENUM_ITEM.match(ln)))


def notation_violations(text: str, kind: str) -> list[str]:
    from assistant.output.notation import check_notation

    return [f"{v.rule}: {v.text}" for v in check_notation(text, require_end=kind == "보고서")]


def score_case(case: dict[str, Any], draft: Any, source_text: str) -> dict[str, Any]:
    text = draft.text
    facts_text = "\n".join(bare(ln) for ln in text.split("\n"))
    return {"fact_coverage": fact_coverage(facts_text, case.get("facts", [])),
            "section_coverage": section_coverage(text, case.get("sections", [])),
            "repeated_facts": repeated(text),
            "invented_numbers": invented_numbers(text, source_text),
            "untraceable": untraceable(text, len(draft.sources)),
            "notation": notation_violations(text, draft.kind),
            "pii_left": pii_left(text),
            "noise": [m.group(0) for m in _NOISE.finditer(text)],
            "readability": readability(text, draft.kind)}


def readability(text: str, kind: str) -> list[str]:
    """Table pipes, PDF spacing residue ("총수입 은"), unbalanced brackets and — in a 보고서, which is 개조식 —
    "~다." endings (a 보도자료 is written in sentences, so its endings are not counted)."""
    faults = readability_faults("\n".join(bare(ln) for ln in content_lines(text)))
    keys = ("pipes", "split_particles", "unbalanced") + (("da_endings",) if kind == "보고서" else ())
    return [f"{k}: {v}" for k in keys for v in faults[k]]


_COUNTED = ("repeated_facts", "invented_numbers", "untraceable", "notation", "noise", "readability")


def _mean(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def aggregate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": len(cases), "fact_coverage": _mean(c["fact_coverage"] for c in cases),
                           "section_coverage": _mean(c["section_coverage"] for c in cases),
                           "pii_left": sum(c["pii_left"] for c in cases),
                           "errors": sum(1 for c in cases if c.get("error"))}
    for key in _COUNTED:
        out[key] = sum(len(c[key]) for c in cases)
    return out


def run_report_drafts(settings: Any, corpus: Path, log: Callable[[str], None],
                      only: Iterable[str] = ()) -> dict[str, Any]:
    try:
        from assistant.tasks.draft_report import draft_report
    except ImportError:
        return {"note": "assistant.tasks.draft_report를 가져올 수 없어 보고서 초안 평가를 건너뜀", "cases": []}
    wanted = set(only)
    cases = []
    for case in _jsonl(GOLD):
        paths = [resolve(corpus, d) for d in case["docs"]]
        if (wanted and case["id"] not in wanted) or not all(p.is_file() for p in paths):
            continue
        t0 = time.perf_counter()
        draft = draft_report(case["topic"], settings=settings, docs=[str(p) for p in paths], kind=case["kind"])
        source_text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
        cases.append({"id": case["id"], "kind": case["kind"], "topic": case["topic"],
                      "lines": len(content_lines(draft.text)), "sources": len(draft.sources),
                      "seconds": round(time.perf_counter() - t0, 2), **score_case(case, draft, source_text),
                      "text": draft.text[:4000]})
    log(f"  보고서 초안 평가: {len(cases)}건")
    return {"note": "", "cases": cases, "totals": aggregate(cases) if cases else {}}


def check_gold(corpus: Path) -> list[str]:
    problems = []
    for case in _jsonl(GOLD):
        paths = [resolve(corpus, d) for d in case["docs"]]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            problems.append(f"{case['id']}: 출처 없음 {', '.join(missing)}")
            continue
        src = normalise("\n".join(p.read_text(encoding="utf-8") for p in paths))
        problems += [f"{case['id']}: 사실 '{f}'이(가) 출처에 없음" for f in case.get("facts", [])
                     if normalise(f) not in src]
    return problems


def render(result: dict[str, Any]) -> str:
    def pct(v: float) -> str:
        return "–" if math.isnan(v) else f"{v:.0%}"

    rows = ["| id | 종류 | 내용 줄 | 출처 | 사실 | 구성 | 반복 | 지어낸 수 | 출처 없는 줄 | 표기 위반 | 개인정보 "
            "| 잡음 | 읽기 흠 | 초 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in result["cases"]:
        rows.append(f"| {c['id']} | {c['kind']} | {c['lines']} | {c['sources']} | {pct(c['fact_coverage'])} | "
                    f"{pct(c['section_coverage'])} | " + " | ".join(str(len(c[k])) for k in _COUNTED[:4])
                    + f" | {c['pii_left']} | {len(c['noise'])} | {len(c['readability'])} | {c['seconds']} |")
    t = result.get("totals", {})
    if t:
        rows.append(f"\n합계 {t['cases']}건: 핵심 사실 {pct(t['fact_coverage'])}, 구성 {pct(t['section_coverage'])}, "
                    f"반복 사실 {t['repeated_facts']}, 지어낸 수 {t['invented_numbers']}, "
                    f"출처 없는 줄 {t['untraceable']}, 표기 위반 {t['notation']}, 개인정보 {t['pii_left']}, "
                    f"기계 잡음 {t['noise']}, 읽기 흠(표 파이프·띄어쓰기 흔적·괄호·'~다') {t['readability']}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from eval.drafting import gold_cli

    return gold_cli(
        argv, description="보고서 초안 골드셋 평가 (eval/gold/reports.jsonl)",
        in_source="출처", show="초안",
        check=check_gold, run=run_report_drafts, render=render,
        heading=lambda c: f"{c['id']} — {c['topic']}")


if __name__ == "__main__":
    sys.exit(main())


def report_targets(cases: list[dict[str, Any]], target: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """The drafting rows of ``assistant eval``'s target table (``target`` is eval.report's row builder)."""
    note = "" if cases else "보고서 초안 평가 없음"
    t = aggregate(cases) if cases else {}

    def total(key: str) -> Any:
        return t.get(key) if cases else None

    return [target("report_fact_coverage", "보고서 초안의 핵심 사실 포함", total("fact_coverage"), 0.8, True, note),
            target("report_section_coverage", "보고서 초안의 구성(개요·현황·주요 내용·향후 계획 등)",
                   total("section_coverage"), 0.9, True, note),
            target("report_repeated_facts", "보고서 초안의 반복 사실 수", total("repeated_facts"), 0, False, note),
            target("report_invented_numbers", "보고서 초안의 지어낸 숫자 수", total("invented_numbers"), 0, False,
                   note),
            target("report_untraceable_lines", "보고서 초안의 출처 없는 줄 수", total("untraceable"), 0, False, note),
            target("report_notation_violations", "보고서 초안의 공문서 표기 위반 수", total("notation"), 0, False,
                   note),
            target("report_pii_left", "보고서 초안에 남은 개인정보 수", total("pii_left"), 0, False, note)]


def summary_line(totals: dict[str, Any]) -> str:
    """One line for the Markdown report."""
    t = totals
    return (f"- 보고서 초안 {t['cases']}건 합계: 핵심 사실 {t['fact_coverage']:.0%}, 구성 {t['section_coverage']:.0%}, "
            f"반복 사실 {t['repeated_facts']} (목표 0), 지어낸 숫자 {t['invented_numbers']} (0), "
            f"출처 없는 줄 {t['untraceable']} (0), 표기 위반 {t['notation']} (0), 개인정보 {t['pii_left']} (0)")
