"""민원 처리기간의 만료일 계산.

Rules implemented (「민원 처리에 관한 법률」 법률 제18742호 and its 시행령 대통령령 제36296호):

- 법 제19조제1항: "민원의 처리기간을 5일 이하로 정한 경우에는 민원의 접수시각부터 "시간" 단위로 계산하되, 공휴일과
  토요일은 산입(算入)하지 아니한다. 이 경우 1일은 8시간의 근무시간을 기준으로 한다."
- 법 제19조제2항: "민원의 처리기간을 6일 이상으로 정한 경우에는 "일" 단위로 계산하고 첫날을 산입하되, 공휴일과
  토요일은 산입하지 아니한다."
- 법 제19조제3항: 주ㆍ월ㆍ연으로 정한 경우 "첫날을 산입하되, 「민법」 제159조부터 제161조까지의 규정을 준용한다."
- 시행령 제19조 (처리기간의 계산): "민원의 처리기간을 ‘즉시’로 정한 경우에는 정당한 사유가 있는 경우를 제외하고는
  3근무시간 이내에 처리하여야 한다."

Receipt day: the law departs from 「민법」 제157조 (초일불산입) on purpose — 법 제19조제2항·제3항 say 첫날을 산입, and
제19조제1항 counts from the 접수시각. So the day of receipt is day 1 when it is a working day; a 민원 received on a
Saturday or 공휴일 starts counting on the next working day (those days "산입하지 아니한다").

Assumptions (not in the corpus; stated so they can be checked):
- 근무시간 09:00–18:00 with 12:00–13:00 lunch, i.e. the 8 hours of 제19조제1항 (국가공무원 복무규정 제9조).
- A receipt given as a ``date`` (no time) is treated as received at 09:00, the earliest reading, so a deadline
  computed without the time is never later than the real one.
- 공휴일 = 「관공서의 공휴일에 관한 규정」 days (일요일, 국경일, 설날·추석 연휴, 대체공휴일, 선거일, 임시공휴일) as the
  ``holidays`` package lists them for KR, plus any date passed to ``HolidayCalendar(extra=...)``. The package
  computes them locally from built-in tables (lunar dates are a table for 1901–2100); no network access.
- 시행령 제20조 (보완 기간 등 처리기간에 산입하지 않는 기간) and extensions (시행령 제21조) are not modelled:
  add those days to ``days`` or to the calendar yourself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import holidays as holidays_pkg

KST = timezone(timedelta(hours=9), "KST")
WORK_BLOCKS = ((time(9), time(12)), (time(13), time(18)))  # 8 근무시간 a day
HOURS_PER_DAY = 8
IMMEDIATE_HOURS = 3  # 시행령 제19조
MIN_YEAR, MAX_YEAR = 1949, 2100  # what the holidays package can compute for KR

_LAW = "「민원 처리에 관한 법률」"
BASIS_HOURS = (f"{_LAW} 제19조제1항: 5일 이하는 접수시각부터 '시간' 단위(1일=8근무시간), 공휴일과 토요일 불산입")
BASIS_DAYS = f"{_LAW} 제19조제2항: 6일 이상은 '일' 단위, 첫날 산입, 공휴일과 토요일 불산입"
BASIS_CALENDAR = (f"역일 계산: 첫날 산입({_LAW} 제19조제3항), 말일이 토요일 또는 공휴일이면 그다음 근무일에 만료"
                  "(「민법」 제161조 준용)")
BASIS_IMMEDIATE = "「민원 처리에 관한 법률 시행령」 제19조: ‘즉시’는 3근무시간 이내"


class HolidayCalendar:
    """Korean non-working days: 토요일, 일요일, the package's KR 공휴일, and ``extra`` dates (e.g. 임시공휴일).

    Sunday is a 공휴일 under 「관공서의 공휴일에 관한 규정」 제2조제1호; Saturday is not a 공휴일 but 법 제19조
    excludes it from 처리기간 as well, so both count as non-working here.
    """

    def __init__(self, extra: Iterable[date] = ()) -> None:
        self._kr = holidays_pkg.country_holidays("KR", language="ko")  # years filled in on lookup, offline
        self.extra = frozenset(extra)

    def holiday_name(self, day: date) -> str | None:
        """The 공휴일 name (package or "임시공휴일(추가 지정)"), "일요일", or None."""
        self._check_year(day)
        if day in self.extra:
            return "임시공휴일(추가 지정)"
        name = self._kr.get(day)
        if name:
            return str(name)
        return "일요일" if day.weekday() == 6 else None

    def is_public_holiday(self, day: date) -> bool:
        return self.holiday_name(day) is not None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_public_holiday(day)

    @staticmethod
    def _check_year(day: date) -> None:
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValueError(f"{day.year}년의 공휴일은 계산할 수 없습니다 ({MIN_YEAR}–{MAX_YEAR}년만 지원).")


@dataclass(frozen=True)
class Deadline:
    due: date  # last day of the period
    days: int
    unit: str
    basis: str
    excluded: list[date] = field(default_factory=list)  # 토요일·공휴일 skipped (or rolled over), in order
    due_at: datetime | None = None  # for hour-counted periods: the exact end (KST)


def _as_kst(received: date | datetime) -> datetime:
    if isinstance(received, datetime):
        if received.tzinfo is not None:
            return received.astimezone(KST).replace(tzinfo=None)
        return received
    return datetime.combine(received, WORK_BLOCKS[0][0])


def _add_working_hours(start: datetime, hours: int, cal: HolidayCalendar) -> tuple[datetime, list[date]]:
    """Walk forward ``hours`` 근무시간 from ``start`` (법 제19조제1항), skipping non-working days."""
    remaining = timedelta(hours=hours)
    cur = start
    excluded: list[date] = []
    while True:
        day = cur.date()
        if not cal.is_working_day(day):
            excluded.append(day)
        else:
            for begin, end in WORK_BLOCKS:
                block_start, block_end = datetime.combine(day, begin), datetime.combine(day, end)
                cur = max(cur, block_start)
                if cur >= block_end:
                    continue
                if remaining <= block_end - cur:
                    return cur + remaining, excluded
                remaining -= block_end - cur
                cur = block_end
        cur = datetime.combine(day + timedelta(days=1), time(0))


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"처리기간(days)은 정수여야 합니다: {days!r}")
    if days <= 0:
        raise ValueError(
            f"처리기간(days)은 1일 이상이어야 합니다: {days}. "
            "‘즉시’ 처리 민원은 compute_immediate_deadline()을 쓰세요(시행령 제19조: 3근무시간 이내)."
        )


def compute_deadline(
    received: date | datetime,
    days: int,
    *,
    unit: str = "working_days",
    holidays: HolidayCalendar | None = None,
) -> Deadline:
    """Last day of a 민원 처리기간 of ``days`` days received at ``received``.

    ``unit="working_days"`` (default) applies 법 제19조: up to 5 days in 근무시간 from the 접수시각 (``due_at`` is
    set), 6 days or more in days counting the first day; 토요일 and 공휴일 never count. ``unit="days"`` counts calendar
    days (첫날 산입) and moves a last day that falls on a 토요일/공휴일 to the next working day (「민법」 제161조).
    """
    _check_days(days)
    if unit not in ("working_days", "days"):
        raise ValueError(f"unit은 'working_days' 또는 'days'여야 합니다: {unit!r}")
    cal = holidays or HolidayCalendar()
    start = _as_kst(received)
    aware = isinstance(received, datetime) and received.tzinfo is not None

    if unit == "days":
        due = start.date() + timedelta(days=days - 1)
        rolled: list[date] = []
        while not cal.is_working_day(due):
            rolled.append(due)
            due += timedelta(days=1)
        return Deadline(due=due, days=days, unit=unit, basis=BASIS_CALENDAR, excluded=rolled)

    if days <= 5:
        due_at, excluded = _add_working_hours(start, days * HOURS_PER_DAY, cal)
        return Deadline(
            due=due_at.date(), days=days, unit=unit, basis=BASIS_HOURS, excluded=excluded,
            due_at=due_at.replace(tzinfo=KST) if aware else due_at,
        )

    day, counted, excluded = start.date(), 0, []
    while True:
        if cal.is_working_day(day):
            counted += 1
            if counted == days:
                return Deadline(due=day, days=days, unit=unit, basis=BASIS_DAYS, excluded=excluded)
        else:
            excluded.append(day)
        day += timedelta(days=1)


def compute_immediate_deadline(received: datetime, *, holidays: HolidayCalendar | None = None) -> Deadline:
    """‘즉시’ 처리 민원 (e.g. 기타민원, 시행령 제16조제1항): 3근무시간 from the 접수시각 (시행령 제19조)."""
    cal = holidays or HolidayCalendar()
    due_at, excluded = _add_working_hours(_as_kst(received), IMMEDIATE_HOURS, cal)
    if isinstance(received, datetime) and received.tzinfo is not None:
        due_at = due_at.replace(tzinfo=KST)
    return Deadline(due=due_at.date(), days=0, unit="working_hours", basis=BASIS_IMMEDIATE, excluded=excluded,
                    due_at=due_at)
