"""Statute outlines (assistant.generate.statute_outline) and the report polish pass (summary_polish)."""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError
from assistant.generate.statute_outline import (
    compact_items,
    outline_statute,
    parse_scope,
    sentences_of,
    strip_notes,
)
from assistant.generate.summary_polish import drop_repeated_facts, normalise_endings, table_row
from assistant.types import Chunk


def _chunk(n: int, article: str, section: str, text: str) -> Chunk:
    return Chunk(doc_id="law", ordinal=n, text=text, title="시험법", section=section, location=article,
                 page=None, article=article)


LAW = [
    _chunk(0, "제1조", "제1장 총칙", "제1조(목적) 이 법은 민원 처리의 기본 사항을 규정함을 목적으로 한다."),
    _chunk(1, "제2조", "제1장 총칙", '제2조(정의) 이 법에서 사용하는 용어의 뜻은 다음과 같다.\n1.\n'
           '"민원"이란 요구를 말한다.\n'
           '2.\n"민원인"이란 신청인을 말한다.'),
    _chunk(2, "제3조", "제2장 처리 > 제1절 기간 <개정 2012.10.22>",
           "제3조(처리기간) ① 처리기간은 대통령령으로 정한다.\n② 행정청은 민원을 14일 이내에 처리하여야 한다. "
           "<개정 2019.12.10>"),
    _chunk(3, "제4조", "제2장 처리 > 제1절 기간 <개정 2012.10.22>", "제4조 삭제 <2012.10.22>"),
    _chunk(4, "제5조", "제2장 처리 > 제2절 거부", "제5조(거부) 행정청은 다음 각 호의 경우 접수를 거부할 수 있다.\n1.\n"
           "반복 민원\n2.\n허위 민원"),
    _chunk(5, "제6조", "제3장 보칙", "제6조(위탁) 장관은 권한을 위탁할 수 있다. [본조신설 2014.1.28]"),
    _chunk(6, None, "부칙", "제1조(시행일) 이 법은 공포한 날부터 시행한다."),
]


def _finish(text: str) -> str:
    return text.rstrip(". ")


def test_outline_has_structure_rules_and_no_notes() -> None:
    lines = outline_statute(LAW, 30, finish=_finish)
    text = "\n".join(lines)
    assert lines[0] == "□ 제1장 총칙"
    assert "□ 제2장 처리 — 기간 · 거부" in text
    assert text.count("제2장") == 1  # no repeated headings
    assert "14일 이내에 처리하여야 한다" in text  # the rule, not the delegation sentence of ①
    assert "정의 용어: 민원, 민원인" in text
    assert "1. 반복 민원 / 2. 허위 민원" in text
    for noise in ("<개정", "[본조신설", "삭제", "시행일", "부칙"):
        assert noise not in text


def test_scope_limits_to_chapter_and_range() -> None:
    text = "\n".join(outline_statute(LAW, 30, scope="제2장", finish=_finish))
    assert "제3조" in text and "제1조" not in text and "제6조" not in text
    text = "\n".join(outline_statute(LAW, 30, scope="제5조~제6조", finish=_finish))
    assert "제5조" in text and "제6조" in text and "제3조" not in text
    with pytest.raises(AssistantError):
        outline_statute(LAW, 30, scope="제9장", finish=_finish)
    with pytest.raises(AssistantError):
        parse_scope("아무거나")


def test_few_lines_list_the_chapters_first() -> None:
    lines = outline_statute(LAW, 3, finish=_finish)
    assert lines[0].startswith("□ 구성: 총칙 · 처리 · 보칙") and len(lines) == 3


def test_helpers() -> None:
    assert strip_notes("제1절 통칙 <개정 2012.10.22>") == "제1절 통칙"
    assert strip_notes("총칙 ‹개정 2012.10.22") == "총칙"
    assert sentences_of("A(B를 포함한다. 이하 같다)를 말한다. C를 한다.") == [
        "A(B를 포함한다. 이하 같다)를 말한다.", "C를 한다."]
    assert compact_items(["가" * 80]) == " 등 1개 호"
    assert table_row("| 구분 | 2023 | 2024 |") == "구분: 2023, 2024"


def test_repeated_figures_are_dropped_once() -> None:
    lines = ["□ 총수입 97.2조원, 총지출 127.1조원", " ○ 국세수입은 58.0조원",
             " ○ 2월말 총수입은 97.2조원, 총지출은 127.1조원임"]
    kept, dropped = drop_repeated_facts(lines)
    assert dropped == 1 and kept == lines[:2]


def test_endings_are_normalised_without_touching_numbers() -> None:
    assert normalise_endings("총수입은 97.2조원이다.", compress=lambda s: s[:-3] + "임") == "총수입은 97.2조원임"
    assert normalise_endings("증가함", compress=lambda s: "x") == "증가함"
