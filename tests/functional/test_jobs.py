"""The workflow jobs (RULES §5, §6; DESIGN §5): auto-archive, auto-close, reminders and
escalation by the working-day calendar, acting exactly once however often and however many
times at once they run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock, totp_now
from wbs import accounts, jobs
from wbs.accounts import StaffIdentity
from wbs.cases import intake, reporter, routing, service
from wbs.cases.jobs import JOBS_LOCK_CLASS, LOCK_SQL, UNLOCK_SQL, JobReport, run_workflow_jobs
from wbs.cases.sla import WorkingCalendar
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.db import make_engine, make_sessionmaker
from wbs.enums import Channel, ReportKind
from wbs.models import AuditEntry, Case, CaseEvent, Deadline, Notice, User

CALENDAR = WorkingCalendar()
MONDAY = date(2026, 3, 2)  # the clock fixture's first day
LIAISON = "penghubung.pendidikan"
UNIT = "dinas-pendidikan"


# --- helpers ---------------------------------------------------------------------------------

def staff(ctx: Context, demo: Any, clock: Clock, username: str) -> StaffIdentity:
    """Sign in through the real service. Each sign-in moves the clock one TOTP step, because a
    code is accepted once per step; staff sessions idle out, so sign in again after moving."""
    clock.advance(seconds=30)
    creds = demo[username]
    result = accounts.sign_in(ctx, username, creds["password"],
                              totp_now(creds["totp_secret"], clock), "test-client")
    identity = accounts.load_session(ctx, result.token)
    assert identity is not None
    return identity


def submit(ctx: Context, kind: ReportKind = ReportKind.COMPLAINT) -> intake.Submission:
    report = intake.ReportInput(kind=kind, title="Pungutan ujian",
                                what="Sekolah memungut biaya ujian.")
    return intake.submit(ctx, report, [], Channel.WEB)


def verifier(ctx: Context, demo: Any, clock: Clock, number: str) -> StaffIdentity:
    v = staff(ctx, demo, clock, "verifikator")
    service.state_purpose(ctx, v, number, "Verifikasi dan disposisi")
    return v


def dispose(ctx: Context, demo: Any, clock: Clock, number: str, days: int) -> None:
    # 60 working days only for oversight content with a field check (RULES §5).
    routing.verify_and_dispose(ctx, verifier(ctx, demo, clock, number), number,
                               classification="needs_oversight" if days == 60
                               else "no_oversight", resolution_days=days,
                               unit_slugs=[UNIT])


def ask_for_data(ctx: Context, demo: Any, clock: Clock) -> str:
    number = submit(ctx).case_number
    routing.request_info(ctx, verifier(ctx, demo, clock, number), number,
                         "Mohon lampirkan bukti pembayaran.")
    return number


def go_to(ctx: Context, clock: Clock, day: date) -> None:
    assert day >= ctx.today(), "time only moves forward"
    clock.advance(days=(day - ctx.today()).days)
    assert ctx.today() == day


def run(ctx: Context) -> JobReport:
    report = run_workflow_jobs(ctx)
    assert report.failed == 0 and not report.skipped
    return report


def case_of(ctx: Context, number: str) -> Case:
    with ctx.db() as s:
        return s.scalars(select(Case).where(Case.case_number == number)).one()


def deadline(ctx: Context, number: str, kind: str) -> Deadline:
    """The latest deadline of this kind on the case."""
    with ctx.db() as s:
        row = s.scalars(select(Deadline).join(Case).where(
            Case.case_number == number, Deadline.kind == kind)
            .order_by(Deadline.id.desc())).first()
    assert row is not None
    return row


def audit_rows(ctx: Context, action_suffix: str, number: str | None = None) -> list[AuditEntry]:
    # Matched by suffix: routing names its transitions "case.transition.<action>".
    with ctx.db() as s:
        query = select(AuditEntry).where(AuditEntry.action.like(f"%{action_suffix}"))
        if number is not None:
            query = query.where(AuditEntry.case_number == number)
        return list(s.scalars(query.order_by(AuditEntry.seq)))


def notices(ctx: Context, number: str, kind: str | None = None) -> set[tuple[str, str]]:
    """(username, kind) of every notice about the case."""
    with ctx.db() as s:
        query = (select(User.username, Notice.kind).join(User, User.id == Notice.user_id)
                 .join(Case, Case.id == Notice.case_id).where(Case.case_number == number))
        if kind is not None:
            query = query.where(Notice.kind == kind)
        return {(u, k) for u, k in s.execute(query)}


# --- auto-archive ----------------------------------------------------------------------------

def test_missing_data_archived_after_ten_working_days_counting_holidays(
        ctx: Context, demo: Any, clock: Clock) -> None:
    # Asked on Friday 13 March 2026: Nyepi, Idul Fitri with its cuti bersama (18-24 March) and
    # Good Friday (3 April) are not working days, so the 10th working day is Monday 6 April.
    go_to(ctx, clock, date(2026, 3, 13))
    number = ask_for_data(ctx, demo, clock)
    due = deadline(ctx, number, "missing_data").due_on
    assert due == date(2026, 4, 6) == CALENDAR.add_working_days(date(2026, 3, 13), 10)
    assert CALENDAR.holiday_name(date(2026, 3, 19)) and CALENDAR.holiday_name(date(2026, 4, 3))

    go_to(ctx, clock, date(2026, 3, 27))  # ten weekdays later, but not ten working days
    assert run(ctx).archived == 0
    go_to(ctx, clock, due)  # the last day still belongs to the reporter
    assert run(ctx) == JobReport()
    assert case_of(ctx, number).state == "needs_info"

    go_to(ctx, clock, CALENDAR.add_working_days(due, 1))
    report = run(ctx)
    assert (report.archived, report.closed, report.escalated) == (1, 0, 0)
    case = case_of(ctx, number)
    assert (case.state, case.outcome) == ("archived", "archived_no_data")
    row = deadline(ctx, number, "missing_data")
    assert row.enforced_on == row.met_on == ctx.today()
    [entry] = audit_rows(ctx, "auto_archive", number)
    assert (entry.actor, entry.role, entry.outcome) == ("system", "system", "allowed")
    with ctx.db() as s:
        events = s.execute(select(CaseEvent.state, CaseEvent.on, CaseEvent.note_key)
                           .where(CaseEvent.case_id == case.id)).all()
    assert ("archived", ctx.today(), "auto_archive") in events

    # Again the same day, and the next: nothing more to do, nothing more written.
    assert run(ctx) == JobReport()
    clock.advance(days=1)
    assert run(ctx) == JobReport()
    assert len(audit_rows(ctx, "auto_archive", number)) == 1


def test_supplied_data_is_never_archived(ctx: Context, demo: Any, clock: Clock) -> None:
    sub = submit(ctx)
    routing.request_info(ctx, verifier(ctx, demo, clock, sub.case_number), sub.case_number,
                         "Mohon lampirkan bukti pembayaran.")
    access = reporter.access_by_code(ctx, sub.code)
    assert access is not None
    clock.advance(days=1)
    reporter.post_message(ctx, access, "Bukti pembayaran sudah saya lampirkan.")
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 30))
    assert run(ctx).archived == 0
    assert case_of(ctx, sub.case_number).state != "archived"


# --- auto-close ------------------------------------------------------------------------------

def test_answered_case_closes_unless_the_reporter_objects(ctx: Context, demo: Any,
                                                          clock: Clock) -> None:
    quiet, objecting = submit(ctx), submit(ctx)
    for sub in (quiet, objecting):
        dispose(ctx, demo, clock, sub.case_number, 5)
    answered_on = date(2026, 3, 4)
    go_to(ctx, clock, answered_on)
    liaison = staff(ctx, demo, clock, LIAISON)
    for sub in (quiet, objecting):
        routing.start_processing(ctx, liaison, sub.case_number)
        routing.answer(ctx, liaison, sub.case_number, "Pungutan dihentikan dan dikembalikan.")
    window_end = deadline(ctx, quiet.case_number, "objection").due_on
    assert window_end == CALENDAR.add_working_days(answered_on, 10) == date(2026, 3, 25)

    go_to(ctx, clock, date(2026, 3, 17))  # inside the window
    access = reporter.access_by_code(ctx, objecting.code)
    assert access is not None
    routing.reporter_act(ctx, access, Action.REPORTER_OBJECTS,
                         "Uang belum dikembalikan kepada kami.")

    go_to(ctx, clock, window_end)
    assert run(ctx).closed == 0
    go_to(ctx, clock, window_end + timedelta(days=1))
    assert run(ctx).closed == 1
    assert case_of(ctx, quiet.case_number).state == "closed"
    assert case_of(ctx, objecting.case_number).state == "in_process"
    assert deadline(ctx, quiet.case_number, "objection").enforced_on == ctx.today()
    [entry] = audit_rows(ctx, "auto_close", quiet.case_number)
    assert (entry.actor, entry.role) == ("system", "system")
    assert audit_rows(ctx, "auto_close", objecting.case_number) == []
    assert run(ctx).closed == 0


# --- reminders -------------------------------------------------------------------------------

def test_reminders_3_8_35_working_days_before_the_5_14_60_day_limits_once(
        ctx: Context, demo: Any, clock: Clock) -> None:
    before = {5: 3, 14: 8, 60: 35}
    numbers = {days: submit(ctx).case_number for days in before}
    for days, number in numbers.items():
        dispose(ctx, demo, clock, number, days)
    rows = {days: deadline(ctx, number, "answer") for days, number in numbers.items()}
    for days, row in rows.items():
        assert row.due_on == CALENDAR.add_working_days(MONDAY, days)
        assert row.remind_on is not None
        assert CALENDAR.working_days_between(row.remind_on, row.due_on) == before[days]
        assert CALENDAR.is_working_day(row.remind_on)

    for days in sorted(before, key=lambda d: rows[d].remind_on or MONDAY):
        number, row = numbers[days], rows[days]
        assert row.remind_on is not None
        go_to(ctx, clock, row.remind_on - timedelta(days=1))
        run(ctx)
        assert deadline(ctx, number, "answer").reminded_on is None
        assert notices(ctx, number, "reminder") == set()

        go_to(ctx, clock, row.remind_on)
        assert run(ctx).reminded == 1
        assert run(ctx).reminded == 0  # the same day again
        clock.advance(days=1)
        assert run(ctx).reminded == 0  # and the next day
        assert deadline(ctx, number, "answer").reminded_on == row.remind_on
        # RULES §5 (sanggau, the default profile): the handling unit and the verifier team.
        assert notices(ctx, number, "reminder") == {(LIAISON, "reminder"),
                                                    ("verifikator", "reminder")}
        [entry] = audit_rows(ctx, "deadline.remind", number)
        assert (entry.actor, entry.role) == ("system", "system")
        with ctx.db() as s:
            due_ons = set(s.scalars(select(Notice.due_on).where(Notice.kind == "reminder")
                                    .join(Case).where(Case.case_number == number)).all())
        assert due_ons == {row.due_on}


# --- escalation ------------------------------------------------------------------------------

def test_escalation_never_reaches_the_verifier_team_for_apip_cases(
        ctx: Context, demo: Any, clock: Clock) -> None:
    whistle = submit(ctx, ReportKind.WHISTLEBLOWING).case_number
    handed = submit(ctx).case_number
    routing.hand_to_apip(ctx, verifier(ctx, demo, clock, handed), handed,
                         "Dugaan penyalahgunaan wewenang oleh pejabat.")
    unverified = submit(ctx).case_number
    disposed = submit(ctx).case_number
    dispose(ctx, demo, clock, disposed, 5)

    verification_due = CALENDAR.add_working_days(MONDAY, 3)
    go_to(ctx, clock, verification_due)
    assert run(ctx).escalated == 0
    go_to(ctx, clock, verification_due + timedelta(days=1))
    assert run(ctx).escalated == 3

    apip = {("investigator", "overdue"), ("investigator2", "overdue")}
    for number in (whistle, handed):
        assert apip | {("pimpinan", "escalation")} <= notices(ctx, number)
        assert not {(u, k) for u, k in notices(ctx, number) if u == "verifikator"
                    and k in ("overdue", "escalation")}
    # A whistleblowing case: the verifier team is not told of it at all, ever.
    assert not {u for u, _ in notices(ctx, whistle)} & {"verifikator"}
    # A complaint nobody verified: the verifier team is the one that is late.
    assert notices(ctx, unverified, "overdue") == {("verifikator", "overdue")}
    assert notices(ctx, unverified, "escalation") == {("pimpinan", "escalation")}

    answer_due = deadline(ctx, disposed, "answer").due_on
    go_to(ctx, clock, answer_due + timedelta(days=1))
    assert run(ctx).escalated == 1
    assert notices(ctx, disposed, "overdue") == {(LIAISON, "overdue")}
    assert notices(ctx, disposed, "escalation") == {("verifikator", "escalation"),
                                                    ("pimpinan", "escalation")}

    clock.advance(days=1)
    assert run(ctx).escalated == 0
    for number in (whistle, handed, unverified, disposed):
        [entry] = audit_rows(ctx, "deadline.escalate", number)
        assert (entry.actor, entry.role) == ("system", "system")
        assert deadline(ctx, number, "answer" if number == disposed
                        else "verification").escalated_on is not None


# --- running twice, and twice at once --------------------------------------------------------

def test_running_twice_acts_once(ctx: Context, demo: Any, clock: Clock) -> None:
    numbers = [ask_for_data(ctx, demo, clock) for _ in range(3)]
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 11))
    first, second = jobs.run_all(ctx), jobs.run_all(ctx)
    assert first["archived"] == 3 and first["failed"] == 0
    assert second["archived"] == second["escalated"] == second["reminded"] == 0
    assert second["audit_tree_size"] == first["audit_tree_size"]
    assert sorted(e.case_number or "" for e in audit_rows(ctx, "auto_archive")) == sorted(numbers)


def _second_context(ctx: Context) -> Context:
    engine = make_engine(ctx.settings.database_url)
    return Context(settings=ctx.settings, keys=ctx.keys, engine=engine,
                   db=make_sessionmaker(engine), kdf=ctx.kdf, clock=ctx.clock)


def _concurrently(contexts: list[Context], job: Callable[[Context], Any]) -> list[Any]:
    barrier = threading.Barrier(len(contexts))
    results: list[Any] = [None] * len(contexts)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = job(contexts[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(contexts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize("job", ["workflow_locked", "workflow_unlocked", "run_all"])
def test_concurrent_runs_act_once(ctx: Context, demo: Any, clock: Clock, job: str) -> None:
    """Two nodes (own engine each) at the same moment: every case archived exactly once.

    `workflow_unlocked` leaves out the PostgreSQL advisory lock, so only the per-case row locks
    and re-checks stand between the two runs."""
    numbers = [ask_for_data(ctx, demo, clock) for _ in range(6)]
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 11))
    other = _second_context(ctx)
    try:
        calls: dict[str, Callable[[Context], Any]] = {
            "workflow_locked": lambda c: run_workflow_jobs(c).as_counts(),
            "workflow_unlocked": lambda c: run_workflow_jobs(c, lock=False).as_counts(),
            "run_all": jobs.run_all,
        }
        results = _concurrently([ctx, other], calls[job])
    finally:
        other.engine.dispose()
    assert sum(r.get("archived", 0) for r in results) == 6
    assert all(r.get("failed", 0) == 0 for r in results)
    archived = [e.case_number or "" for e in audit_rows(ctx, "auto_archive")]
    assert sorted(archived) == sorted(numbers)  # one row per case
    assert {case_of(ctx, n).state for n in numbers} == {"archived"}


def test_a_second_node_skips_while_the_lock_is_held(ctx: Context, demo: Any,
                                                    clock: Clock) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the jobs advisory lock is PostgreSQL's; SQLite is one machine")
    number = ask_for_data(ctx, demo, clock)
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 11))
    with ctx.engine.connect() as holder:
        assert holder.execute(LOCK_SQL, {"key": JOBS_LOCK_CLASS}).scalar_one()
        holder.commit()
        assert run_workflow_jobs(ctx) == JobReport(skipped=True)
        assert jobs.run_all(ctx) == {"skipped": 1}
        assert case_of(ctx, number).state == "needs_info"
        holder.execute(UNLOCK_SQL, {"key": JOBS_LOCK_CLASS})
        holder.commit()
    assert run(ctx).archived == 1
    # The run gave its lock back: the next one is not skipped.
    assert not run_workflow_jobs(ctx).skipped
