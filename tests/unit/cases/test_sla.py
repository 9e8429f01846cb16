"""Working days and deadline rules (RULES §5).

Every expected date below was counted by hand against the `holidays` package's listing
of Indonesian public holidays and cuti bersama (`country_holidays("ID",
categories=("public", "government"))`), and the comment on each row names what was
skipped. Nothing reads the clock.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from wbs.cases.sla import (
    DEFAULT_RULES,
    CalendarOverride,
    DayUnit,
    DeadlineRule,
    WorkingCalendar,
    due_date,
    reminder_date,
    rules_with_overrides,
)

# One calendar without overrides for the whole module: it is immutable from outside and
# caches the holiday years it has loaded.
NATIONAL = WorkingCalendar()

# (event day, working days, expected last day, what was skipped)
WORKING_DAY_CASES: list[tuple[date, int, date, str]] = [
    # --- Idul Fitri 2025: Fri 28 Mar cuti Nyepi, Sat 29 Mar Nyepi,
    # Mon 31 Mar - Tue 1 Apr Idul Fitri, Wed 2 - Mon 7 Apr cuti bersama.
    (
        date(2025, 3, 27),
        5,
        date(2025, 4, 14),
        "RULES §10 check: Nyepi, Idul Fitri, cuti",
    ),
    (date(2025, 3, 27), 3, date(2025, 4, 10), "28 Mar - 7 Apr skipped"),
    (date(2025, 3, 26), 3, date(2025, 4, 9), "27 Mar counts, 28 Mar - 7 Apr skipped"),
    (date(2025, 3, 27), 14, date(2025, 4, 28), "28 Mar - 7 Apr, Good Friday 18 Apr"),
    (
        date(2025, 3, 27),
        60,
        date(2025, 7, 11),
        "28 Mar - 7 Apr, 18 Apr Good Friday, 1 May, 12-13 May Waisak + cuti, "
        "29-30 May Ascension + cuti, 6 Jun Idul Adha, 9 Jun cuti, "
        "27 Jun Islamic New Year",
    ),
    (date(2025, 3, 21), 5, date(2025, 4, 8), "Friday event; 28 Mar - 7 Apr skipped"),
    (
        date(2025, 3, 29),
        3,
        date(2025, 4, 10),
        "event on Nyepi (Saturday); to 7 Apr skipped",
    ),
    # --- Idul Fitri 2026: Wed 18 Mar cuti Nyepi, Thu 19 Mar Nyepi, Fri 20 Mar cuti,
    # Sat 21 - Sun 22 Mar Idul Fitri, Mon 23 - Tue 24 Mar cuti bersama.
    (date(2026, 3, 17), 5, date(2026, 3, 31), "18-24 Mar skipped"),
    (date(2026, 3, 16), 3, date(2026, 3, 26), "17 Mar counts, 18-24 Mar skipped"),
    (date(2026, 3, 17), 14, date(2026, 4, 14), "18-24 Mar, Good Friday 3 Apr"),
    (date(2026, 3, 13), 3, date(2026, 3, 25), "Friday event; 18-24 Mar skipped"),
    (
        date(2026, 3, 22),
        5,
        date(2026, 3, 31),
        "event on Idul Fitri (Sunday); 23-24 skipped",
    ),
    (
        date(2026, 3, 13),
        60,
        date(2026, 6, 24),
        "18-24 Mar, 3 Apr Good Friday, 1 May, 14-15 May Ascension + cuti, "
        "27-28 May Idul Adha + cuti, 1 Jun Pancasila, 16 Jun Islamic New Year",
    ),
    # --- Christmas 2025: Thu 25 Dec Natal, Fri 26 Dec cuti; then 1 Jan 2026.
    (date(2025, 12, 23), 5, date(2026, 1, 2), "25-26 Dec, 1 Jan"),
    (date(2025, 12, 24), 3, date(2025, 12, 31), "25-26 Dec"),
    (date(2025, 12, 19), 14, date(2026, 1, 13), "Friday event; 25-26 Dec, 1 Jan"),
    # --- Christmas 2026: Thu 24 Dec cuti, Fri 25 Dec Natal; then Fri 1 Jan 2027.
    (date(2026, 12, 23), 5, date(2027, 1, 4), "24-25 Dec, 1 Jan 2027"),
    (date(2026, 12, 18), 5, date(2026, 12, 29), "Friday event; 24-25 Dec"),
    # --- Year end 2025 into January 2026 (Thu 1 Jan, Fri 16 Jan Isra Mikraj).
    (date(2025, 12, 30), 3, date(2026, 1, 5), "1 Jan"),
    (date(2025, 12, 31), 5, date(2026, 1, 8), "1 Jan"),
    (date(2025, 12, 31), 14, date(2026, 1, 22), "1 Jan, 16 Jan Isra Mikraj"),
    (date(2026, 1, 1), 3, date(2026, 1, 6), "event on New Year's Day itself"),
    (
        date(2025, 12, 1),
        60,
        date(2026, 3, 3),
        "25-26 Dec, 1 Jan, 16 Jan Isra Mikraj, 16-17 Feb Imlek cuti + Imlek",
    ),
    # --- Ordinary weeks: Friday and weekend events.
    (date(2025, 11, 7), 3, date(2025, 11, 12), "Friday event; the weekend only"),
    (date(2025, 11, 7), 5, date(2025, 11, 14), "Friday event; the weekend only"),
    (date(2025, 11, 8), 3, date(2025, 11, 12), "Saturday event; Sunday only"),
    (date(2025, 11, 9), 5, date(2025, 11, 14), "Sunday event; nothing"),
    (date(2025, 8, 16), 3, date(2025, 8, 21), "Saturday event; Mon 18 Aug cuti"),
    (
        date(2025, 5, 16),
        14,
        date(2025, 6, 11),
        "Friday event; 29-30 May Ascension + cuti, 6 Jun Idul Adha, 9 Jun cuti",
    ),
]


@pytest.mark.parametrize(
    ("start", "n", "expected", "skipped"),
    WORKING_DAY_CASES,
    ids=[f"{s.isoformat()}+{n}" for s, n, _, _ in WORKING_DAY_CASES],
)
def test_add_working_days(start: date, n: int, expected: date, skipped: str) -> None:
    assert NATIONAL.add_working_days(start, n) == expected, skipped


@pytest.mark.parametrize(
    ("start", "n", "expected", "skipped"),
    WORKING_DAY_CASES,
    ids=[f"{s.isoformat()}+{n}" for s, n, _, _ in WORKING_DAY_CASES],
)
def test_working_days_between_inverts_add(
    start: date, n: int, expected: date, skipped: str
) -> None:
    assert NATIONAL.working_days_between(start, expected) == n, skipped
    assert NATIONAL.working_days_between(expected, start) == -n, skipped


def test_the_rules_check_value() -> None:
    # RULES §10 names this one explicitly: it must never silently change.
    rule = DEFAULT_RULES["answer_5"]
    assert due_date(NATIONAL, rule, date(2025, 3, 27)) == date(2025, 4, 14)


def test_time_of_day_does_not_matter() -> None:
    early = datetime(2025, 3, 27, 0, 1)
    late = datetime(2025, 3, 27, 23, 59)
    assert NATIONAL.add_working_days(early, 5) == date(2025, 4, 14)
    assert NATIONAL.add_working_days(late, 5) == date(2025, 4, 14)
    assert type(NATIONAL.add_working_days(late, 5)) is date


def test_zero_days_is_the_event_day() -> None:
    assert NATIONAL.add_working_days(date(2025, 3, 29), 0) == date(2025, 3, 29)


def test_negative_days_are_rejected() -> None:
    with pytest.raises(ValueError):
        NATIONAL.add_working_days(date(2025, 3, 27), -1)
    with pytest.raises(ValueError):
        NATIONAL.subtract_working_days(date(2025, 3, 27), -1)


def test_subtract_working_days() -> None:
    # Back from 14 Apr 2025 over 7 Apr cuti, 2-4 Apr cuti, 31 Mar - 1 Apr Idul Fitri,
    # 28 Mar cuti Nyepi: 11, 10, 9, 8 Apr, then 27 Mar.
    assert NATIONAL.subtract_working_days(date(2025, 4, 14), 5) == date(2025, 3, 27)
    # Back from Mon 5 Jan 2026 over the weekend and 1 Jan: 2 Jan, 31 Dec.
    assert NATIONAL.subtract_working_days(date(2026, 1, 5), 2) == date(2025, 12, 31)


def test_working_days_between_same_day_is_zero() -> None:
    assert NATIONAL.working_days_between(date(2025, 3, 31), date(2025, 3, 31)) == 0


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 3, 27), True),  # ordinary Thursday
        (date(2025, 3, 28), False),  # cuti bersama Nyepi (government category)
        (date(2025, 3, 31), False),  # Idul Fitri (public category)
        (date(2025, 4, 7), False),  # cuti bersama Idul Fitri
        (date(2025, 4, 8), True),
        (date(2025, 11, 8), False),  # Saturday
        (date(2025, 11, 9), False),  # Sunday
        (date(2025, 12, 26), False),  # cuti bersama Natal
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert NATIONAL.is_working_day(day) is working


def test_holiday_name() -> None:
    assert NATIONAL.holiday_name(date(2025, 3, 31)) == "Hari Raya Idul Fitri"
    assert NATIONAL.holiday_name(date(2025, 3, 28)) == "Cuti Bersama Hari Suci Nyepi"
    assert NATIONAL.holiday_name(date(2025, 3, 27)) is None
    assert NATIONAL.holiday_name(date(2025, 11, 8)) is None  # a plain Saturday


# --- Administrator overrides


def test_regional_holiday_shifts_the_due_date_by_one_working_day() -> None:
    # Fri 7 Nov 2025 + 5 is Fri 14 Nov; a regional holiday on Tue 11 Nov pushes the
    # fifth working day over the weekend to Mon 17 Nov.
    regional = CalendarOverride(
        date(2025, 11, 11), working=False, label="HUT Kabupaten"
    )
    calendar = WorkingCalendar([regional])
    assert NATIONAL.add_working_days(date(2025, 11, 7), 5) == date(2025, 11, 14)
    assert calendar.add_working_days(date(2025, 11, 7), 5) == date(2025, 11, 17)
    assert calendar.holiday_name(date(2025, 11, 11)) == "HUT Kabupaten"
    assert not calendar.is_working_day(date(2025, 11, 11))


def test_cancelled_cuti_bersama_shifts_the_due_date_back() -> None:
    # 23 Dec 2025 + 5 is 2 Jan 2026 nationally (25-26 Dec and 1 Jan skipped); with the
    # 26 Dec cuti bersama cancelled: 24, 26, 29, 30, 31 Dec.
    cancelled = CalendarOverride(
        date(2025, 12, 26), working=True, label="cuti dibatalkan"
    )
    calendar = WorkingCalendar([cancelled])
    assert NATIONAL.add_working_days(date(2025, 12, 23), 5) == date(2026, 1, 2)
    assert calendar.add_working_days(date(2025, 12, 23), 5) == date(2025, 12, 31)
    assert calendar.is_working_day(date(2025, 12, 26))
    assert calendar.holiday_name(date(2025, 12, 26)) is None


def test_two_overrides_for_one_day_are_rejected() -> None:
    day = date(2025, 11, 11)
    with pytest.raises(ValueError):
        WorkingCalendar(
            [CalendarOverride(day, False, "a"), CalendarOverride(day, True, "b")]
        )


# --- Rules


def test_default_rules_match_rules_section_5() -> None:
    wd = DayUnit.WORKING_DAYS
    expected = {
        "verification": 3,
        "answer_5": 5,
        "answer_14": 14,
        "answer_60": 60,
        "reminder_5": 3,
        "reminder_14": 8,
        "reminder_60": 35,
        "missing_data": 10,
        "objection": 10,
        "decision": 60,
        "decision_delivery": 14,
    }
    assert {k: r.amount for k, r in DEFAULT_RULES.items()} == expected
    assert all(r.unit is wd and r.key == k for k, r in DEFAULT_RULES.items())


def test_calendar_day_rule_counts_plain_days() -> None:
    # Jayapura: missing data within 30 calendar days. From 27 Mar 2025 that is
    # Sat 26 Apr, right across Nyepi, Idul Fitri and its cuti bersama, and not moved
    # off the weekend.
    jayapura = DeadlineRule("missing_data", 30, DayUnit.CALENDAR_DAYS)
    assert due_date(NATIONAL, jayapura, date(2025, 3, 27)) == date(2025, 4, 26)
    # The default, 10 working days: 8-11, 14-17, 21, 22 Apr (Good Friday 18 Apr).
    default = DEFAULT_RULES["missing_data"]
    assert due_date(NATIONAL, default, date(2025, 3, 27)) == date(2025, 4, 22)


def test_rules_with_overrides() -> None:
    jayapura = DeadlineRule("missing_data", 30, DayUnit.CALENDAR_DAYS)
    rules = rules_with_overrides([jayapura])
    assert rules["missing_data"] == jayapura
    assert rules["objection"] == DEFAULT_RULES["objection"]
    assert DEFAULT_RULES["missing_data"].unit is DayUnit.WORKING_DAYS
    with pytest.raises(ValueError):
        rules_with_overrides([DeadlineRule("misssing_data", 30, DayUnit.CALENDAR_DAYS)])


def test_rule_amount_must_not_be_negative() -> None:
    with pytest.raises(ValueError):
        DeadlineRule("objection", -1, DayUnit.WORKING_DAYS)


# (answer rule, event day, answer due, reminder day, what was skipped)
REMINDER_CASES: list[tuple[str, date, date, date, str]] = [
    # 3 working days before 14 Apr 2025: 11, 10, 9 Apr.
    ("answer_5", date(2025, 3, 27), date(2025, 4, 14), date(2025, 4, 9), "none"),
    # 14 wd from 17 Mar 2026 (18-24 Mar, 3 Apr skipped) is 14 Apr; 8 before it:
    # 13, 10, 9, 8, 7, 6 Apr, (3 Apr Good Friday), 2, 1 Apr.
    (
        "answer_14",
        date(2026, 3, 17),
        date(2026, 4, 14),
        date(2026, 4, 1),
        "Good Friday",
    ),
    # 60 wd from 27 Mar 2025 is 11 Jul; 35 before it goes back over 27 Jun, 9 and 6 Jun,
    # 29-30 May to Fri 16 May.
    (
        "answer_60",
        date(2025, 3, 27),
        date(2025, 7, 11),
        date(2025, 5, 16),
        "Islamic New Year, Idul Adha + cuti, Ascension + cuti",
    ),
]


@pytest.mark.parametrize(
    ("key", "start", "due", "reminder", "skipped"),
    REMINDER_CASES,
    ids=[c[0] for c in REMINDER_CASES],
)
def test_reminder_date(
    key: str, start: date, due: date, reminder: date, skipped: str
) -> None:
    assert due_date(NATIONAL, DEFAULT_RULES[key], start) == due
    assert reminder_date(NATIONAL, key, due) == reminder, skipped
    # The reminder leaves exactly `reminder_N` working days to the limit.
    offset = DEFAULT_RULES["reminder_" + key.removeprefix("answer_")].amount
    assert NATIONAL.working_days_between(reminder, due) == offset


def test_reminder_in_calendar_days() -> None:
    rules = rules_with_overrides([DeadlineRule("reminder_5", 3, DayUnit.CALENDAR_DAYS)])
    assert reminder_date(NATIONAL, "answer_5", date(2025, 4, 14), rules) == date(
        2025, 4, 11
    )


def test_reminder_needs_an_answer_rule() -> None:
    with pytest.raises(ValueError):
        reminder_date(NATIONAL, "objection", date(2025, 4, 14))
    with pytest.raises(ValueError):
        reminder_date(NATIONAL, "answer_30", date(2025, 4, 14))


def test_years_load_lazily_across_the_year_boundary() -> None:
    # A fresh calendar asked only about late 2026 must still know 1 Jan 2027.
    fresh = WorkingCalendar()
    assert fresh.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
