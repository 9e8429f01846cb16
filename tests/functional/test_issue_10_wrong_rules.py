"""Issue 10, "Wrong today": three rules the portal got wrong for some regulations.

1. A reporter's reply after an answer is a response (Perbup Belitung Timur 79/2022 Ps 24(2),
   27(1)): it stops the automatic closing and reaches the handler; every reporter message
   notifies the unit holding the case, in the reporter-caused notice batches.
2. Every limit shown is generated from the rule in force, never a fixed "10 hari kerja".
3. When a limit starts is part of the rule: Belitung Timur counts the answer from receipt in
   the system (Ps 24(1)), not from the disposition.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock
from tests.functional.test_jobs import (
    LIAISON,
    UNIT,
    case_of,
    deadline,
    dispose,
    go_to,
    run,
    staff,
    submit,
)
from tests.functional.test_roundtrip import open_mailbox
from wbs.cases import calendar_admin, reporter, routing
from wbs.cases.sla import WorkingCalendar
from wbs.context import Context
from wbs.enums import ReportKind
from wbs.models import Case, Message, Notice, Unit, User

CALENDAR = WorkingCalendar()


def _notices(ctx: Context, number: str, kind: str) -> list[tuple[str, bool]]:
    """(unit slug, held for a batch) of every notice of this kind about the case."""
    with ctx.db() as s:
        rows = s.execute(select(Unit.slug, Notice.batch_at).join(User, User.unit_id == Unit.id)
                         .join(Notice, Notice.user_id == User.id)
                         .join(Case, Case.id == Notice.case_id)
                         .where(Case.case_number == number, Notice.kind == kind)).all()
    return sorted({(slug, batch is not None) for slug, batch in rows})


def _access(ctx: Context, code: str) -> reporter.ReporterAccess:
    access = reporter.access_by_code(ctx, code)
    assert access is not None
    return access


# --- 1. a reply after an answer ----------------------------------------------------------------

def test_a_question_after_the_answer_stops_the_auto_close_and_reaches_the_handler(
        ctx: Context, demo: Any, clock: Clock) -> None:
    # The case of the issue: answered early July, a question on 3 July, closed on 16 July.
    sub = submit(ctx)
    dispose(ctx, demo, clock, sub.case_number, 5)
    go_to(ctx, clock, date(2026, 7, 2))
    liaison = staff(ctx, demo, clock, LIAISON)
    routing.start_processing(ctx, liaison, sub.case_number)
    routing.answer(ctx, liaison, sub.case_number, "Pungutan dihentikan dan dikembalikan.")
    window_end = deadline(ctx, sub.case_number, "objection").due_on
    # Hand-counted: 3, 6-10, 13-16 July 2026 are ten working days (no holiday in between).
    assert window_end == date(2026, 7, 16)

    go_to(ctx, clock, date(2026, 7, 3))
    reporter.post_message(ctx, _access(ctx, sub.code), "Kapan uang kami dikembalikan?")

    # The handler hears of it, in the next batch (the reporter's time of day is not told).
    assert _notices(ctx, sub.case_number, "response") == [(UNIT, True)]
    # The clock stopped: the answer must be explained again, within a new answer limit.
    assert deadline(ctx, sub.case_number, "objection").met_on == date(2026, 7, 3)
    assert case_of(ctx, sub.case_number).state == "in_process"
    answer_due = deadline(ctx, sub.case_number, "answer")
    assert answer_due.met_on is None and answer_due.start_on == date(2026, 7, 3)
    with ctx.db() as s:
        kinds = s.scalars(select(Message.kind).join(Case).where(
            Case.case_number == sub.case_number, Message.author_kind == "reporter")).all()
    assert kinds == ["response"]

    go_to(ctx, clock, date(2026, 7, 17))
    assert run(ctx).closed == 0
    assert case_of(ctx, sub.case_number).state == "in_process"

    # The handler explains again; the reporter then has a fresh window.
    liaison = staff(ctx, demo, clock, LIAISON)
    routing.answer(ctx, liaison, sub.case_number, "Uang dikembalikan pada 20 Juli 2026.")
    assert case_of(ctx, sub.case_number).state == "answered"
    assert deadline(ctx, sub.case_number, "objection").start_on == date(2026, 7, 17)


def test_every_reporter_message_notifies_the_unit_holding_the_case(
        ctx: Context, demo: Any, clock: Clock) -> None:
    received, in_process = submit(ctx), submit(ctx)
    whistle = submit(ctx, ReportKind.WHISTLEBLOWING)
    dispose(ctx, demo, clock, in_process.case_number, 14)
    routing.start_processing(ctx, staff(ctx, demo, clock, LIAISON), in_process.case_number)

    for sub in (received, in_process, whistle):
        reporter.post_message(ctx, _access(ctx, sub.code), "Saya menambahkan keterangan.")

    with ctx.db() as s:
        verifier_team, apip = (s.scalars(select(Unit.slug).where(Unit.kind == kind)).one()
                               for kind in ("verifier_team", "apip"))
    assert _notices(ctx, received.case_number, "reporter_message") == [(verifier_team, True)]
    assert _notices(ctx, in_process.case_number, "reporter_message") == [(UNIT, True)]
    # A whistleblowing report is APIP's alone: no verifier hears of it.
    assert _notices(ctx, whistle.case_number, "reporter_message") == [(apip, True)]
    # A plain message on a case in process changes nothing but the notice.
    assert case_of(ctx, in_process.case_number).state == "in_process"


# --- 2. the texts follow the rules ---------------------------------------------------------------

def test_the_mailbox_and_staff_pages_show_the_limits_in_force(
        ctx: Context, demo: Any, clock: Clock, client: TestClient) -> None:
    # Jayapura: missing data within 30 calendar days; objection window changed too.
    calendar_admin.set_rule(ctx, "admin", "administrator", "missing_data", 30, "calendar_days")
    calendar_admin.set_rule(ctx, "admin", "administrator", "objection", 15, "calendar_days")
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_5", 5, "calendar_days")
    sub = submit(ctx)
    routing.request_info(ctx, staff(ctx, demo, clock, "verifikator"), sub.case_number,
                         "Mohon lampirkan bukti pembayaran.")
    open_mailbox(client, sub.code)
    page = client.get("/kotak-pesan", headers={"Accept-Language": "id"}).text
    assert "10 hari kerja" not in page
    assert "30 hari" in page
    # The day the window ends, as stored: 2 March 2026 + 30 days.
    assert "1 April 2026" in page

    other = submit(ctx)
    dispose(ctx, demo, clock, other.case_number, 5)
    liaison = staff(ctx, demo, clock, LIAISON)
    routing.start_processing(ctx, liaison, other.case_number)
    routing.answer(ctx, liaison, other.case_number, "Pungutan dihentikan dan dikembalikan.")
    client.cookies.clear()
    open_mailbox(client, other.code)
    page = client.get("/kotak-pesan", headers={"Accept-Language": "id"}).text
    assert "10 hari kerja" not in page
    assert "15 hari" in page


# --- 3. when a limit starts ----------------------------------------------------------------------

def test_the_answer_limit_can_count_from_receipt_in_the_system(
        ctx: Context, demo: Any, clock: Clock) -> None:
    # Belitung Timur Ps 24(1): the answer limit runs from receipt in the system.
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_14", 14, "working_days",
                            start="receipt")
    filed_on = date(2026, 3, 13)  # a Friday; Nyepi and Idul Fitri follow
    go_to(ctx, clock, filed_on)
    sub = submit(ctx)
    go_to(ctx, clock, date(2026, 3, 26))  # disposed nine calendar days later
    dispose(ctx, demo, clock, sub.case_number, 14)
    row = deadline(ctx, sub.case_number, "answer")
    assert row.start_on == filed_on
    # Hand-counted: 16, 17 March; 18-24 March are Nyepi, Idul Fitri and cuti bersama; 25-27,
    # 30, 31 March, 1, 2 April (3 April Good Friday), 6-10 April: the 14th is 10 April 2026.
    assert row.due_on == date(2026, 4, 10)

    # The default (Sanggau) counts from the disposition, as before.
    other = submit(ctx)
    dispose(ctx, demo, clock, other.case_number, 5)
    assert deadline(ctx, other.case_number, "answer").start_on == date(2026, 3, 26)
