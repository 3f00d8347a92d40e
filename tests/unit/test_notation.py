"""Official notation (「행정업무의 운영 및 혁신에 관한 규정」·시행규칙): one test per rule, formatter and checker."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from assistant.output import document_from_text
from assistant.output.notation import (
    amount_in_words,
    apply_notation,
    attachment_line,
    check_amounts,
    check_attachment_label,
    check_dates,
    check_end_mark,
    check_item_marks,
    check_notation,
    end_mark,
    format_amount,
    format_date,
    format_datetime,
    format_time,
    item_mark,
    normalize_dates,
    parse_mark,
)

# ------------------------------------------------------------------ item marks

def test_item_marks_follow_the_official_order_of_levels():
    assert [item_mark(level, 1) for level in range(1, 9)] == ["1.", "가.", "1)", "가)", "(1)", "(가)", "①", "㉮"]
    assert [item_mark(2, i) for i in (1, 2, 3, 14, 15, 16)] == ["가.", "나.", "다.", "하.", "거.", "너."]
    assert item_mark(7, 12) == "⑫" and item_mark(8, 3) == "㉰" and item_mark(5, 10) == "(10)"


def test_item_mark_rejects_impossible_levels_and_indexes():
    for level, index in ((0, 1), (9, 1), (1, 0), (2, 29), (8, 15)):
        with pytest.raises(ValueError):
            item_mark(level, index)


def test_parse_mark_reads_every_level():
    for level in range(1, 9):
        for index in (1, 2, 5):
            assert parse_mark(f"  {item_mark(level, index)} 내용") == (level, index)
    assert parse_mark("□ 개요") is None and parse_mark("- 항목") is None and parse_mark("2026. 12. 5.") is None


def test_a_well_ordered_outline_has_no_violation():
    text = "\n".join(["1. 개요", "  가. 목적", "    1) 배경", "      가) 세부", "        (1) 예", "          (가) 예",
                      "            ① 하나", "              ㉮ 둘", "              ㉯ 셋", "            ② 넷",
                      "  나. 범위", "2. 현황", "  가. 처음"])
    assert check_item_marks(text) == []


def test_a_skipped_level_and_a_broken_sequence_are_found():
    found = check_item_marks("1. 개요\n  가. 목적\n  다. 범위\n3. 현황\n  1) 세부")
    assert [(v.line, v.rule) for v in found] == [(3, "item_mark"), (4, "item_mark"), (5, "item_mark")]
    assert "'나.'" in found[0].message and "'2.'" in found[1].message and "'가.'" in found[2].message
    assert check_item_marks("가. 처음부터 둘째 수준") and check_item_marks("1. 하나\n1. 또 하나")


# ------------------------------------------------------------------ dates and times

def test_dates_and_times_are_written_officially():
    assert format_date(date(2026, 12, 5)) == "2026. 12. 5."
    assert format_date(date(2027, 1, 10)) == "2027. 1. 10."
    assert format_time(time(14, 30)) == "14:30" and format_time(time(9, 5)) == "09:05"
    assert format_datetime(datetime(2026, 12, 5, 14, 30)) == "2026. 12. 5. 14:30"


def test_other_date_forms_are_found_and_rewritten():
    text = "접수 2026-12-05, 기한 2026.12.09, 회신 2026년 12월 15일, 처리 2026. 01. 05."
    found = check_dates(text)
    assert [v.text for v in found] == ["2026-12-05", "2026.12.09", "2026년 12월 15일", "2026. 01. 05."]
    fixed = normalize_dates(text)
    assert "2026. 12. 5." in fixed and "2026. 12. 9." in fixed and "2026. 12. 15." in fixed
    assert check_dates("2026. 12. 5. 14:30까지") == []


def test_quoted_source_text_keeps_its_dates():
    quoted = "법 부칙은 \"이 법은 2022년 7월 12일부터 시행한다\"고 규정하고 있습니다."
    assert check_dates(quoted) == [] and normalize_dates(quoted) == quoted


def test_times_with_hours_and_minutes_in_words_are_found():
    found = check_dates("오후 2시 30분까지 방문")
    assert found and found[0].rule == "time" and "14:30" in found[0].message


def test_an_impossible_date_is_not_a_date():
    assert check_dates("번호 2026-13-45") == [] and normalize_dates("2026-13-45") == "2026-13-45"


# ------------------------------------------------------------------ amounts

def test_amounts_are_written_in_figures_and_words():
    assert format_amount(113560) == "금113,560원(금일십일만삼천오백육십원)"
    assert amount_in_words(10_000) == "일만" and amount_in_words(1_000_000_000) == "일십억"
    assert amount_in_words(205_000_030) == "이억오백만삼십" and amount_in_words(0) == "영"
    with pytest.raises(ValueError):
        amount_in_words(-1)


def test_a_wrong_or_ungrouped_amount_is_found():
    assert check_amounts("수수료 금113,560원(금일십일만삼천오백육십원)을 냅니다.") == []
    wrong = check_amounts("금113,560원(금일십일만삼천오백원)")
    assert wrong and "금일십일만삼천오백육십원" in wrong[0].message
    assert check_amounts("금액 12345원") and check_amounts("금액 12,345원") == []


# ------------------------------------------------------------------ 끝, 붙임

def test_the_body_ends_with_two_spaces_and_kkeut():
    assert end_mark("감사합니다.") == "감사합니다.  끝."
    assert end_mark("감사합니다. 끝.") == "감사합니다.  끝." and end_mark("감사합니다.  끝.\n") == "감사합니다.  끝."
    assert check_end_mark("감사합니다.  끝.") == []
    assert check_end_mark("감사합니다. 끝.")[0].message.startswith("본문 끝에서 2타")
    assert check_end_mark("감사합니다.")


def test_attachment_label_has_no_colon():
    assert check_attachment_label("붙임: 계획서 1부.") and check_attachment_label("첨부 : 사본")
    assert check_attachment_label("붙임  계획서 1부.  끝.") == []
    assert attachment_line(["계획서 1부."]) == ["붙임  계획서 1부."]
    assert attachment_line(["계획서 1부.", "명단 1부."]) == ["붙임  1. 계획서 1부.", "    2. 명단 1부."]


# ------------------------------------------------------------------ all rules, and the exporters

def test_check_notation_runs_every_rule_in_line_order():
    text = "1. 개요\n  나. 목적\n기한 2026-12-05\n붙임: 자료\n금액 5000원"
    rules = [v.rule for v in check_notation(text, require_end=True)]
    assert rules == ["item_mark", "date", "attachment", "amount", "end_mark"]
    assert apply_notation("기한 2026-12-05", end=True) == "기한 2026. 12. 5.  끝."


def test_official_export_documents_apply_the_notation():
    doc = document_from_text("민원 답변서(초안)", "1. 민원 요지\n  기한은 2026-12-05입니다.\n감사합니다.",
                             ["처리기한: 2026-12-09"], official=True)
    text = doc.plain_text()
    assert "2026. 12. 5." in text and "2026. 12. 9." in text and text.endswith("감사합니다.  끝.")
    plain = document_from_text("요약", "기한은 2026-12-05입니다.")  # summaries are left as they are
    assert "2026-12-05" in plain.plain_text() and not plain.plain_text().endswith("끝.")
