"""Deadline rows: opened when an obligation starts, met when it is fulfilled (RULES §5).

The calendar and the rules come from the `holidays` package and the RULES §5 defaults, corrected
by what an administrator stored (regional holidays, changed cuti bersama, a Pemda's own limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Table, event, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

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
from wbs.models import (
    CalendarOverrideRow,
    Case,
    Deadline,
    DeadlineRuleRow,
    Notice,
    RuleProfileRow,
    RulesVersion,
)
from wbs.profiles.model import Profile


# The rules in force and the calendar, built once per process and kept while the stored rules
# stay the same (issue 12): building them (the profile, its overrides, the holiday years) was
# ~5% of a submission and three reads. Whether they are still the ones stored is one read of
# `rules_version`, a token that triggers in the database change with every change to the
# calendar overrides, the rule overrides or the profile, in the transaction that makes it: a
# change made by any process (an administrator on another worker, or straight in the
# database) is seen by the next read here, and none can be missed by a code path that forgets
# to invalidate. The token is read first and the rows after it, so a snapshot is never older
# than its token. Read once per transaction: a transaction sees one set of rules.
@dataclass(frozen=True)
class RulesSnapshot:
    token: int | None  # None: the database has no token (then nothing is kept)
    calendar: WorkingCalendar
    profile: Profile


_snapshot: list[RulesSnapshot] = []  # at most one: the rules change rarely
_MEMO = "wbs.rules_snapshot"


def _build(session: Session, token: int | None) -> RulesSnapshot:
    from wbs.profiles import store  # the profiles build on the pure rules of sla

    overrides = sorted(session.execute(select(
        CalendarOverrideRow.day, CalendarOverrideRow.working, CalendarOverrideRow.label)))
    calendar = WorkingCalendar(CalendarOverride(day, working, label)
                               for day, working, label in overrides)
    return RulesSnapshot(token, calendar, store.in_force(session))


def rules_snapshot(session: Session) -> RulesSnapshot:
    """The calendar and the profile in force (with its rules) as stored now."""
    # A change to the rules only added to the session is flushed first, as a query would
    # autoflush it: the flush then drops the memo and the change is read back.
    if session.autoflush and any(isinstance(obj, _RULE_CLASSES) for obj in (
            *session.new, *session.dirty, *session.deleted)):
        session.flush()
    memo = session.info.get(_MEMO)
    transaction = session.get_transaction()
    if memo is not None and transaction is not None and memo[0] is transaction:
        snapshot: RulesSnapshot = memo[1]
        return snapshot
    token = session.scalar(select(RulesVersion.token).where(RulesVersion.id == 1))
    kept = _snapshot[0] if _snapshot else None
    if token is not None and kept is not None and kept.token == token:
        snapshot = kept
    else:
        snapshot = _build(session, token)
        if token is not None:
            _snapshot[:] = [snapshot]
    session.info[_MEMO] = (session.get_transaction(), snapshot)
    return snapshot


# The memo is one transaction's view of the rules; the transaction's own changes to them must
# show in it (the token changes with them, in this transaction): it is dropped when a flush or
# a statement of this session writes to a table of the rules, and when a savepoint ends (its
# rollback takes back the change and the token with it). The next read then checks the token
# again (one read; the process's snapshot is kept while the token stays).
_RULE_TABLES = frozenset(cls.__table__.name for cls in (  # type: ignore[attr-defined]
    CalendarOverrideRow, DeadlineRuleRow, RuleProfileRow))
_RULE_CLASSES = (CalendarOverrideRow, DeadlineRuleRow, RuleProfileRow)


@event.listens_for(Session, "after_flush")
def _forget_after_flush(session: Session, flush_context: UOWTransaction) -> None:
    if _MEMO in session.info and any(
            isinstance(row, _RULE_CLASSES)
            for rows in (session.new, session.dirty, session.deleted) for row in rows):
        session.info.pop(_MEMO, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_after_write(state: ORMExecuteState) -> None:
    if _MEMO not in state.session.info or state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if not isinstance(table, Table) or table.name in _RULE_TABLES:
        state.session.info.pop(_MEMO, None)  # a write to the rules, or one of unknown target


@event.listens_for(Session, "after_transaction_end")
def _forget_after_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.pop(_MEMO, None)


def load_calendar(session: Session) -> WorkingCalendar:
    return rules_snapshot(session).calendar


def load_rules(session: Session) -> Mapping[str, DeadlineRule]:
    """The rules in force: the regional profile's limits with the stored overrides."""
    return rules_snapshot(session).profile.rules


def load_profile(session: Session) -> Profile:
    """The profile in force, with its local changes and rules (wbs.profiles.store.in_force)."""
    return rules_snapshot(session).profile


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
