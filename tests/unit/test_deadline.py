"""처리기간 만료일 (법 제19조, 시행령 제19조). Expected dates were worked out by hand from a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from assistant.tasks.deadline import (
    Deadline,
    HolidayCalendar,
    compute_deadline,
    compute_immediate_deadline,
)


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return HolidayCalendar()


# --- the calendar (holidays package, KR) ------------------------------------------------------------------------

def test_seollal_2025_and_the_temporary_holiday_before_it(cal):
    for d in (date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30)):
        assert "설날" in cal.holiday_name(d)
    assert cal.holiday_name(date(2025, 1, 27)) == "임시공휴일"  # declared for 2025, already in the package
    assert cal.is_working_day(date(2025, 1, 31))


def test_chuseok_2025_with_its_substitute_holiday(cal):
    for d in (date(2025, 10, 5), date(2025, 10, 6), date(2025, 10, 7)):
        assert "추석" in cal.holiday_name(d)
    assert cal.holiday_name(date(2025, 10, 8)) == "추석 대체 휴일"  # 10/5 fell on a Sunday
    assert cal.holiday_name(date(2025, 10, 9)) == "한글날"


def test_weekends_are_not_working_days_but_only_sunday_is_a_public_holiday(cal):
    saturday, sunday = date(2025, 3, 15), date(2025, 3, 16)
    assert not cal.is_working_day(saturday) and not cal.is_working_day(sunday)
    assert not cal.is_public_holiday(saturday)
    assert cal.holiday_name(sunday) == "일요일"
    assert cal.is_working_day(date(2025, 3, 14))


def test_extra_dates_become_holidays():
    extra = HolidayCalendar(extra=[date(2026, 10, 2)])
    assert not extra.is_working_day(date(2026, 10, 2))
    assert extra.holiday_name(date(2026, 10, 2)) == "임시공휴일(추가 지정)"
    assert HolidayCalendar().is_working_day(date(2026, 10, 2))


def test_years_outside_the_package_tables_are_refused(cal):
    with pytest.raises(ValueError, match="2101년의 공휴일은 계산할 수 없습니다"):
        cal.is_working_day(date(2101, 1, 3))


# --- 6일 이상: "일" 단위, 첫날 산입, 토요일·공휴일 불산입 (법 제19조제2항) ------------------------------------------

def test_first_day_counts_and_weekend_is_skipped(cal):
    # Thu 3/13 (1) Fri 3/14 (2) [Sat, Sun] Mon 3/17 (3) … Fri 3/21 (7)
    d = compute_deadline(date(2025, 3, 13), 7, holidays=cal)
    assert isinstance(d, Deadline)
    assert d.due == date(2025, 3, 21)
    assert d.excluded == [date(2025, 3, 15), date(2025, 3, 16)]
    assert d.days == 7 and d.unit == "working_days" and d.due_at is None
    assert "제19조제2항" in d.basis and "첫날 산입" in d.basis


def test_across_seollal_2025(cal):
    # Fri 1/24 (1) [25 Sat, 26 Sun, 27 임시공휴일, 28–30 설날] Fri 1/31 (2) Mon 2/3 (3) … Fri 2/7 (7)
    d = compute_deadline(date(2025, 1, 24), 7, holidays=cal)
    assert d.due == date(2025, 2, 7)
    assert d.excluded == [date(2025, 1, 25), date(2025, 1, 26), date(2025, 1, 27), date(2025, 1, 28),
                          date(2025, 1, 29), date(2025, 1, 30), date(2025, 2, 1), date(2025, 2, 2)]


def test_across_chuseok_2025(cal):
    # Wed 10/1 (1) Thu 10/2 (2) [3 개천절, 4–5, 6–7 추석, 8 대체공휴일, 9 한글날] Fri 10/10 (3)
    # Mon 10/13–Fri 10/17 (4–8) Mon 10/20–Fri 10/24 (9–13) Mon 10/27 (14)
    d = compute_deadline(date(2025, 10, 1), 14, holidays=cal)
    assert d.due == date(2025, 10, 27)
    assert date(2025, 10, 8) in d.excluded
    assert d.excluded[:7] == [date(2025, 10, 3) + timedelta(days=i) for i in range(7)]


def test_receipt_on_a_saturday_starts_on_monday(cal):
    # [Sat 3/8, Sun 3/9] Mon 3/10 (1) … Fri 3/14 (5) [15, 16] Mon 3/17 (6) Tue 3/18 (7)
    d = compute_deadline(date(2025, 3, 8), 7, holidays=cal)
    assert d.due == date(2025, 3, 18)
    assert d.excluded == [date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 15), date(2025, 3, 16)]


def test_receipt_on_a_holiday_weekend_with_substitute_day(cal):
    # [Sat 3/1 삼일절, Sun 3/2, Mon 3/3 대체공휴일] Tue 3/4 (1) … Fri 3/7 (4) Mon 3/10 (5) Tue 3/11 (6)
    assert compute_deadline(date(2025, 3, 1), 6, holidays=cal).due == date(2025, 3, 11)


def test_time_of_day_does_not_matter_for_day_counted_periods(cal):
    late = compute_deadline(datetime(2025, 3, 13, 17, 55), 7, holidays=cal)
    assert late.due == date(2025, 3, 21)


def test_2026_chuseok_and_national_foundation_day_substitute(cal):
    # Mon 9/21 (1) 22 (2) 23 (3) [24–25 추석, 26 Sat 추석, 27 Sun] 28 (4) 29 (5) 30 (6) 10/1 (7) Fri 10/2 (8)
    # [3 Sat 개천절, 4 Sun, Mon 10/5 개천절 대체공휴일] Tue 10/6 (9) Wed 10/7 (10)
    d = compute_deadline(date(2026, 9, 21), 10, holidays=cal)
    assert d.due == date(2026, 10, 7)
    assert date(2026, 10, 5) in d.excluded


def test_2026_seollal(cal):
    # Fri 2/13 (1) [14, 15, 16–18 설날] Thu 2/19 (2) Fri 2/20 (3) Mon 2/23 (4) Tue 2/24 (5) Wed 2/25 (6)
    assert compute_deadline(date(2026, 2, 13), 6, holidays=cal).due == date(2026, 2, 25)


def test_explicit_temporary_holiday_moves_the_deadline():
    # as the 2026 case above, but Fri 10/2 declared 임시공휴일: … 10/1 (7) [10/2–10/5] 10/6 (8) 10/7 (9) 10/8 (10)
    d = compute_deadline(date(2026, 9, 21), 10, holidays=HolidayCalendar(extra=[date(2026, 10, 2)]))
    assert d.due == date(2026, 10, 8)
    assert date(2026, 10, 2) in d.excluded


def test_default_calendar_is_used_when_none_is_given():
    assert compute_deadline(date(2025, 1, 24), 7).due == date(2025, 2, 7)


# --- 5일 이하: 접수시각부터 "시간" 단위, 1일 = 8근무시간 (법 제19조제1항) -----------------------------------------

def test_one_day_from_friday_afternoon_ends_monday_same_time(cal):
    # Fri 14–18 = 4h, [Sat, Sun], Mon 9–12 = 3h, 13–14 = 1h → Mon 3/10 14:00
    d = compute_deadline(datetime(2025, 3, 7, 14, 0), 1, holidays=cal)
    assert d.due_at == datetime(2025, 3, 10, 14, 0)
    assert d.due == date(2025, 3, 10)
    assert d.excluded == [date(2025, 3, 8), date(2025, 3, 9)]
    assert "제19조제1항" in d.basis


def test_lunch_hour_is_not_working_time(cal):
    # Mon 11–12 = 1h, 13–18 = 5h, Tue 9–11 = 2h → Tue 3/11 11:00
    assert compute_deadline(datetime(2025, 3, 10, 11, 0), 1, holidays=cal).due_at == datetime(2025, 3, 11, 11, 0)


def test_three_days_in_hours_across_chuseok_2025(cal):
    # Thu 10/2 16–18 = 2h, [10/3–10/9], Fri 10/10 8h (10), Mon 10/13 8h (18), Tue 10/14 9–12 (21) 13–16 (24)
    d = compute_deadline(datetime(2025, 10, 2, 16, 0), 3, holidays=cal)
    assert d.due_at == datetime(2025, 10, 14, 16, 0)
    assert d.excluded == [date(2025, 10, 3) + timedelta(days=i) for i in range(7)] + [
        date(2025, 10, 11), date(2025, 10, 12)]


def test_received_after_hours_on_saturday_counts_from_monday_morning(cal):
    d = compute_deadline(datetime(2025, 3, 8, 15, 0), 1, holidays=cal)
    assert d.due_at == datetime(2025, 3, 10, 18, 0)


def test_received_in_the_evening_counts_from_the_next_morning(cal):
    # Mon 3/10 20:00 → Tue 9:00 start; 16h → Wed 3/12 18:00
    assert compute_deadline(datetime(2025, 3, 10, 20, 0), 2, holidays=cal).due_at == datetime(2025, 3, 12, 18, 0)


def test_date_without_time_is_read_as_opening_time(cal):
    # Thu 3/13 09:00 + 24h: Thu, Fri, Mon → Mon 3/17 18:00
    d = compute_deadline(date(2025, 3, 13), 3, holidays=cal)
    assert d.due_at == datetime(2025, 3, 17, 18, 0)
    assert d.due == date(2025, 3, 17)


def test_timezone_aware_receipt_is_read_in_kst(cal):
    kst = timezone(timedelta(hours=9))
    d = compute_deadline(datetime(2025, 3, 10, 2, 0, tzinfo=UTC), 1, holidays=cal)  # = 11:00 KST
    assert d.due_at == datetime(2025, 3, 11, 11, 0, tzinfo=kst)


# --- ‘즉시’ = 3근무시간 (시행령 제19조) ------------------------------------------------------------------------------

def test_immediate_is_three_working_hours(cal):
    # Fri 17–18 = 1h, [Sat, Sun], Mon 9–11 = 2h → Mon 3/10 11:00
    d = compute_immediate_deadline(datetime(2025, 3, 7, 17, 0), holidays=cal)
    assert d.due_at == datetime(2025, 3, 10, 11, 0)
    assert d.days == 0 and d.unit == "working_hours"
    assert "시행령」 제19조" in d.basis


# --- calendar days ---------------------------------------------------------------------------------------------

def test_calendar_days_count_the_first_day(cal):
    # Sat 3/8 … Fri 3/14 = 7 calendar days; 3/14 is a working day
    d = compute_deadline(date(2025, 3, 8), 7, unit="days", holidays=cal)
    assert d.due == date(2025, 3, 14)
    assert d.excluded == []


def test_calendar_days_ending_on_a_holiday_roll_forward(cal):
    # Tue 9/30 … Mon 10/6 (7th day) is 추석 → 10/7 추석, 10/8 대체, 10/9 한글날 → Fri 10/10 (민법 제161조)
    d = compute_deadline(date(2025, 9, 30), 7, unit="days", holidays=cal)
    assert d.due == date(2025, 10, 10)
    assert d.excluded == [date(2025, 10, 6), date(2025, 10, 7), date(2025, 10, 8), date(2025, 10, 9)]
    assert "민법」 제161조" in d.basis


# --- bad input -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("days", [0, -3])
def test_zero_or_negative_days_is_an_error(days):
    with pytest.raises(ValueError, match=r"처리기간\(days\)은 1일 이상이어야 합니다"):
        compute_deadline(date(2025, 3, 10), days)


def test_zero_days_message_points_to_the_immediate_rule():
    with pytest.raises(ValueError, match="compute_immediate_deadline"):
        compute_deadline(date(2025, 3, 10), 0)


def test_unknown_unit_and_non_integer_days_are_errors():
    with pytest.raises(ValueError, match="unit"):
        compute_deadline(date(2025, 3, 10), 7, unit="weeks")
    with pytest.raises(TypeError):
        compute_deadline(date(2025, 3, 10), 7.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        compute_deadline(date(2025, 3, 10), True)  # type: ignore[arg-type]
