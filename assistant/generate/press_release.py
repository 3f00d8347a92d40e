"""Assemble a 보도자료 draft from source sentences, without a model (the 보고서 counterpart is
assistant.generate.report_draft, whose candidate sentences, scoring, polishing and source list it shares).

Layout (보도자료 practice): 기관, 보도 일시, 담당 부서·담당자 (fill-ins when the officer gave none); up to two 부제
"- … -" taken from short source headings; a 리드문 (the sentence that best carries the topic); a body of □ items,
one per source section, each with up to two ○ details from the same section. Sentences keep their "~다." endings
(a press release is written in sentences) and carry their ``[n]`` source marker; one fact is stated once.
"""

from __future__ import annotations

import re

from assistant.generate.extractive_summary import is_junk
from assistant.generate.report_draft import (
    MAIN,
    Line,
    Sources,
    Unit,
    heading_of,
    place_of,
    polish,
    topic_title,
)
from assistant.generate.summary_polish import drop_repeated_facts, respace
from assistant.korean.injection import addresses_assistant


def plan_press(topic: str, units: list[Unit], groups: int = 4, per_group: int = 2) -> tuple[Unit | None, list[Line]]:
    """The lead sentence and the □ groups of a press release: sentences grouped by their source section,
    groups ranked by their best sentence, each □ with up to ``per_group`` ○ details from the same section."""
    ranked = sorted(units, key=lambda u: -u.score)
    if not ranked:
        return None, []
    lead = ranked[0]
    by_section: dict[tuple[int, str], list[Unit]] = {}
    for u in ranked[1:]:
        by_section.setdefault((u.doc, u.chunk.section or place_of(u.chunk)), []).append(u)
    order = sorted(by_section.values(), key=lambda us: -us[0].score)[:groups]
    lines = []
    for us in order:
        head, details = us[0], sorted(us[1:1 + per_group], key=lambda u: u.order)
        lines.append(Line(MAIN, head.text, head, details))
    return lead, sorted(lines, key=lambda ln: ln.unit.order if ln.unit else 0)


def subtitles(lines: list[Line], limit: int = 2, max_chars: int = 45) -> list[Unit]:
    """Up to two 부제: the short source headings of the top groups ("’24.2월말 기준 총수입 97.2조원 …")."""
    out: list[Unit] = []
    seen: set[str] = set()
    for line in sorted(lines, key=lambda ln: -(ln.unit.score if ln.unit else 0)):
        if line.unit is None:
            continue
        head = respace(heading_of(line.unit.chunk))
        if re.match(r"^(?:참\s?고|붙\s?임|별\s?첨)", head):
            continue
        if 8 <= len(head) <= max_chars and head not in seen and not is_junk(head) and not addresses_assistant(head):
            seen.add(head)
            out.append(Unit(head, line.unit.doc, line.unit.chunk, line.unit.order, MAIN, line.unit.score))
        if len(out) >= limit:
            break
    return out


def render_press(topic: str, units: list[Unit], sources: Sources, *, agency: str, released: str,
                 contact: str) -> tuple[str, list[str]]:
    """(title, lines) of a 보도자료: header, 부제 "- … -", 리드문, □ ○ body, 붙임 출처 목록."""
    lead, lines = plan_press(topic, units)
    placed = [polish(lead.text, False)] if lead is not None else []
    subs = [u for u in subtitles(lines) if _fresh(polish(u.text, False), placed)]
    out = [f"기관: {agency}", f"보도 일시: {released}", f"담당 부서·담당자: {contact}", ""]
    out += [f"- {polish(s.text, False)} - [{sources.marker(s)}]" for s in subs]
    if lead is None:
        out.append("【리드문 — 출처 문서에서 이 주제의 내용을 찾지 못함, 담당자 작성】")
    else:
        out += ["", f"{polish(lead.text, False)} [{sources.marker(lead)}]"]
    body: list[str] = []
    for line in lines:
        group = [u for u in ([line.unit] if line.unit else []) + line.sub if _fresh(polish(u.text, False), placed)]
        if not group:
            continue   # every sentence of the group restates an earlier fact: one fact once
        body.append(f"□ {polish(group[0].text, False)} [{sources.marker(group[0])}]")
        body += [f"  ○ {polish(u.text, False)} [{sources.marker(u)}]" for u in group[1:]]
    out += [""] + body + ["", "붙임  출처 목록 1부."] + [f"  {s}" for s in sources.lines()]
    return topic_title(topic), out


def _fresh(text: str, placed: list[str]) -> bool:
    """True (and remembered) when ``text`` states no fact of an already placed line."""
    kept, _ = drop_repeated_facts(placed + [text])
    if len(kept) == len(placed) + 1:
        placed.append(text)
        return True
    return False
