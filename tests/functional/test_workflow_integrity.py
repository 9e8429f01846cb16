"""Findings of the security review of the workflow, through the service layer (real sign-in,
crypto and database; no mocks). RULES §5, §6, §7: handlers must never stop the processing of a
complaint, and a reporter's running window is theirs.

H2. A case handed to APIP (by the verifier, or at the reporter's request after an answer) ends
    every other unit's share, answered ones included: an objection reopens APIP's task only, so
    APIP's answer finishes the case, and the liaison hears nothing more of it.
M1. One unit returning its disposition does not hand back to the verifier a case that another
    unit is still processing (where it could be archived or forwarded).
M2. The coordinating team closes only a case in dispute: overdue, or contested by the reporter.
M3. An administrator's change of a deadline rule never shortens a window already running.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    ANSWER,
    QUESTION,
    REASON,
    audit_action,
    audit_since,
    case_row,
    details,
    dispose,
    file_report,
    last_seq,
    notices_for_unit,
    reporter_access,
    sign_in,
    state_of,
    unit_id,
)
from wbs.accounts import StaffIdentity
from wbs.cases import calendar_admin, routing, service
from wbs.cases.jobs import run_workflow_jobs
from wbs.cases.sla import WorkingCalendar
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState
from wbs.models import Case, CaseTask, Deadline, Notice, Unit

S = CaseState
MONDAY = date(2026, 3, 2)  # the conftest clock's day in Asia/Jakarta
CALENDAR = WorkingCalendar()
USERS = ("verifikator", "penghubung.kesehatan", "penghubung.pendidikan", "investigator",
         "pimpinan", "admin")
OBJECTION = "Jawaban belum menyelesaikan masalah, mohon ditinjau."


@pytest.fixture
def staff(ctx: Context, demo: Any, clock: Clock) -> dict[str, StaffIdentity]:
    return {name: sign_in(ctx, demo, clock, name) for name in USERS}


def _tasks(ctx: Context, number: str) -> dict[str, str]:
    """Unit slug → task state (a unit with several tasks: the latest)."""
    with ctx.db() as s:
        rows = s.execute(select(Unit.slug, CaseTask.state).join(Unit, Unit.id == CaseTask.unit_id)
                         .join(Case, Case.id == CaseTask.case_id)
                         .where(Case.case_number == number).order_by(CaseTask.id)).all()
    return dict(rows)


def _open_deadlines(ctx: Context, number: str, kind: str) -> list[Deadline]:
    with ctx.db() as s:
        return list(s.scalars(select(Deadline).join(Case).where(
            Case.case_number == number, Deadline.kind == kind, Deadline.met_on.is_(None))))


def _snapshot(notices: list[Notice]) -> set[tuple[Any, ...]]:
    return {(n.id, n.kind, n.due_on, n.created_on, n.done_on) for n in notices}


def _go_to(ctx: Context, clock: Clock, day: date) -> None:
    assert day >= ctx.today()
    clock.advance(days=(day - ctx.today()).days)
    assert ctx.today() == day


def _object(ctx: Context, code: str, action: Action = Action.REPORTER_OBJECTS) -> CaseState:
    return routing.reporter_act(ctx, reporter_access(ctx, code), action, OBJECTION)


# =============================================================================================
# H2. After the hand-over to APIP, only APIP's task is ever reopened
# =============================================================================================

def test_reporter_takes_an_answered_case_to_apip_and_apip_finishes_it(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    liaison, investigator = staff["penghubung.kesehatan"], staff["investigator"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan")
    routing.start_processing(ctx, liaison, filed.number)
    assert routing.answer(ctx, liaison, filed.number, ANSWER) is S.ANSWERED

    clock.advance(days=1)
    assert _object(ctx, filed.code, Action.REPORTER_REQUESTS_APIP) is S.VERIFIED
    assert case_row(ctx, filed.number).at_apip is True
    # The liaison's answered share ends with the hand-over, like an open one would.
    assert _tasks(ctx, filed.number) == {"dinas-kesehatan": "returned"}
    liaison_notices = _snapshot(notices_for_unit(ctx, "dinas-kesehatan", filed.number))
    assert all(done is not None for *_, done in liaison_notices)

    assert routing.apip_intake(ctx, investigator, filed.number) is S.IN_PROCESS
    assert routing.answer(ctx, investigator, filed.number, ANSWER,
                          outcome="administrative") is S.ANSWERED
    clock.advance(days=1)
    assert _object(ctx, filed.code) is S.IN_PROCESS
    assert _tasks(ctx, filed.number) == {"dinas-kesehatan": "returned",
                                         "inspektorat": "in_process"}
    answers = _open_deadlines(ctx, filed.number, "answer")
    assert len(answers) == 1, "one pending unit: APIP"

    # APIP's answer finishes the case again, and the reporter can close it.
    assert routing.answer(ctx, investigator, filed.number, ANSWER,
                          outcome="referral_kejaksaan") is S.ANSWERED
    routing.reporter_act(ctx, reporter_access(ctx, filed.code), Action.REPORTER_ACCEPTS)
    assert state_of(ctx, filed.number) == S.CLOSED.value

    # The liaison's unit heard nothing of the case after the hand-over.
    assert _snapshot(notices_for_unit(ctx, "dinas-kesehatan", filed.number)) == liaison_notices
    objected = {n.user_id for n in notices_for_unit(ctx, "inspektorat", filed.number,
                                                    "objection")}
    assert objected, "APIP is told of the objection"


def test_verifier_hands_a_partly_answered_case_to_apip_and_apip_finishes_it(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    """One unit answered its share, the other returned it (the last open task): the case is the
    verifier's again, who finds abuse of authority and hands it to APIP. The answered share must
    not come back to life with the reporter's objection to APIP's answer."""
    pendidikan, kesehatan = staff["penghubung.pendidikan"], staff["penghubung.kesehatan"]
    investigator = staff["investigator"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-pendidikan", "dinas-kesehatan")
    routing.start_processing(ctx, pendidikan, filed.number)
    assert routing.answer(ctx, pendidikan, filed.number, ANSWER) is S.IN_PROCESS
    assert routing.return_disposition(ctx, kesehatan, filed.number, "", REASON) is S.RECEIVED
    assert routing.hand_to_apip(ctx, staff["verifikator"], filed.number, REASON) is S.VERIFIED
    assert _tasks(ctx, filed.number) == {"dinas-pendidikan": "returned",
                                         "dinas-kesehatan": "returned"}
    before = {slug: _snapshot(notices_for_unit(ctx, slug, filed.number))
              for slug in ("dinas-pendidikan", "dinas-kesehatan")}

    routing.apip_intake(ctx, investigator, filed.number)
    routing.answer(ctx, investigator, filed.number, ANSWER, outcome="administrative")
    clock.advance(days=1)
    assert _object(ctx, filed.code, Action.REQUEST_REEXAMINATION) is S.IN_PROCESS
    assert _tasks(ctx, filed.number)["dinas-pendidikan"] == "returned"
    assert routing.answer(ctx, investigator, filed.number, ANSWER,
                          outcome="not_proven") is S.ANSWERED
    for slug, snapshot in before.items():
        assert _snapshot(notices_for_unit(ctx, slug, filed.number)) == snapshot, slug


# =============================================================================================
# M1. A returned share does not hand back a case another unit is processing
# =============================================================================================

def test_return_by_one_unit_leaves_the_case_with_the_unit_still_working(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    verifier = staff["verifikator"]
    kesehatan, pendidikan = staff["penghubung.kesehatan"], staff["penghubung.pendidikan"]
    filed = file_report(ctx)
    dispose(ctx, verifier, filed.number, "dinas-pendidikan", "dinas-kesehatan")
    routing.start_processing(ctx, kesehatan, filed.number)

    assert routing.return_disposition(ctx, pendidikan, filed.number, "dinas-pupr",
                                      REASON) is S.IN_PROCESS
    assert state_of(ctx, filed.number) == S.IN_PROCESS.value

    # The verifier team is told, with the suggested unit on the returned task.
    assert [n.done_on for n in notices_for_unit(ctx, "tim-pengelola", filed.number,
                                                "returned")] == [None]
    panel = routing.panel(ctx, verifier, filed.number)
    returned = [t for t in panel.tasks if t.unit == "dinas-pendidikan"]
    assert [(t.state, t.suggested_unit) for t in returned] == [
        ("returned", "Dinas Pekerjaan Umum dan Penataan Ruang")]
    with ctx.db() as s:
        suggested = s.scalars(select(CaseTask.suggested_unit_id).join(Case).where(
            Case.case_number == filed.number,
            CaseTask.unit_id == unit_id(ctx, "dinas-pendidikan"))).one()
    assert suggested == unit_id(ctx, "dinas-pupr")

    # ... but it cannot stop the other unit's work: no archive, no forward, no hand-over.
    # Archive, forward and hand-over stay closed; the suggested unit can be added.
    assert panel.actions == ["add_disposition"]
    before = last_seq(ctx)
    for act in (lambda: routing.archive(ctx, verifier, filed.number, REASON),
                lambda: routing.forward_external(ctx, verifier, filed.number, "sp4n_lapor",
                                                 REASON),
                lambda: routing.hand_to_apip(ctx, verifier, filed.number, REASON)):
        with pytest.raises(service.AccessDenied) as denied:
            act()
        assert denied.value.reason == "not_awaiting_verification"
    assert [e.outcome for e in audit_since(ctx, before)] == ["denied"] * 3
    assert state_of(ctx, filed.number) == S.IN_PROCESS.value

    # The unit still working answers, and its answer is the case's answer.
    assert routing.answer(ctx, kesehatan, filed.number, ANSWER) is S.ANSWERED
    assert len(_open_deadlines(ctx, filed.number, "objection")) == 1


def test_return_before_anyone_started_keeps_the_case_dispositioned(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    verifier = staff["verifikator"]
    filed = file_report(ctx)
    dispose(ctx, verifier, filed.number, "dinas-pendidikan", "dinas-kesehatan")
    assert routing.return_disposition(ctx, staff["penghubung.pendidikan"], filed.number,
                                      "dinas-pupr", REASON) is S.VERIFIED
    with pytest.raises(service.AccessDenied) as denied:
        routing.archive(ctx, verifier, filed.number, REASON)
    assert denied.value.reason == "not_awaiting_verification"
    assert routing.start_processing(ctx, staff["penghubung.kesehatan"],
                                    filed.number) is S.IN_PROCESS


# =============================================================================================
# M2. The coordinating team closes disputes only
# =============================================================================================

def test_coordinator_cannot_close_a_case_without_a_dispute(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    leadership, liaison = staff["pimpinan"], staff["penghubung.kesehatan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan")
    routing.start_processing(ctx, liaison, filed.number)
    for state in (S.IN_PROCESS, S.ANSWERED):
        if state is S.ANSWERED:
            routing.answer(ctx, liaison, filed.number, ANSWER)
        assert state_of(ctx, filed.number) == state.value
        assert "coordinator_close" not in routing.panel(ctx, leadership, filed.number).actions
        before = last_seq(ctx)
        with pytest.raises(routing.InvalidInput) as invalid:
            routing.coordinator_close(ctx, leadership, filed.number, REASON)
        assert invalid.value.code == "no_dispute"
        assert state_of(ctx, filed.number) == state.value
        # Nothing claims the case was closed; the refusal itself is recorded (issue 8.11).
        assert [(e.action, e.outcome) for e in audit_since(ctx, before)] == [
            ("access.case", "denied")]


def test_coordinator_closes_an_overdue_case(
        ctx: Context, demo: Any, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan", resolution_days=5)
    routing.start_processing(ctx, staff["penghubung.kesehatan"], filed.number)
    [due] = [d.due_on for d in _open_deadlines(ctx, filed.number, "answer")]
    assert due == CALENDAR.add_working_days(MONDAY, 5)

    _go_to(ctx, clock, due)  # the unit's last day is still its own
    leadership = sign_in(ctx, demo, clock, "pimpinan")
    with pytest.raises(routing.InvalidInput) as invalid:
        routing.coordinator_close(ctx, leadership, filed.number, REASON)
    assert invalid.value.code == "no_dispute"

    _go_to(ctx, clock, due + timedelta(days=1))
    leadership = sign_in(ctx, demo, clock, "pimpinan")
    assert "coordinator_close" in routing.panel(ctx, leadership, filed.number).actions
    before = last_seq(ctx)
    assert routing.coordinator_close(ctx, leadership, filed.number, REASON) is S.CLOSED
    case = case_row(ctx, filed.number)
    assert (case.state, case.outcome) == ("closed", "closed_by_coordinator")
    [entry] = [e for e in audit_since(ctx, before)
               if e.action == audit_action(Action.COORDINATOR_CLOSE)]
    assert (entry.actor, entry.outcome, entry.reason) == ("pimpinan", "allowed", REASON)
    assert details(entry)["from"] == "in_process"


@pytest.mark.parametrize("contest", [Action.REPORTER_OBJECTS, Action.REQUEST_REEXAMINATION])
@pytest.mark.parametrize("answered_again", [False, True])
def test_coordinator_closes_a_case_the_reporter_contested(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock, contest: Action,
        answered_again: bool) -> None:
    leadership, liaison = staff["pimpinan"], staff["penghubung.kesehatan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan")
    routing.start_processing(ctx, liaison, filed.number)
    routing.answer(ctx, liaison, filed.number, ANSWER)
    clock.advance(days=1)
    assert _object(ctx, filed.code, contest) is S.IN_PROCESS
    if answered_again:
        assert routing.answer(ctx, liaison, filed.number, ANSWER) is S.ANSWERED
    assert "coordinator_close" in routing.panel(ctx, leadership, filed.number).actions
    assert routing.coordinator_close(ctx, leadership, filed.number, REASON) is S.CLOSED


# =============================================================================================
# M3. A changed rule does not shorten a running window
# =============================================================================================

def _answered_on_monday(ctx: Context, staff: dict[str, StaffIdentity]) -> tuple[str, str, date]:
    _lengthen(ctx, "objection")
    liaison = staff["penghubung.kesehatan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan", resolution_days=5)
    routing.start_processing(ctx, liaison, filed.number)
    routing.answer(ctx, liaison, filed.number, ANSWER)
    [window] = _open_deadlines(ctx, filed.number, "objection")
    assert window.due_on == CALENDAR.add_working_days(MONDAY, 20)
    return filed.number, filed.code, window.due_on


def _lengthen(ctx: Context, rule: str) -> None:
    """The administrator's rules page: a Pemda's own 20 working days."""
    calendar_admin.set_rule(ctx, "admin", "administrator", rule, 20, "working_days")


def _shorten(ctx: Context, rule: str) -> None:
    """The administrator's rules page: back to 10 working days, the floor (finding 12)."""
    calendar_admin.set_rule(ctx, "admin", "administrator", rule, 10, "working_days")


