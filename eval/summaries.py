"""Summary evaluation over ``eval/gold/summaries.jsonl``, through the real ``assistant.tasks.summarize``.

Each gold case names a corpus file, a length, optionally a ``scope`` ("제4장", "제21조~제24조"), the
``facts`` a good summary must contain, the ``sections`` it must cover (each a list of alternatives: covered
when one of them appears) and ``forbidden`` strings (amendment notes, 부칙, articles outside the scope).

Per case and in total it reports:

- fact coverage and section coverage (share of gold facts / sections found; whitespace-insensitive);
- repeated facts (target 0): a figure with its unit on two lines that say the same thing (≥ 40 % shared
  character 3-grams), or two near-identical lines (≥ 70 %);
- invented numbers (target 0): numbers in the summary that do not occur in the source file;
- PII left (target 0): personal data :func:`assistant.tasks.pii.mask_pii` would still mask;
- machine noise (target 0): server paths, generator names, requested-line counts, source markers, parser residue;
- readability faults (target 0): table rows as pipes, "~한다." endings, particles split from their word
  ("총수입 은"), unbalanced brackets (a cut amendment note), forbidden strings.

``python -m eval.summaries`` runs only this part and prints the table (``--check`` verifies that every gold
fact occurs in its source; ``--show ID`` prints a summary). ``assistant eval`` runs it with the other tasks.
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
from eval.textmatch import normalise

GOLD = GOLD_DIR / "summaries.jsonl"

_FIGURE = re.compile(r"\d[\d,.]*\s?(?:%p|%|조원|조|억원|억|만원|만|천|원|명|개교|개소|개|건|배|곳|가구|회|대|종|톤"
                     r"|㎡|㎢|km|달러|일|개월|시간)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NOISE = re.compile(r"(?:/[\w.\-]+){2,}|\b(?:data|jobs|input|tmp)/|\b(?:extractive|transformers|openai|generator)\b"
                    r"|요청\s*\d+\s*줄|\[\d{1,3}\]|intentionally omitted|picture text|\*\*|\.(?:md|pdf|hwpx?|docx)\b",
                    re.I)
_SPLIT_PARTICLE = re.compile(r"(?<=[가-힣]) (?:은|는|을|를|로|으로|와|과|에서|이며|이다)(?=[\s,.)]|$)")
_DA_ENDING = re.compile(r"다\.(?:\s|$)|다$")
_PAIRS = ("()", "<>", "[]", "「」", "『』", "‹›", "〈〉")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _lines(text: str) -> list[str]:
    return [ln.strip().lstrip("□○-").strip() for ln in text.split("\n") if ln.strip()]


def _grams(text: str, n: int = 3) -> set[str]:
    t = normalise(text)
    return {t[i:i + n] for i in range(max(0, len(t) - n + 1))}


def _overlap(a: str, b: str) -> float:
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / max(1, min(len(ga), len(gb)))


def fact_coverage(text: str, facts: list[str]) -> float:
    if not facts:
        return float("nan")
    t = normalise(text)
    return sum(1 for f in facts if normalise(f) in t) / len(facts)


def section_coverage(text: str, sections: list[list[str] | str]) -> float:
    if not sections:
        return float("nan")
    t = normalise(text)
    alts = [[s] if isinstance(s, str) else s for s in sections]
    return sum(1 for alt in alts if any(normalise(a) in t for a in alt)) / len(alts)


_ARTICLE_HEAD = re.compile(r"^제\d+조(?:의\d+)?")


def repeated_facts(text: str) -> list[str]:
    """Facts stated twice: a figure on two lines that say the same thing, or two near-identical lines.

    Two lines that open with different articles are different rules even when they read alike: a statute's
    parallel articles (질의·건의·기타민원의 처리기간; 행정심판 and 행정소송 after the same 20 days) are what an
    outline must list, not a repetition.
    """
    lines = _lines(text)
    out: list[str] = []
    for i, a in enumerate(lines):
        figs_a = {f.replace(" ", "") for f in _FIGURE.findall(a)}
        head_a = _ARTICLE_HEAD.match(a)
        for b in lines[i + 1:]:
            head_b = _ARTICLE_HEAD.match(b)
            if head_a and head_b and head_a.group() != head_b.group():
                continue
            shared = figs_a & {f.replace(" ", "") for f in _FIGURE.findall(b)}
            sim = _overlap(a, b)
            if (shared and sim >= 0.4) or sim >= 0.7:
                out.append(", ".join(sorted(shared)) or a[:30])
    return out


def invented_numbers(text: str, source: str) -> list[str]:
    src = unicodedata.normalize("NFC", source)
    return sorted({n for n in _NUMBER.findall(unicodedata.normalize("NFC", text)) if n not in src})


def pii_left(text: str) -> int:
    from assistant.tasks.pii import mask_pii

    return len(mask_pii(text).found)


def readability_faults(text: str, forbidden: Iterable[str] = ()) -> dict[str, list[str]]:
    lines = _lines(text)
    unbalanced = [ln for ln in lines if any(ln.count(pair[0]) != ln.count(pair[1]) for pair in _PAIRS)]
    t = normalise(text)
    return {"pipes": [ln[:40] for ln in lines if "|" in ln],
            "da_endings": [m.group(0) for ln in lines for m in _DA_ENDING.finditer(ln)],
            "split_particles": [m.group(0) for ln in lines for m in _SPLIT_PARTICLE.finditer(ln)],
            "unbalanced": [ln[:40] for ln in unbalanced],
            "forbidden": [f for f in forbidden if normalise(f) in t],
            "noise": [m.group(0) for m in _NOISE.finditer(text)]}


def score_case(case: dict[str, Any], text: str, source_text: str) -> dict[str, Any]:
    faults = readability_faults(text, case.get("forbidden", []))
    return {"fact_coverage": fact_coverage(text, case.get("facts", [])),
            "section_coverage": section_coverage(text, case.get("sections", [])),
            "repeated_facts": repeated_facts(text), "invented_numbers": invented_numbers(text, source_text),
            "pii_left": pii_left(text), **faults}


def _mean(values: Iterable[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else float("nan")


_COUNTED = ("repeated_facts", "invented_numbers", "noise", "pipes", "da_endings", "split_particles", "unbalanced",
            "forbidden")


def aggregate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": len(cases),
                           "fact_coverage": _mean(c["fact_coverage"] for c in cases),
                           "section_coverage": _mean(c["section_coverage"] for c in cases),
                           "pii_left": sum(c["pii_left"] for c in cases),
                           "length_ok": sum(1 for c in cases if c["length_ok"])}
    for key in _COUNTED:
        out[key] = sum(len(c[key]) for c in cases)
    return out


def run_summaries(settings: Any, corpus: Path, log: Callable[[str], None], only: Iterable[str] = ()) -> dict[str, Any]:
    try:
        from assistant.tasks.summarize import parse_length, summarize_document
    except ImportError:
        return {"note": "assistant.tasks.summarize를 가져올 수 없어 요약 평가를 건너뜀", "cases": []}
    wanted = set(only)
    cases = []
    for case in _jsonl(GOLD):
        path = corpus / case["source"]
        if not path.is_file() or (wanted and case["id"] not in wanted):
            continue
        t0 = time.perf_counter()
        kwargs = {"scope": case["scope"]} if case.get("scope") else {}
        try:
            summary = summarize_document(path, settings=settings, length=case.get("length"), **kwargs)
        except TypeError:  # a summariser without ``scope``: the case is judged on the whole document
            summary = summarize_document(path, settings=settings, length=case.get("length"))
        limit = parse_length(case.get("length"), settings.summary_page_lines)
        row = {"id": case["id"], "kind": case.get("kind", ""), "source": case["source"], "lines": summary.lines,
               "max_lines": limit, "length_ok": summary.lines <= limit, "seconds": round(time.perf_counter() - t0, 2),
               **score_case(case, summary.text, path.read_text(encoding="utf-8")), "text": summary.text[:3000]}
        cases.append(row)
    log(f"  요약 평가: {len(cases)}건")
    return {"note": "", "cases": cases, "totals": aggregate(cases) if cases else {}}


def check_gold(corpus: Path) -> list[str]:
    """Gold facts that do not occur in their source (whitespace-insensitive)."""
    problems = []
    for case in _jsonl(GOLD):
        path = corpus / case["source"]
        if not path.is_file():
            problems.append(f"{case['id']}: {case['source']} 없음")
            continue
        src = normalise(path.read_text(encoding="utf-8"))
        problems += [f"{case['id']}: 사실 '{f}'이(가) 원문에 없음" for f in case.get("facts", [])
                     if normalise(f) not in src]
    return problems


def render(result: dict[str, Any]) -> str:
    rows = ["| id | 종류 | 줄 | 사실 | 절 | 반복 | 지어낸 수 | 개인정보 | 잡음 | 표(|) | ~다 | 띄어쓰기 "
            "| 괄호 | 금지어 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def pct(v: float) -> str:
        return "–" if math.isnan(v) else f"{v:.0%}"

    for c in result["cases"]:
        rows.append(f"| {c['id']} | {c['kind']} | {c['lines']}/{c['max_lines']} | {pct(c['fact_coverage'])} | "
                    f"{pct(c['section_coverage'])} | " + " | ".join(str(len(c[k])) if k != "pii_left" else str(c[k])
                    for k in ("repeated_facts", "invented_numbers", "pii_left", "noise", "pipes", "da_endings",
                              "split_particles", "unbalanced", "forbidden")) + " |")
    t = result.get("totals", {})
    if t:
        rows.append(f"\n합계 {t['cases']}건: 핵심 사실 {pct(t['fact_coverage'])}, "
                    f"절 포함 {pct(t['section_coverage'])}, "
                    f"반복 사실 {t['repeated_facts']}, 지어낸 수 {t['invented_numbers']}, 개인정보 {t['pii_left']}, "
                    f"기계 잡음 {t['noise']}, 표 파이프 {t['pipes']}, '~다' 종결 {t['da_endings']}, "
                    f"띄어쓰기 흔적 {t['split_particles']}, 괄호 불균형 {t['unbalanced']}, 금지어 {t['forbidden']}, "
                    f"분량 준수 {t['length_ok']}/{t['cases']}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from eval.drafting import gold_cli

    return gold_cli(
        argv, description="요약 골드셋 평가 (eval/gold/summaries.jsonl)",
        in_source="원문", show="요약문",
        check=check_gold, run=run_summaries, render=render,
        heading=lambda c: f"{c['id']} ({c['source']})")


if __name__ == "__main__":
    sys.exit(main())
