"""Deadline rows: opened when an obligation starts, met when it is fulfilled (RULES §5).

The calendar and the rules come from the `holidays` package and the RULES §5 defaults, corrected
by what an administrator stored (regional holidays, changed cuti bersama, a Pemda's own limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import row_ids
from wbs.cases.sla import (
    CalendarOverride,
    DeadlineRule,
    StartEvent,
    WorkingCalendar,
    due_date,
    reminder_date,
)
from wbs.context import Context
from wbs.models import CalendarOverrideRow, Case, Deadline, Notice

# The calendar built from the stored overrides, kept per process and keyed by those
# overrides: building a calendar (and its holiday years) was ~5% of a submission, while
# reading the few override rows is cheap. Keyed by content, a change made by any process (an
# administrator on another worker) is seen by the next read here; no invalidation can be
# missed. One entry: the overrides change rarely. The rules are rebuilt on each read from
# their few rows and the regional profile (wbs/profiles/store.py), which is cheap.
_calendars: dict[tuple[tuple[date, bool, str], ...], WorkingCalendar] = {}


def load_calendar(session: Session) -> WorkingCalendar:
    key = tuple(sorted((day, working, label) for day, working, label in session.execute(select(
        CalendarOverrideRow.day, CalendarOverrideRow.working, CalendarOverrideRow.label))))
    calendar = _calendars.get(key)
    if calendar is None:
        calendar = WorkingCalendar(CalendarOverride(day, working, label)
                                   for day, working, label in key)
        _calendars.clear()
        _calendars[key] = calendar
    return calendar


def load_rules(session: Session) -> Mapping[str, DeadlineRule]:
    """The rules in force: the regional profile's limits with the stored overrides."""
    from wbs.profiles import store  # the profiles build on the pure rules of sla

    return store.in_force(session).rules


def start_day(case: Case, rule: DeadlineRule, today: date) -> date:
    """The day a limit counts from when its obligation opens today: the day the report was
    received in the system for a rule that starts at receipt (Belitung Timur Ps 24(1)),
    else today, the day of the event that opens it."""
    return case.received_on if rule.start_event is StartEvent.RECEIPT else today


def rules_in_force(ctx: Context) -> Mapping[str, DeadlineRule]:
    """The rules as configured now, for pages that state them (never a fixed number)."""
    with ctx.read() as session:
        return load_rules(session)


def answer_rule(resolution_days: int | None) -> str:
    return f"answer_{resolution_days or 14}"


def open_deadline(session: Session, case: Case, kind: str, rule_key: str, start: date, *,
                  calendar: WorkingCalendar, rules: Mapping[str, DeadlineRule],
                  task_id: int | None = None) -> Deadline:
    """Open (once) the deadline `kind` counted from `start` by the rule `rule_key`."""
    same = None
    if not row_ids.is_new_case(session, case.id):  # a case made in this session has none
        same = session.scalars(select(Deadline).where(
            Deadline.case_id == case.id, Deadline.task_id.is_(None) if task_id is None
            else Deadline.task_id == task_id, Deadline.kind == kind,
            Deadline.start_on == start)).first()
    if same is not None and same.met_on is None:
        return same
    due = due_date(calendar, rules[rule_key], start)
    remind = reminder_date(calendar, rule_key, due, rules) if rule_key.startswith(
        "answer_") else None
    if same is not None:
        # The same obligation started again on the same day (an objection on the day of the
        # answer): reopen the row rather than collide with it.
        same.rule_key, same.due_on, same.remind_on = rule_key, due, remind
        same.met_on = same.reminded_on = same.escalated_on = same.enforced_on = None
        return same
    row = Deadline(case_id=case.id, task_id=task_id, kind=kind, rule_key=rule_key,
                   start_on=start, due_on=due, remind_on=remind)
    session.add(row)
    if same is None and not row_ids.is_new_case(session, case.id):
        session.flush()
    return row


# A compensation decision and its delivery (Perbup Sanggau 33/2019 Ps 18) are owed even after
# the complaint itself is closed: closing the case leaves these open.
SURVIVE_CLOSING = ("decision", "decision_delivery")


def meet(session: Session, case: Case, kinds: Iterable[str] | None, today: date, *,
         task_id: int | None = None, keep: Iterable[str] = ()) -> None:
    """Mark open deadlines fulfilled: of these kinds (all if None, except those in `keep`), of
    one task if given."""
    query = select(Deadline).where(Deadline.case_id == case.id, Deadline.met_on.is_(None))
    if kinds is not None:
        query = query.where(Deadline.kind.in_(list(kinds)))
    if keep:
        query = query.where(Deadline.kind.not_in(list(keep)))
    if task_id is not None:
        query = query.where(Deadline.task_id == task_id)
    for row in session.scalars(query):
        row.met_on = today
        # Reminders, overdue and escalation notices about this deadline are settled with it.
        for notice in session.scalars(select(Notice).where(
                Notice.case_id == case.id, Notice.due_on == row.due_on,
                Notice.kind.in_(("reminder", "overdue", "escalation")),
                Notice.done_on.is_(None))):
            notice.done_on = today


def open_deadlines(session: Session, case: Case) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(
        Deadline.case_id == case.id, Deadline.met_on.is_(None)).order_by(Deadline.due_on)))


def next_due(session: Session, case: Case) -> date | None:
    rows = open_deadlines(session, case)
    return rows[0].due_on if rows else None
