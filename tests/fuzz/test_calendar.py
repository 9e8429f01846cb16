"""The working-day calendar: counting back what was added gives the same number (RULES §5)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wbs.cases.sla import CalendarOverride, WorkingCalendar

NATIONAL = WorkingCalendar()
days = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 12, 31))
counts = st.integers(min_value=0, max_value=60)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    picked = draw(st.lists(days, max_size=6, unique=True))
    return WorkingCalendar([CalendarOverride(day=d, working=draw(st.booleans()), label="x")
                            for d in picked])


@given(days, counts)
def test_adding_then_counting_back_gives_n(start: date, n: int) -> None:
    end = NATIONAL.add_working_days(start, n)
    assert NATIONAL.working_days_between(start, end) == n
    assert NATIONAL.working_days_between(end, start) == -n
    if n:
        assert NATIONAL.is_working_day(end)
        assert end > start
        # No working day is skipped: one working day earlier is n - 1 away.
        assert NATIONAL.add_working_days(start, n - 1) < end


@given(calendars(), days, counts)
def test_overrides_keep_the_inverse(calendar: WorkingCalendar, start: date, n: int) -> None:
    end = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n
    if n:
        back = calendar.subtract_working_days(end, n)
        # Back from a working day lands on the last working day on or before start.
        assert back <= start
        assert calendar.working_days_between(back, start) == 0
        assert calendar.working_days_between(back, end) == n


@given(days, days)
def test_between_counts_working_days(a: date, b: date) -> None:
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days > 120:
        hi = lo + timedelta(days=120)
    expected = sum(NATIONAL.is_working_day(lo + timedelta(days=i))
                   for i in range(1, (hi - lo).days + 1))
    assert NATIONAL.working_days_between(lo, hi) == expected


def test_2026_and_2027_holidays_are_not_working_days() -> None:
    # The property runs over these years; make sure the calendar really has holidays there.
    for year in (2026, 2027):
        weekdays_off = [date(year, 1, 1) + timedelta(days=i) for i in range(365)]
        off = [d for d in weekdays_off if d.weekday() < 5 and not NATIONAL.is_working_day(d)]
        assert len(off) >= 10, year
        assert NATIONAL.holiday_name(date(year, 8, 17)) is not None  # Hari Kemerdekaan