# Past the short window, within the long one.
PAST_SHORT = CALENDAR.add_working_days(MONDAY, 12)


def test_a_shortened_objection_rule_does_not_close_a_running_window(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    number, code, window_end = _answered_on_monday(ctx, staff)
    _shorten(ctx, "objection")
    _go_to(ctx, clock, PAST_SHORT)
    assert _object(ctx, code) is S.IN_PROCESS
    assert state_of(ctx, number) == S.IN_PROCESS.value

    # The new rule applies to the windows opened after it: the next answer gets ten days.
    routing.answer(ctx, staff["penghubung.kesehatan"], number, ANSWER)
    [window] = _open_deadlines(ctx, number, "objection")
    assert window.due_on == CALENDAR.add_working_days(ctx.today(), 10) != window_end


def test_a_shortened_objection_rule_does_not_close_a_case_early(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    number, _code, window_end = _answered_on_monday(ctx, staff)
    _shorten(ctx, "objection")
    _go_to(ctx, clock, PAST_SHORT)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        assert routing.system_act(s, ctx, case, Action.AUTO_CLOSE) is False
    assert run_workflow_jobs(ctx).closed == 0
    _go_to(ctx, clock, window_end)
    assert run_workflow_jobs(ctx).closed == 0
    assert state_of(ctx, number) == S.ANSWERED.value
    _go_to(ctx, clock, window_end + timedelta(days=1))
    assert run_workflow_jobs(ctx).closed == 1
    assert state_of(ctx, number) == S.CLOSED.value


def test_a_shortened_missing_data_rule_does_not_archive_early(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    _lengthen(ctx, "missing_data")
    filed = file_report(ctx)
    routing.request_info(ctx, staff["verifikator"], filed.number, QUESTION)
    [window] = _open_deadlines(ctx, filed.number, "missing_data")
    _shorten(ctx, "missing_data")
    _go_to(ctx, clock, PAST_SHORT)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == filed.number)).one()
        assert routing.system_act(s, ctx, case, Action.AUTO_ARCHIVE) is False
    assert run_workflow_jobs(ctx).archived == 0
    _go_to(ctx, clock, window.due_on)
    assert run_workflow_jobs(ctx).archived == 0
    _go_to(ctx, clock, window.due_on + timedelta(days=1))
    assert run_workflow_jobs(ctx).archived == 1
    assert state_of(ctx, filed.number) == S.ARCHIVED.value


def test_returned_share_goes_on_to_the_suggested_unit(app: Any, client: Any, demo: Any,
                                                      clock: Any, ctx: Any) -> None:
    """No wrong door: after one of two units returns its share with a suggestion, the
    verifier adds the suggested unit while the other unit keeps working."""
    from sqlalchemy import select

    from tests.conftest import csrf_from, sign_in
    from tests.functional.test_intake import submit_form
    from tests.functional.test_roundtrip import staff_open
    from wbs.models import Case, CaseTask, Unit

    submit_form(client, {"kind": "complaint", "title": "Air dan jalan", "what": "Isi",
                         "identity_mode": "anonymous"})
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()

    def act(c: Any, action: str, **fields: str) -> str:
        token = csrf_from(c, f"/staf/kasus/{number}")
        r = c.post(f"/staf/kasus/{number}/aksi/{action}", data={"csrf_token": token, **fields})
        return str(r.headers["location"])

    from starlette.testclient import TestClient

    verifier = TestClient(app, base_url="https://testserver", follow_redirects=False)
    liaison = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(verifier, demo["verifikator"], "verifikator", clock)
    sign_in(liaison, demo["penghubung.pendidikan"], "penghubung.pendidikan", clock)
    staff_open(verifier, number)
    assert "galat" not in act(verifier, "verify_and_dispose", classification="no_oversight",
                              resolution_days="14", unit_dinas_pendidikan="dinas-pendidikan",
                              unit_dinas_kesehatan="dinas-kesehatan")
    staff_open(liaison, number)
    assert "galat" not in act(liaison, "return_disposition", suggested_unit="dinas-pupr",
                              reason="Jalan adalah urusan PUPR")
    page = staff_open(verifier, number)
    assert "Dinas Pekerjaan Umum" in page.text and "add_disposition" in page.text
    # A unit already working cannot be added twice; the suggested one can.
    token = csrf_from(verifier, f"/staf/kasus/{number}")
    twice = verifier.post(f"/staf/kasus/{number}/aksi/add_disposition",
                          data={"csrf_token": token, "unit_dinas_kesehatan": "dinas-kesehatan"})
    # Refused in place (the page again, the choice still ticked), not redirected.
    assert twice.status_code == 400 and 'id="act-add_disposition-error"' in twice.text
    assert 'id="ad-dinas-kesehatan" name="unit_dinas-kesehatan" value="dinas-kesehatan" checked' \
        in twice.text
    assert "galat" not in act(verifier, "add_disposition", unit_dinas_pupr="dinas-pupr")
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        rows = s.execute(select(Unit.slug, CaseTask.state)
                         .join(Unit, Unit.id == CaseTask.unit_id)).all()
    tasks = {slug: state for slug, state in rows}  # noqa: C416 - rows are Row objects
    assert case.state == "verified"
    assert tasks == {"dinas-pendidikan": "returned", "dinas-kesehatan": "open",
                     "dinas-pupr": "open"}
