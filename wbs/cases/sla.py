"""Working days and deadline rules (RULES §5).

A limit of N working days ends with the N-th working day *after* the day of the event:
the event day itself is never counted, whatever the time of day the event happened.
Working days are Monday to Friday less national holidays and cuti bersama (Perpres
21/2023), which the `holidays` package lists for Indonesia, corrected by an
administrator's override table for what it cannot know: regional holidays, and cuti
bersama that the government cancelled.

Every function takes the calendar day of the event in the Pemda's own time zone (WIB,
WITA or WIT): converting an instant to that day is the caller's job, because only the
caller knows the Pemda. Nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

import holidays
from holidays.constants import GOVERNMENT, PUBLIC


class DayUnit(StrEnum):
    """The unit a deadline is counted in; stored with every rule (RULES §10)."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"


class StartEvent(StrEnum):
    """The event a limit counts from: part of the rule, because the regulations differ
    (issue 10). Sanggau counts the answer from receipt by the liaison (the disposition);
    Belitung Timur from receipt in the system (Ps 24(1))."""

    RECEIPT = "receipt"  # the report was received in the system
    DISPOSITION = "disposition"  # the unit received the disposition
    REQUEST = "request"  # the reporter was asked for data
    ANSWER = "answer"  # the (last) answer was given
    COMPLETE_FILE = "complete_file"  # the complaint's file was declared complete
    DECISION = "decision"  # the decision was taken
    DUE = "due"  # a reminder counts back from the limit it reminds of


# The event each rule counts from by default, and which other events a Pemda may choose.
DEFAULT_START: Mapping[str, StartEvent] = MappingProxyType({
    "verification": StartEvent.RECEIPT,
    "answer_5": StartEvent.DISPOSITION, "answer_14": StartEvent.DISPOSITION,
    "answer_60": StartEvent.DISPOSITION,
    "reminder_5": StartEvent.DUE, "reminder_14": StartEvent.DUE, "reminder_60": StartEvent.DUE,
    "missing_data": StartEvent.REQUEST, "objection": StartEvent.ANSWER,
    "decision": StartEvent.COMPLETE_FILE, "decision_delivery": StartEvent.DECISION,
})
START_CHOICES: Mapping[str, frozenset[StartEvent]] = MappingProxyType({
    key: frozenset({StartEvent.RECEIPT, StartEvent.DISPOSITION})
    if key.startswith("answer_") else frozenset({start})
    for key, start in DEFAULT_START.items()
})


@dataclass(frozen=True)
class DeadlineRule:
    """One limit of RULES §5.

    For the `answer_*` rules, `amount` is the limit counted from receipt by the liaison.
    For the `reminder_*` rules it is an offset counted *back* from the matching answer
    limit's due date, in `unit` (working days by default): `reminder_5` = 3 means
    "remind the handler on the third working day before the 5-working-day limit ends",
    i.e. with 3 working days left.
    """

    key: str
    amount: int
    unit: DayUnit
    # None: the rule's default event (DEFAULT_START); `start_event` resolves it.
    start: StartEvent | None = None

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a deadline rule needs a key")
        if self.amount < 0:
            raise ValueError(f"deadline rule {self.key!r}: amount must not be negative")
        choices = START_CHOICES.get(self.key)
        if self.start is not None and choices is not None and self.start not in choices:
            raise ValueError(f"deadline rule {self.key!r} cannot start at {self.start.value}")

    @property
    def start_event(self) -> StartEvent:
        return self.start or DEFAULT_START.get(self.key, StartEvent.RECEIPT)


def _wd(key: str, amount: int) -> DeadlineRule:
    return DeadlineRule(key, amount, DayUnit.WORKING_DAYS)


