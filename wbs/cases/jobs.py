"""The workflow jobs (DESIGN §5, RULES §5, §6): archive, close, remind and escalate by the clock.

`run_workflow_jobs` is run by `wbs jobs run` (cron) and by the loop in `wbs serve`, possibly on
several nodes and possibly twice at once, so it is idempotent and safe under overlap:

* it only *selects candidate case ids* up front; each case is then handled in its own
  transaction that first locks the case row (FOR UPDATE on PostgreSQL; on SQLite the engine's
  BEGIN IMMEDIATE already holds the write lock) and re-checks every condition against what is
  committed now, so a case another runner finished in the meantime is simply skipped;
* every act leaves a mark in the same transaction (the new state, `Deadline.enforced_on`,
  `reminded_on`, `escalated_on`) together with its audit row, so a second run finds nothing to do;
* on PostgreSQL a session-level advisory lock keeps the whole run to one node at a time: a
  second node skips the run instead of queuing behind the first.

Deadlines that the reporter owes (missing data, objection) are *enforced*, never escalated: a
late reporter is not a late handler, and the case ends by auto-archive or auto-close instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.orm import Session

from wbs import audit, logs, notices
from wbs.cases import deadlines, routing
from wbs.cases.workflow import TERMINAL_STATES, Action
from wbs.context import Context
from wbs.enums import CaseState, ReportKind, UnitKind
from wbs.models import Case, CaseTask, Deadline, Unit
from wbs.profiles import store
from wbs.profiles.model import AutoArchive, AutoClose, Profile, Reminded

# pg_advisory_lock key of the jobs run: the ASCII bytes of "wbs-jobs" as a (positive) bigint.
# The lock is per schema: two instances sharing one PostgreSQL database in different schemas
# (the test suite's runs, a staging copy) must not hold each other's jobs back.
JOBS_LOCK_CLASS = int.from_bytes(b"wbsj", "big")  # fits PostgreSQL's int4 key
LOCK_SQL = text("SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))")
UNLOCK_SQL = text("SELECT pg_advisory_unlock(:key, hashtext(current_schema()))")

# Reporter-owed deadlines and what the system does once they pass (RULES §5, §6).
ENFORCED: Mapping[str, tuple[CaseState, Action]] = MappingProxyType({
    "missing_data": (CaseState.NEEDS_INFO, Action.AUTO_ARCHIVE),
    "objection": (CaseState.ANSWERED, Action.AUTO_CLOSE),
})
_TERMINAL = tuple(state.value for state in TERMINAL_STATES)


@dataclass
class JobReport:
    archived: int = 0
    closed: int = 0
    reminded: int = 0
    escalated: int = 0
    failed: int = 0
    # True when another node held the jobs lock and this run did nothing.
    skipped: bool = False

    def as_counts(self) -> dict[str, int]:
        return {"archived": self.archived, "closed": self.closed, "reminded": self.reminded,
                "escalated": self.escalated, "failed": self.failed,
                "skipped": int(self.skipped)}


@contextmanager
def single_runner(ctx: Context) -> Iterator[bool]:
    """Yield whether this process may run the jobs now.

    On PostgreSQL: a session-level `pg_try_advisory_lock`, on a connection of its own held for
    the whole run, so it does not depend on (or hold open) any one transaction; it is released
    at the end, and by the server if the process dies. Elsewhere (SQLite, one machine) always
    True: the per-case locking below is what keeps overlapping runs from acting twice.
    """
    if ctx.engine.dialect.name != "postgresql":
        yield True
        return
    with ctx.engine.connect() as conn:
        got = bool(conn.execute(LOCK_SQL, {"key": JOBS_LOCK_CLASS}).scalar_one())
        # End the implicit transaction: a session-level lock outlives it, and an idle open
        # transaction would hold back vacuum for the length of the run.
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(UNLOCK_SQL, {"key": JOBS_LOCK_CLASS})
                conn.commit()


def run_workflow_jobs(ctx: Context, *, lock: bool = True) -> JobReport:
    """Archive, close, remind and escalate what is due today; see the module docstring.

    `lock=False` is for a caller that already holds `single_runner` (`wbs.jobs.run_all`).
    """
    if lock:
        with single_runner(ctx) as mine:
            return _run(ctx) if mine else JobReport(skipped=True)
    return _run(ctx)


def _run(ctx: Context) -> JobReport:
    report = JobReport()
    today = ctx.today()
    for case_id in _candidates(ctx, today):
        try:
            with ctx.db.begin() as session:
                _process_case(session, ctx, case_id, today, report)
        except Exception as exc:  # noqa: BLE001 - one broken case must not stop the others
            # Logged by type and location only: an exception message can carry data.
            report.failed += 1
            logs.event("jobs.case_failed", logging.ERROR, case_id=case_id,
                       **logs.safe_exception_fields(exc))
    return report


def _candidates(ctx: Context, today: date) -> list[int]:
    """Ids of the cases that may need an act today; each is re-checked under its lock."""
    open_ = Deadline.met_on.is_(None)
    with ctx.db.begin() as session:
        enforce = select(Deadline.case_id).join(Case, Case.id == Deadline.case_id).where(
            open_, Deadline.enforced_on.is_(None), Deadline.kind.in_(list(ENFORCED)),
            Deadline.due_on < today,
            Case.state.in_([state.value for state, _ in ENFORCED.values()]))
        remind = select(Deadline.case_id).join(Case, Case.id == Deadline.case_id).where(
            open_, Deadline.kind == "answer", Deadline.reminded_on.is_(None),
            Deadline.remind_on <= today, Deadline.due_on >= today, Case.state.not_in(_TERMINAL))
        escalate = select(Deadline.case_id).join(Case, Case.id == Deadline.case_id).where(
            open_, Deadline.escalated_on.is_(None), Deadline.due_on < today,
            Deadline.kind.not_in(list(ENFORCED)),
            or_(Case.state.not_in(_TERMINAL),
                and_(Case.state == CaseState.CLOSED.value,
                     Deadline.kind.in_(deadlines.SURVIVE_CLOSING))))
        staff_decide = select(Deadline.case_id).join(Case, Case.id == Deadline.case_id).where(
            open_, Deadline.escalated_on.is_(None), Deadline.due_on < today,
            Deadline.kind == "missing_data", Case.state.not_in(_TERMINAL))
        ids: set[int] = set()
        for query in (enforce, remind, escalate, staff_decide):
            ids.update(session.scalars(query))
    return sorted(ids)


def _process_case(session: Session, ctx: Context, case_id: int, today: date,
                  report: JobReport) -> None:
    # The row lock serializes this with every other runner (and staff act) on the case; what
    # follows reads the deadlines as committed now, not as they were when candidates were read.
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if case is not None and case.state == CaseState.CLOSED.value:
        # Only a compensation decision or its delivery can still be open (SURVIVE_CLOSING).
        _escalate(session, ctx, case, today, report)
        return
    if case is None or case.state in _TERMINAL:
        return
    if _enforce(session, ctx, case, today, report):
        return  # archived or closed: every deadline of the case is met now.
    _remind(session, ctx, case, today, report)
    _escalate(session, ctx, case, today, report)


def _open_rows(session: Session, case: Case,
               *conditions: ColumnElement[bool]) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(
        Deadline.case_id == case.id, Deadline.met_on.is_(None), *conditions)
        .order_by(Deadline.due_on, Deadline.id)))


def _enforced(profile: Profile) -> Mapping[str, tuple[CaseState, Action]]:
    """The reporter-owed deadlines the regional profile lets the system enforce: Jayapura
    leaves archiving to staff (Ps 14(4)) and closes only on satisfaction (Ps 16(8))."""
    kinds = dict(ENFORCED)
    if profile.auto_archive is not AutoArchive.ON:
        del kinds["missing_data"]
    if profile.auto_close is not AutoClose.SILENCE:
        del kinds["objection"]
    return kinds


def _enforce(session: Session, ctx: Context, case: Case, today: date,
             report: JobReport) -> bool:
    for kind, (state, action) in _enforced(store.in_force(session)).items():
        if case.state != state.value:
            continue
        rows = _open_rows(session, case, Deadline.kind == kind, Deadline.enforced_on.is_(None),
                          Deadline.due_on < today)
        # The pure rules have the last word (they recount the limit with today's calendar and
        # rules); a refusal leaves the case for a later run. system_act writes the state, the
        # timeline event and the audit row.
        if rows and routing.system_act(session, ctx, case, action):
            for row in rows:
                row.enforced_on = today
            if action is Action.AUTO_ARCHIVE:
                report.archived += 1
            else:
                report.closed += 1
            return True
    return False


def _audit(session: Session, ctx: Context, case: Case, action: str, row: Deadline,
           unit_id: int, notified: int) -> None:
    audit.record(session, ctx.audit_keys, actor="system", role="system", action=action,
                 case_number=case.case_number,
                 details={"deadline": row.kind, "due_on": row.due_on.isoformat(),
                          "task": row.task_id, "unit": unit_id, "notified": notified},
                 now=ctx.now())


def _remind(session: Session, ctx: Context, case: Case, today: date, report: JobReport) -> None:
    """RULES §5: remind the handling unit 3 / 8 / 35 working days before the 5 / 14 / 60 limit.

    A reminder whose whole window passed unseen (no run until after the due date) is not sent
    late: the overdue notice and the escalation take its place."""
    rows = _open_rows(session, case, Deadline.kind == "answer", Deadline.reminded_on.is_(None),
                      Deadline.remind_on <= today, Deadline.due_on >= today)
    reminded = store.in_force(session).reminded
    # The regulations' monitor is the Admin Instansi / Tim too (RULES §5), never for a case
    # that a verifier must not see (RULES §1-2).
    teams = [] if (Reminded.VERIFIER_TEAM not in reminded or case.at_apip
                   or case.kind == ReportKind.WHISTLEBLOWING.value) else _unit_ids(
        session, UnitKind.VERIFIER_TEAM)
    for row in rows:
        unit_id = _responsible_unit(session, case, row)
        notified = 0
        if Reminded.HANDLING_UNIT in reminded:
            notified += notices.notify_unit(session, ctx, case, unit_id, "reminder", row.due_on)
        for team in teams:
            if team != unit_id:
                notified += notices.notify_unit(session, ctx, case, team, "reminder",
                                                row.due_on)
        row.reminded_on = today
        _audit(session, ctx, case, "deadline.remind", row, unit_id, notified)
        report.reminded += 1


def _escalate(session: Session, ctx: Context, case: Case, today: date,
              report: JobReport) -> None:
    rows = _open_rows(session, case, Deadline.escalated_on.is_(None), Deadline.due_on < today,
                      Deadline.kind.not_in(list(ENFORCED)))
    if store.in_force(session).auto_archive is AutoArchive.STAFF:
        # Staff decide (Jayapura Ps 14(4)): the holder is told once that the reporter's time
        # for data has passed; the reporter is not late for anyone, so nothing escalates.
        for row in _open_rows(session, case, Deadline.kind == "missing_data",
                              Deadline.escalated_on.is_(None), Deadline.due_on < today):
            holder = _responsible_unit(session, case, row)
            notified = notices.notify_unit(session, ctx, case, holder, "overdue", row.due_on)
            row.escalated_on = today
            _audit(session, ctx, case, "deadline.staff_decide", row, holder, notified)
    if not rows:
        return
    verifier_teams = _unit_ids(session, UnitKind.VERIFIER_TEAM)
    # RULES §1-2: no verifier sees a whistleblowing case or one at APIP, not even its number
    # in a notice. Applied to every recipient, the responsible unit included, as a last guard.
    forbidden = set(verifier_teams) if (
        case.kind == ReportKind.WHISTLEBLOWING.value or case.at_apip) else set()
    overseers = [u for u in _unit_ids(session, UnitKind.LEADERSHIP) + verifier_teams
                 if u not in forbidden]
    for row in rows:
        responsible = _responsible_unit(session, case, row)
        notified = 0
        if responsible not in forbidden:
            notified += notices.notify_unit(session, ctx, case, responsible, "overdue",
                                            row.due_on)
        for unit_id in overseers:
            if unit_id != responsible:  # the responsible unit already has its overdue notice
                notified += notices.notify_unit(session, ctx, case, unit_id, "escalation",
                                                row.due_on)
        row.escalated_on = today
        _audit(session, ctx, case, "deadline.escalate", row, responsible, notified)
        report.escalated += 1


def _unit_ids(session: Session, kind: UnitKind) -> list[int]:
    return list(session.scalars(select(Unit.id).where(Unit.kind == kind.value)
                                .order_by(Unit.id)))


def _responsible_unit(session: Session, case: Case, row: Deadline) -> int:
    """The task's unit, else the case's current holder: APIP if at APIP, else the receiver."""
    if row.task_id is not None:
        task = session.get(CaseTask, row.task_id)
        if task is not None:
            return task.unit_id
    if case.at_apip:
        apip = _unit_ids(session, UnitKind.APIP)
        if apip:
            return apip[0]
    return case.receiving_unit_id
