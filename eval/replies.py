"""민원 reply checks through the real ``assistant.tasks.draft_reply`` (``eval/gold/replies.jsonl``).

Each gold complaint carries planted personal data, its expected 민원 type and the documents allowed to be
cited (``allowed_sources``, file-name fragments; empty when the corpus cannot answer it, ``covered: false``).
Per case: PII left (planted strings in the draft, target 0), required sections, unsupported articles,
unrelated citations (cited passages from a document not allowed — target 0), official-notation violations
(:mod:`assistant.output.notation`, target 0), whether the 처리기한 date is stated, and whether an
unanswerable complaint is flagged for the officer (the 【근거 법령】 fill-in).

The index is the five statutes plus a few welfare guides as distractors (``reply_corpus_spec``): the
guides share everyday words with complaints (발급, 신청, 카드) and answer none of the gold cases but one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval import GOLD_DIR
from eval.answers import unsupported_law_citations
from eval.drafting import _jsonl, fact_coverage, pii_leaks
from eval.textmatch import normalise


def unrelated_citations(citations: list[dict[str, Any]], allowed: list[str]) -> list[str]:
    """Cited passages whose document is none of the case's ``allowed_sources`` (an empty list means the
    corpus cannot answer the complaint, so every citation is unrelated)."""
    out = []
    for c in citations:
        name = normalise(Path(str(c.get("source", ""))).name + " " + str(c.get("title", "")))
        if not any(normalise(a) in name for a in allowed):
            out.append(f"{c.get('title', '')} {c.get('article') or c.get('location') or ''}".strip())
    return out


def deadline_stated(reply: str, deadline: dict[str, Any]) -> bool:
    """The draft names the 처리기한 date in official notation ("2026. 12. 5.")."""
    from datetime import date

    from assistant.output.notation import format_date

    return format_date(date.fromisoformat(deadline["due"])) in reply


def run_replies(settings: Any, retriever: Any, log: Callable[[str], None]) -> dict[str, Any]:
    try:
        from assistant.tasks.draft_reply import draft_reply
    except ImportError:
        return {"note": "assistant.tasks.draft_reply를 가져올 수 없어 민원 답변 평가를 건너뜀", "cases": []}
    from assistant.output.notation import check_notation

    cases = []
    for case in _jsonl(GOLD_DIR / "replies.jsonl"):
        draft = draft_reply(case["complaint"], settings=settings, retriever=retriever,
                            received=case.get("received", "2026-12-01T10:00"))
        reply = draft.reply
        given = [p.text for p in draft.retrieved]
        sections = case.get("required_sections", [])
        covered = case.get("covered", True)
        cases.append({
            "id": case["id"], "pii_leaks": pii_leaks(reply, case.get("pii", [])),
            "sections_present": sum(1 for s in sections if s in reply) / len(sections) if sections else float("nan"),
            "unsupported_articles": unsupported_law_citations(reply, given),
            "unrelated_citations": unrelated_citations(draft.citations, case.get("allowed_sources", [])),
            "notation_violations": [v.to_json() for v in check_notation(reply, require_end=True)],
            "deadline_stated": deadline_stated(reply, draft.deadline),
            "covered": covered, "says_uncovered": "【근거 법령】" in reply,
            "type_expected": case.get("type", ""), "fact_coverage": fact_coverage(reply, case.get("facts", [])),
            "complaint_type": draft.complaint_type, "text": reply[:2500]})
    log(f"  민원 답변 평가: {len(cases)}건")
    return {"note": "", "cases": cases, "summary": reply_summary(cases)}


def reply_summary(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the reply cases (the figures ``assistant eval`` prints)."""
    if not cases:
        return {}
    uncovered = [c for c in cases if not c["covered"]]
    return {
        "cases": len(cases),
        "unrelated_citations": sum(len(c["unrelated_citations"]) for c in cases),
        "notation_violations": sum(len(c["notation_violations"]) for c in cases),
        "pii_left": sum(len(c["pii_leaks"]) for c in cases),
        "deadline_stated": sum(c["deadline_stated"] for c in cases) / len(cases),
        "uncovered_flagged": (sum(c["says_uncovered"] for c in uncovered) / len(uncovered)) if uncovered else None,
        "type_correct": sum(c["complaint_type"] == c["type_expected"] for c in cases) / len(cases),
    }


# Welfare guides that share everyday words with 민원 (발급, 신청, 카드, 주차 …) but answer none of the gold
# complaints: a reply that quotes one of them has cited an unrelated document.
REPLY_DISTRACTORS = (
    "welfare-services-2023/docs/03_임신•보육_지원/03_첫만남이용권(국민행복카드).md",
    "welfare-services-2023/docs/03_임신•보육_지원/03_아동수당.md",
    "welfare-services-2023/docs/01_생계_지원/01_에너지바우처.md",
    "welfare-services-2023/docs/01_생계_지원/01_긴급_주거지원.md",
    "welfare-services-2023/docs/10_기타_위기별·상황별_지원/10_긴급복지_지원제도.md",
)


def reply_corpus_spec(corpus: Path, derived: Path) -> Any:
    """The five statutes plus a few welfare guides as distractors (what a department index looks like)."""
    from eval.corpora import CorpusSpec, _nfc, corpus_spec

    laws = corpus_spec("statutes", corpus, derived)
    spec = CorpusSpec("replies", dict(laws.files))
    for rel in REPLY_DISTRACTORS:
        path = corpus / rel
        if not path.is_file():  # the folder names use NFD on some copies
            found = [p for p in (corpus / rel).parent.glob("*.md") if _nfc(p.name) == _nfc(Path(rel).name)] \
                if (corpus / rel).parent.is_dir() else []
            path = found[0] if found else path
        if path.is_file():
            spec.files[_nfc(rel)] = path
    return spec


def summary_line(summary: dict[str, Any]) -> str:
    """One Markdown line with the reply totals."""
    flagged = summary.get("uncovered_flagged")
    return (f"- 민원 답변 {summary['cases']}건 합계: 무관한 인용 {summary['unrelated_citations']}건, 공문서 표기 위반 "
            f"{summary['notation_violations']}건, 개인정보 잔존 {summary['pii_left']}건, 처리기한 명시 "
            f"{summary['deadline_stated']:.0%}, 근거 없는 민원 표시 "
            f"{'–' if flagged is None else format(flagged, '.0%')}, 유형 일치 {summary['type_correct']:.0%}")


def reply_targets(replies: list[dict[str, Any]], target: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """The reply rows of ``assistant eval``'s target table (``target`` is eval.report's row builder)."""
    with_new = [c for c in replies if "unrelated_citations" in c]
    note = "" if with_new else "답변 초안 평가 없음"
    unrelated = sum(len(c["unrelated_citations"]) for c in with_new) if with_new else None
    notation = sum(len(c["notation_violations"]) for c in with_new) if with_new else None
    stated = sum(c["deadline_stated"] for c in with_new) / len(with_new) if with_new else None
    return [target("reply_unrelated_citations", "민원 답변 초안의 무관한 인용 수", unrelated, 0, False, note),
            target("reply_notation_violations", "민원 답변 초안의 공문서 표기 위반 수", notation, 0, False, note),
            target("reply_deadline_stated", "민원 답변 초안에 처리기한 명시", stated, 1.0, True, note)]