DEFAULT_RULES: Mapping[str, DeadlineRule] = MappingProxyType(
    {
        rule.key: rule
        for rule in (
            # Verification and disposition by the verifier, or intake by APIP, from
            # receipt.
            _wd("verification", 3),
            # Answer limits, from receipt by the liaison: information request or
            # normative complaint; complaint needing no oversight; complaint needing
            # oversight + field check.
            _wd("answer_5", 5),
            _wd("answer_14", 14),
            _wd("answer_60", 60),
            # Working days BEFORE the due date of the matching answer limit.
            _wd("reminder_5", 3),
            _wd("reminder_14", 8),
            _wd("reminder_60", 35),
            # Reporter supplies missing data, from the request; else the report is
            # archived. Configurable: Jayapura uses 30 calendar days.
            _wd("missing_data", 10),
            # Reporter may object, from the answer; else the case is closed.
            _wd("objection", 10),
            # Decision on an examined complaint, from the file being declared complete.
            _wd("decision", 60),
            # Decision delivered to the reporter, from the decision.
            _wd("decision_delivery", 14),
        )
    }
)


# Floors of the limits that protect the reporter (finding 12): the time to supply missing
# data and the time to object or reply after an answer. A window shorter than the
# regulations' would let a case be archived or closed before the reporter can act, so no
# configuration goes below it (Perbup Sanggau 31/2020 Lamp. VII.B.1; Belitung Timur Ps 27(1)).
FLOORS: Mapping[str, DeadlineRule] = MappingProxyType({
    "missing_data": DeadlineRule("missing_data", 10, DayUnit.WORKING_DAYS),
    "objection": DeadlineRule("objection", 10, DayUnit.WORKING_DAYS),
})


def meets_floor(rule: DeadlineRule) -> bool:
    """Whether `rule` is at least as long as its floor (True for a rule without one).

    A limit in calendar days meets a floor in working days only if it is long enough in the
    worst week-by-week case: a week holds at most five working days, so N working days need
    at least ceil(7N/5) calendar days (10 working days: 14 days; Jayapura's 30 days pass).
    """
    floor = FLOORS.get(rule.key)
    if floor is None:
        return True
    if rule.unit is floor.unit:
        return rule.amount >= floor.amount
    if floor.unit is DayUnit.WORKING_DAYS:
        return rule.amount >= -(-7 * floor.amount // 5)
    return rule.amount >= floor.amount  # a working day is never shorter than a calendar day


def rules_with_overrides(
    overrides: Iterable[DeadlineRule], base: Mapping[str, DeadlineRule] = DEFAULT_RULES
) -> Mapping[str, DeadlineRule]:
    """The base rules with a Pemda's own values in place of some of them.

    An override may change a rule's amount and unit but not invent a key: an unknown key
    is almost certainly a typo, and a typo would otherwise silently leave the default in
    force. An override below its floor (written before the floors existed, or straight
    into the database) is replaced by the floor: the floor is enforced where rules are
    applied, not only where they are set.
    """
    merged = dict(base)
    for rule in overrides:
        if rule.key not in base:
            raise ValueError(f"unknown deadline rule {rule.key!r}")
        merged[rule.key] = rule if meets_floor(rule) else FLOORS[rule.key]
    return MappingProxyType(merged)


@dataclass(frozen=True)
class CalendarOverride:
    """An administrator's correction of the national calendar for one day.

    `working=False` declares a regional holiday; `working=True` makes a day a working
    day, e.g. a cuti bersama that was cancelled. Overrides win over both the weekday
    rule and the package.
    """

    day: date
    working: bool
    label: str


def as_day(value: date) -> date:
    """The calendar day of `value`, dropping any time of day.

    `datetime` is a subclass of `date`, so one can reach these functions unnoticed;
    counting from its day is what RULES §5 asks ("whatever the time of day"), and a
    plain `date` also keeps comparisons with other dates from raising.
    """
    return value.date() if isinstance(value, datetime) else value


class WorkingCalendar:
    """Indonesian working days: Monday to Friday, less national holidays and cuti
    bersama, corrected by administrator overrides.

    Holiday years are loaded from the `holidays` package the first time a day in that
    year is asked about, so a long-lived calendar serves any year without being rebuilt.
    Loading the same year twice from two threads is harmless (the result is identical),
    so no lock is taken.
    """

    def __init__(
        self, overrides: Iterable[CalendarOverride] = (), *, language: str = "id"
    ) -> None:
        by_day: dict[date, CalendarOverride] = {}
        for override in overrides:
            day = as_day(override.day)
            # Two overrides for one day would make the answer depend on their order.
            if day in by_day:
                raise ValueError(
                    f"more than one calendar override for {day.isoformat()}"
                )
            by_day[day] = override
        self._overrides: Mapping[date, CalendarOverride] = MappingProxyType(by_day)
        # Always explicit: left unset, the package picks the language from the process
        # locale, and holiday names would change with the server's environment.
        self._language = language
        self._years: dict[int, Mapping[date, str]] = {}

    def _national(self, year: int) -> Mapping[date, str]:
        loaded = self._years.get(year)
        if loaded is None:
            # A plain copy: the package's own object expands itself on lookup, which
            # would make this cache's contents depend on which days happened to be asked
            # about.
            source = holidays.country_holidays(
                "ID",
                categories=(PUBLIC, GOVERNMENT),
                years=year,
                language=self._language,
            )
            loaded = MappingProxyType(dict(source.items()))
            self._years[year] = loaded
        return loaded

    def holiday_name(self, d: date) -> str | None:
        """Why `d` is not a working day although it may be a weekday: the override label
        or the national holiday's name. None for an ordinary day, a plain weekend day,
        or a day an override made a working day.
        """
        day = as_day(d)
        override = self._overrides.get(day)
        if override is not None:
            return None if override.working else override.label
        return self._national(day.year).get(day)

    def is_working_day(self, d: date) -> bool:
        day = as_day(d)
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        # Saturday is 5 and Sunday is 6.
        return day.weekday() < 5 and day not in self._national(day.year)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start`; `start` itself never counts (RULES §5).

        With n = 0 the answer is `start` itself, working day or not.
        """
        return self._step(start, n, 1)

    def subtract_working_days(self, d: date, n: int) -> date:
        """The n-th working day before `d`; `d` itself never counts."""
        return self._step(d, n, -1)

    def _step(self, start: date, n: int, direction: int) -> date:
        if n < 0:
            raise ValueError("the number of working days must not be negative")
        day = as_day(start)
        one = timedelta(days=direction)
        remaining = n
        while remaining:
            day += one
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: the inverse of `add_working_days`, so that
        `working_days_between(a, add_working_days(a, n)) == n`. Negative when b is
        before a.
        """
        first, last = as_day(a), as_day(b)
        if last < first:
            return -self.working_days_between(last, first)
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def due_date(calendar: WorkingCalendar, rule: DeadlineRule, start: date) -> date:
    """The last day of `rule`'s limit counted from the event day `start`.

    A calendar-day limit adds plain days and is not moved off a weekend or a holiday:
    the regulations that use calendar days (Jayapura's 30 days) do not say it should be.
    """
    if rule.unit is DayUnit.WORKING_DAYS:
        return calendar.add_working_days(start, rule.amount)
    return as_day(start) + timedelta(days=rule.amount)


def reminder_date(
    calendar: WorkingCalendar,
    answer_rule_key: str,
    due: date,
    rules: Mapping[str, DeadlineRule] = DEFAULT_RULES,
) -> date:
    """The day to remind the handler of an answer limit ending on `due`.

    The reminder rule is found by name: `answer_14` is reminded by `reminder_14`, so a
    Pemda that adds its own answer limit adds its reminder beside it. The offset counts
    back from `due` without counting `due` itself, in the reminder rule's unit.
    """
    suffix = answer_rule_key.removeprefix("answer_")
    if suffix == answer_rule_key:
        raise ValueError(f"{answer_rule_key!r} is not an answer rule")
    reminder_key = f"reminder_{suffix}"
    rule = rules.get(reminder_key)
    if rule is None:
        raise ValueError(f"no reminder rule {reminder_key!r} for {answer_rule_key!r}")
    if rule.unit is DayUnit.WORKING_DAYS:
        return calendar.subtract_working_days(due, rule.amount)
    return as_day(due) - timedelta(days=rule.amount)
