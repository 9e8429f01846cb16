"""Case workflow through the service layer (RULES §2, §5, §6): real sign-in, real crypto, real
database, no mocks.

1. One table: every staff role × every case state × every staff action, on both routes (a case
   worked locally, and a case at APIP), is applied or refused with a stated kind and reason;
   every refusal by authorization or by the workflow leaves a "denied" audit row.
2. A whistleblowing report never reaches a verifier; a complaint handed to APIP leaves the
   verifier's view but not their history.
3. Multi-unit disposition and a returned disposition.
4. Answer deadlines equal `sla.due_date`, and an administrator's regional holiday moves them.
5. The needs_info round trip.
6. The reported unit is never a disposition target.
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
    ROLE_USERS,
    Driver,
    Filed,
    audit_action,
    audit_since,
    case_row,
    details,
    dispose,
    file_report,
    last_seq,
    listed,
    notices_for_unit,
    reporter_access,
    staff_team,
    state_of,
    unit_id,
    view,
)
from wbs.accounts import StaffIdentity
from wbs.audit import pending
from wbs.cases import reporter, routing, service
from wbs.cases.sla import DEFAULT_RULES, CalendarOverride, WorkingCalendar, due_date, reminder_date
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState, ReportKind
from wbs.models import (
    CalendarOverrideRow,
    Case,
    CaseEvent,
    CaseKeyWrap,
    CaseTask,
    Deadline,
    Notice,
    PendingAuditEntry,
    Unit,
    User,
)

S = CaseState
MONDAY = date(2026, 3, 2)  # the conftest clock's day in Asia/Jakarta
NATIONAL = WorkingCalendar()


@pytest.fixture
def staff(ctx: Context, demo: Any, clock: Clock) -> dict[str, StaffIdentity]:
    """Every demo account, signed in; also reachable by role name (ROLE_USERS)."""
    team = staff_team(ctx, demo, clock, *ROLE_USERS.values(), "penghubung.pendidikan")
    team.update({role: team[username] for role, username in ROLE_USERS.items()})
    return team


def _case_id(ctx: Context, number: str) -> int:
    return case_row(ctx, number).id


def _tasks(ctx: Context, number: str) -> dict[str, CaseTask]:
    with ctx.db() as s:
        rows = s.execute(select(Unit.slug, CaseTask).join(Unit, Unit.id == CaseTask.unit_id)
                         .join(Case, Case.id == CaseTask.case_id)
                         .where(Case.case_number == number)).all()
    return dict(rows)


def _deadlines(ctx: Context, number: str, kind: str) -> list[Deadline]:
    with ctx.db() as s:
        return list(s.scalars(select(Deadline).join(Case).where(
            Case.case_number == number, Deadline.kind == kind).order_by(Deadline.id)))


def _events(ctx: Context, number: str) -> list[tuple[str, str]]:
    with ctx.db() as s:
        rows = s.execute(select(CaseEvent.state, CaseEvent.note_key).join(Case).where(
            Case.case_number == number).order_by(CaseEvent.id)).all()
    return [(state, note) for state, note in rows]


# =============================================================================================
# 1. The table: role × state × action
# =============================================================================================

# Cells: "→X" the action is applied and the case is now in state X; otherwise the refusal, as
# kind/reason: "D" AccessDenied (authorization), "T" routing.TransitionRefused (the workflow
# rules), "I" routing.InvalidInput (the act itself cannot be carried out).
# State columns: rcv received, info needs_info, ver verified, proc in_process, ans answered,
# clo closed, arc archived, fwd forwarded.
# A row with action "*" covers every action the role has no row of its own for.
REFUSALS: dict[str, tuple[type[Exception], str]] = {
    "D/role": (service.AccessDenied, "role_lacks_permission"),
    "D/unit": (service.AccessDenied, "not_assigned_to_unit"),
    "D/done": (service.AccessDenied, "case_has_outcome"),
    "D/wait": (service.AccessDenied, "not_awaiting_verification"),
    "D/apip": (service.AccessDenied, "apip_only"),  # a verifier never touches an APIP case
    "D/apipc": (service.AccessDenied, "apip_case"),  # leadership never closes an APIP case
    "T/state": (routing.TransitionRefused, "state_not_allowed"),
    "T/role": (routing.TransitionRefused, "role_not_allowed"),
    "I/task": (routing.InvalidInput, "no_open_task"),
    # The coordinating team closes only a case in dispute (RULES §6): the driver's fresh cases
    # are within every limit and nobody objected. Closing a disputed case: test_workflow_integrity.
    "I/calm": (routing.InvalidInput, "no_dispute"),
}
COLUMNS = {"rcv": S.RECEIVED, "info": S.NEEDS_INFO, "ver": S.VERIFIED, "proc": S.IN_PROCESS,
           "ans": S.ANSWERED, "clo": S.CLOSED, "arc": S.ARCHIVED, "fwd": S.FORWARDED}

# Local route: a complaint, dispositioned (from "ver" on) to dinas-kesehatan, whose liaison is
# the "liaison" row. The investigator's unit never holds it.
LOCAL = """
                      rcv       info      ver       proc      ans       clo       arc       fwd
verifier     dispose  →ver      T/state   T/state   T/state   D/wait    D/done    D/done    D/done
verifier     ask      →info     T/state   D/wait    D/wait    D/wait    D/done    D/done    D/done
verifier     archive  →arc      →arc      D/wait    D/wait    D/wait    D/done    D/done    D/done
verifier     forward  →fwd      T/state   D/wait    D/wait    D/wait    D/done    D/done    D/done
verifier     to_apip  →ver      T/state   D/wait    D/wait    D/wait    D/done    D/done    D/done
verifier     *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
liaison      start    D/unit    D/unit    →proc     I/task    T/state   D/done    D/unit    D/unit
liaison      return   D/unit    D/unit    →rcv      →rcv      T/state   D/done    D/unit    D/unit
liaison      answer   D/unit    D/unit    T/state   →ans      T/state   D/done    D/unit    D/unit
liaison      *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
investigator ask      D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator archive  D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator intake   D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator start    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator return   D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator answer   D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
investigator *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
leadership   close    T/state   T/state   T/state   I/calm    I/calm    D/done    D/done    D/done
leadership   *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
custodian    *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
auditor      *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
admin        *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
"""

# APIP route: a whistleblowing report held by the Inspektorat ("ver" is a complaint the verifier
# handed to APIP, "fwd" is set directly: see Driver). The liaison's unit never holds it.
# "investigator start" on a handed-over complaint: the rules allow it (verified → in_process)
# and the case page offers it, so it must work like an intake.
# Leadership never sees a case at APIP, in any state: "apipc" comes before "done" (finding 8.10).
APIP = """
                      rcv       info      ver       proc      ans       clo       arc       fwd
verifier     dispose  D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip
verifier     ask      D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip
verifier     archive  D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip
verifier     forward  D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip
verifier     to_apip  D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip    D/apip
verifier     *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
liaison      start    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
liaison      return   D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
liaison      answer   D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit    D/unit
liaison      *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
investigator ask      →info     T/state   →info     T/state   T/state   D/done    D/done    D/done
investigator archive  →arc      →arc      →arc      T/state   T/state   D/done    D/done    D/done
investigator intake   →proc     T/state   →proc     T/state   T/state   D/done    D/done    D/done
investigator start    T/state   T/state   →proc     T/state   T/state   D/done    D/done    D/done
investigator return   T/role    T/role    T/role    T/role    T/role    D/done    D/done    D/done
investigator answer   T/state   T/state   T/state   →ans      T/state   D/done    D/done    D/done
investigator *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
leadership   close    D/apipc   D/apipc   D/apipc   D/apipc   D/apipc   D/apipc   D/apipc   D/apipc
leadership   *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
custodian    *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
auditor      *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
admin        *        D/role    D/role    D/role    D/role    D/role    D/role    D/role    D/role
"""

ROUTES = {"local": LOCAL, "apip": APIP}
TABLE_ROLES = {"verifier": "verifier", "liaison": "liaison", "investigator": "investigator",
               "custodian": "custodian", "leadership": "leadership", "auditor": "auditor",
               "admin": "administrator"}

# Each action with valid arguments, so that only the role, the case and its state decide.
ACTIONS: dict[str, tuple[Action, Any]] = {
    "dispose": (Action.VERIFY_AND_DISPOSE, lambda c, s, n, _r: dispose(c, s, n)),
    "ask": (Action.REQUEST_INFO, lambda c, s, n, _r: routing.request_info(c, s, n, QUESTION)),
    "archive": (Action.ARCHIVE, lambda c, s, n, _r: routing.archive(c, s, n, REASON)),
    "forward": (Action.FORWARD_EXTERNAL,
                lambda c, s, n, _r: routing.forward_external(c, s, n, "sp4n_lapor", REASON)),
    "to_apip": (Action.HAND_TO_APIP, lambda c, s, n, _r: routing.hand_to_apip(c, s, n, REASON)),
    "intake": (Action.APIP_INTAKE, lambda c, s, n, _r: routing.apip_intake(c, s, n)),
    "start": (Action.START_PROCESSING, lambda c, s, n, _r: routing.start_processing(c, s, n)),
    "return": (Action.RETURN_DISPOSITION,
               lambda c, s, n, _r: routing.return_disposition(c, s, n, "dinas-pupr", REASON)),
    # APIP records its outcome with every answer; a liaison gives none.
    "answer": (Action.ANSWER, lambda c, s, n, r: routing.answer(
        c, s, n, ANSWER, outcome="administrative" if r == "apip" else None)),
    "close": (Action.COORDINATOR_CLOSE,
              lambda c, s, n, _r: routing.coordinator_close(c, s, n, REASON)),
}


def parse_table(text: str) -> dict[tuple[str, str, CaseState], str]:
    """(table role, action, state) → cell, with "*" rows expanded."""
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert [COLUMNS[h] for h in header] == list(CaseState), "one column per state, in order"
    cells: dict[tuple[str, str, CaseState], str] = {}
    explicit = {(row[0], row[1]) for row in rows}
    for role, action, *row in rows:
        assert role in TABLE_ROLES and len(row) == len(header), (role, action)
        targets = [action] if action != "*" else [a for a in ACTIONS if (role, a) not in explicit]
        for name in targets:
            assert name in ACTIONS, name
            for column, cell in zip(header, row, strict=True):
                assert cell in REFUSALS or cell.removeprefix("→") in COLUMNS, cell
                cells[(role, name, COLUMNS[column])] = cell
    assert {role for role, _, _ in cells} == set(TABLE_ROLES), "every role has rows"
    assert len(cells) == len(TABLE_ROLES) * len(ACTIONS) * len(CaseState), "no cell missing"
    return cells


def _attempt(ctx: Context, staff: StaffIdentity, route: str, action: str,
             number: str) -> tuple[str, str]:
    """Run one action; return ("→", new state) or (refusal kind letter, reason code)."""
    try:
        new_state = ACTIONS[action][1](ctx, staff, number, route)
    except service.AccessDenied as exc:
        return "D", exc.reason
    except routing.TransitionRefused as exc:
        return "T", exc.code
    except routing.InvalidInput as exc:
        return "I", exc.code
    return "→", CaseState(new_state).value


@pytest.mark.parametrize("route", list(ROUTES))
def test_role_state_action_table(ctx: Context, staff: dict[str, StaffIdentity],
                                 route: str) -> None:
    cells = parse_table(ROUTES[route])
    driver = Driver(ctx, staff)
    shared: dict[CaseState, Filed] = {}  # one case per state for the refusals, which change nothing
    mismatches: list[tuple[str, str, str, str, str]] = []
    for (table_role, action, state), cell in sorted(cells.items(),
                                                    key=lambda kv: (kv[0][0], kv[0][1])):
        actor = staff[TABLE_ROLES[table_role]]
        applied = cell.startswith("→")
        if applied:
            filed = driver.build(route, state)
        else:
            filed = shared.get(state) or shared.setdefault(state, driver.build(route, state))
        before = last_seq(ctx)
        kind, code = _attempt(ctx, actor, route, action, filed.number)
        new = audit_since(ctx, before)
        if applied:
            expected = ("→", COLUMNS[cell.removeprefix("→")].value)
        else:
            exc_type, reason = REFUSALS[cell]
            expected = ({service.AccessDenied: "D", routing.TransitionRefused: "T",
                         routing.InvalidInput: "I"}[exc_type], reason)
        if (kind, code) != expected:
            mismatches.append((table_role, action, state.value, f"expected {cell}",
                               f"got {kind}/{code}"))
            if kind == "→":
                shared.pop(state, None)  # that case moved on; build another for what follows
            continue
        verb = audit_action(ACTIONS[action][0])
        if applied:
            assert state_of(ctx, filed.number) == code
            assert [(e.action, e.outcome, e.actor) for e in new] == [
                (verb, "allowed", actor.username)], (table_role, action, state)
            assert details(new[0])["from"] == state.value and details(new[0])["to"] == code
            continue
        assert state_of(ctx, filed.number) == state.value, "a refusal changes nothing"
        if kind == "I":
            # Refused while the act ran: it was rolled back, so no row claims it happened, and
            # the refusal itself is recorded (issue 8, finding 11).
            assert [(e.action, e.outcome, e.actor, details(e)["why"]) for e in new] == [
                ("access.case", "denied", actor.username, code)], (table_role, action, state)
            continue
        assert len(new) == 1, (table_role, action, state, [e.action for e in new])
        row = new[0]
        assert (row.outcome, row.actor, row.case_number) == ("denied", actor.username,
                                                             filed.number)
        assert row.action == ("access.case" if kind == "D" else verb)
        assert details(row)["why"] == code
    assert mismatches == []


# =============================================================================================
# 2. Whistleblowing never reaches a verifier; a complaint handed to APIP leaves their view
# =============================================================================================

def _verifier_team_notices(ctx: Context, numbers: list[str]) -> list[tuple[str, str, str]]:
    with ctx.db() as s:
        rows = s.execute(select(User.username, Case.case_number, Notice.kind)
                         .join(User, User.id == Notice.user_id)
                         .join(Case, Case.id == Notice.case_id)
                         .join(Unit, Unit.id == User.unit_id)
                         .where(Unit.kind == "verifier_team", Case.case_number.in_(numbers))
                         ).all()
    return [(u, n, k) for u, n, k in rows]


def test_whistleblowing_report_never_reaches_a_verifier(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    verifier, investigator = staff["verifier"], staff["investigator"]
    complaints = [file_report(ctx).number for _ in range(2)]
    assert sorted(listed(ctx, verifier)) == sorted(complaints)

    reports = [file_report(ctx, ReportKind.WHISTLEBLOWING) for _ in range(3)]
    numbers = [r.number for r in reports]
    assert sorted(listed(ctx, verifier)) == sorted(complaints), "count unchanged"
    assert set(numbers) <= set(listed(ctx, investigator))

    for number in numbers:
        with pytest.raises(service.AccessDenied) as denied:
            service.view_case(ctx, verifier, number)
        assert denied.value.reason == "apip_only"
        with pytest.raises(service.AccessDenied):
            service.state_purpose(ctx, verifier, number, "Ingin tahu")

    # A whole APIP life: question, data supplied, intake, answer, objection, answer, accept.
    wb = reports[0]
    routing.request_info(ctx, investigator, wb.number, QUESTION)
    clock.advance(days=1)
    reporter.post_message(ctx, reporter_access(ctx, wb.code), "Foto terlampir di bawah ini.")
    assert state_of(ctx, wb.number) == S.RECEIVED.value
    routing.apip_intake(ctx, investigator, wb.number)
    routing.answer(ctx, investigator, wb.number, ANSWER, outcome="referral_kejaksaan")
    clock.advance(days=1)
    routing.reporter_act(ctx, reporter_access(ctx, wb.code), Action.REPORTER_OBJECTS,
                         "Pelaku masih menjabat, mohon ditinjau ulang.")
    routing.answer(ctx, investigator, wb.number, ANSWER, outcome="referral_kpk")
    routing.reporter_act(ctx, reporter_access(ctx, wb.code), Action.REPORTER_ACCEPTS)
    assert state_of(ctx, wb.number) == S.CLOSED.value
    # The third report is archived by APIP.
    routing.archive(ctx, investigator, reports[2].number, REASON)

    assert sorted(listed(ctx, verifier)) == sorted(complaints)
    assert _verifier_team_notices(ctx, numbers) == []
    # Notices about them exist, and only for APIP's members.
    with ctx.db() as s:
        units_notified = set(s.scalars(
            select(Unit.slug).join(User, User.unit_id == Unit.id)
            .join(Notice, Notice.user_id == User.id).join(Case, Case.id == Notice.case_id)
            .where(Case.case_number.in_(numbers))))
        kinds = set(s.scalars(select(Notice.kind).join(Case).where(
            Case.case_number == wb.number)))
    assert units_notified == {"inspektorat"}
    assert {"new_task", "info_supplied", "objection"} <= kinds
    # The verifier never holds a key to them.
    with ctx.db() as s:
        team = unit_id(ctx, "tim-pengelola")
        wraps = s.scalars(select(CaseKeyWrap.id).join(Case).where(
            Case.case_number.in_(numbers), CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.recipient_id == team)).all()
    assert wraps == []


def test_complaint_handed_to_apip_leaves_the_verifiers_view_not_their_history(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """Decision: the verifier's case list holds the cases their unit can open. A complaint
    handed to APIP leaves it together with the key; what stays is the history: the audit log
    (their own rows, the hand-over with its reason) and the case timeline ("hand_to_apip")."""
    verifier, investigator = staff["verifier"], staff["investigator"]
    filed = file_report(ctx)
    other = file_report(ctx).number
    assert view(ctx, verifier, filed.number).state == S.RECEIVED.value
    start = last_seq(ctx)

    reason = "Dugaan penyalahgunaan wewenang oleh kepala sekolah."
    assert routing.hand_to_apip(ctx, verifier, filed.number, reason) is S.VERIFIED
    assert case_row(ctx, filed.number).at_apip is True

    with pytest.raises(service.AccessDenied) as denied:
        service.view_case(ctx, verifier, filed.number)
    assert denied.value.reason == "apip_only"
    assert listed(ctx, verifier) == [other]
    assert filed.number in listed(ctx, investigator)
    assert view(ctx, investigator, filed.number).timeline[-1] == (S.VERIFIED.value, MONDAY)

    # History: the verifier's own rows stay, the hand-over among them, and the timeline says so.
    rows = [e for e in audit_since(ctx, 0) if e.case_number == filed.number
            and e.actor == verifier.username]
    actions = [(e.action, e.outcome) for e in rows]
    assert ("case.purpose", "allowed") in actions and ("case.view", "allowed") in actions
    handed = [e for e in rows if e.action == audit_action(Action.HAND_TO_APIP)]
    assert len(handed) == 1 and handed[0].outcome == "allowed" and handed[0].reason == reason
    assert details(handed[0])["from"] == "received" and details(handed[0])["to"] == "verified"
    assert handed[0].seq > start
    assert _events(ctx, filed.number) == [("received", ""), ("verified", "hand_to_apip")]

    # APIP has the work now; the verifier team's inbox no longer does.
    assert {(n.kind, n.done_on) for n in notices_for_unit(ctx, "inspektorat", filed.number)} == {
        ("new_task", None)}
    still_open = [n.kind for n in notices_for_unit(ctx, "tim-pengelola", filed.number)
                  if n.done_on is None]
    assert still_open == [], "the verifier's task notice must be settled by the hand-over"


# =============================================================================================
# 3. Multi-unit disposition and a returned disposition
# =============================================================================================

TWO_UNITS = ("dinas-pendidikan", "dinas-kesehatan")


def test_multi_unit_disposition_gives_each_unit_its_own_task(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx)
    assert dispose(ctx, staff["verifier"], filed.number, *TWO_UNITS) is S.VERIFIED
    tasks = _tasks(ctx, filed.number)
    assert sorted(tasks) == sorted(TWO_UNITS)
    assert {t.state for t in tasks.values()} == {"open"}
    answers = _deadlines(ctx, filed.number, "answer")
    assert {d.task_id for d in answers} == {t.id for t in tasks.values()} and len(answers) == 2
    for slug in TWO_UNITS:
        assert [n.kind for n in notices_for_unit(ctx, slug, filed.number)] == ["new_task"]
        assert filed.number in listed(ctx, staff[f"penghubung.{slug.removeprefix('dinas-')}"])


def test_each_unit_starts_its_own_task(ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, *TWO_UNITS)
    assert routing.start_processing(ctx, staff["penghubung.kesehatan"],
                                    filed.number) is S.IN_PROCESS
    # The second unit starts its own share while the case is already in process.
    assert routing.start_processing(ctx, staff["penghubung.pendidikan"],
                                    filed.number) is S.IN_PROCESS
    assert {t.state for t in _tasks(ctx, filed.number).values()} == {"in_process"}


def test_multi_unit_case_is_answered_by_the_last_units_answer(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    kesehatan, pendidikan = staff["penghubung.kesehatan"], staff["penghubung.pendidikan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, *TWO_UNITS)
    routing.start_processing(ctx, kesehatan, filed.number)
    clock.advance(days=1)

    first = "Dinas Kesehatan: puskesmas telah ditegur."
    assert routing.answer(ctx, kesehatan, filed.number, first) is S.IN_PROCESS
    tasks = _tasks(ctx, filed.number)
    assert tasks["dinas-kesehatan"].state == "answered"
    assert tasks["dinas-kesehatan"].answered_on == MONDAY + timedelta(days=1)
    assert tasks["dinas-pendidikan"].state in ("open", "in_process")
    open_answers = [d.task_id for d in _deadlines(ctx, filed.number, "answer") if d.met_on is None]
    assert open_answers == [tasks["dinas-pendidikan"].id]
    assert _deadlines(ctx, filed.number, "objection") == []
    # A unit that has answered cannot answer the other unit's share.
    with pytest.raises(routing.InvalidInput) as invalid:
        routing.answer(ctx, kesehatan, filed.number, first)
    assert invalid.value.code == "no_open_task"

    clock.advance(days=1)
    second = "Dinas Pendidikan: pungutan dihentikan dan dikembalikan."
    assert routing.answer(ctx, pendidikan, filed.number, second) is S.ANSWERED
    answered_on = MONDAY + timedelta(days=2)
    objection = _deadlines(ctx, filed.number, "objection")
    assert len(objection) == 1 and objection[0].met_on is None
    assert objection[0].start_on == answered_on
    assert objection[0].due_on == due_date(NATIONAL, DEFAULT_RULES["objection"], answered_on)
    assert [d for d in _deadlines(ctx, filed.number, "answer") if d.met_on is None] == []

    mailbox = reporter.mailbox(ctx, reporter_access(ctx, filed.code))
    assert mailbox.state == S.ANSWERED.value
    answers = [(m.author, m.author_role, m.body) for m in mailbox.messages if m.kind == "answer"]
    assert answers == [("staff", "liaison", first), ("staff", "liaison", second)]


def test_returned_disposition_goes_back_to_the_verifier_with_the_last_open_task(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """One of two units returns its share: the case stays with the unit still working on it
    (in process: the verifier cannot archive or forward it from there), and the verifier team is
    told, with the suggested unit. When the last open task comes back too, the case is the
    verifier's again, to disposition by a fresh limit."""
    kesehatan, pendidikan = staff["penghubung.kesehatan"], staff["penghubung.pendidikan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, *TWO_UNITS)
    routing.start_processing(ctx, kesehatan, filed.number)
    assert view(ctx, pendidikan, filed.number).state == S.IN_PROCESS.value

    reason = "Sekolah ini di bawah kewenangan provinsi, bukan dinas kami."
    assert routing.return_disposition(ctx, pendidikan, filed.number, "dinas-pupr",
                                      reason) is S.IN_PROCESS
    tasks = _tasks(ctx, filed.number)
    assert tasks["dinas-pendidikan"].state == "returned"
    assert tasks["dinas-pendidikan"].suggested_unit_id == unit_id(ctx, "dinas-pupr")
    assert tasks["dinas-kesehatan"].state == "in_process", "the other unit's task stays open"
    answers = {d.task_id: d for d in _deadlines(ctx, filed.number, "answer")}
    assert answers[tasks["dinas-pendidikan"].id].met_on == MONDAY
    assert answers[tasks["dinas-kesehatan"].id].met_on is None

    # The verifier team is told; it has nothing to be late for while a unit works on the case.
    returned = notices_for_unit(ctx, "tim-pengelola", filed.number, "returned")
    assert [n.done_on for n in returned] == [None]
    assert [d for d in _deadlines(ctx, filed.number, "verification") if d.met_on is None] == []

    # The returning unit loses access; the other unit keeps it, and the case stays in process.
    with pytest.raises(service.AccessDenied) as denied:
        service.view_case(ctx, pendidikan, filed.number)
    assert denied.value.reason == "not_assigned_to_unit"
    assert filed.number not in listed(ctx, pendidikan)
    assert [n for n in notices_for_unit(ctx, "dinas-pendidikan", filed.number)
            if n.done_on is None] == []
    assert view(ctx, kesehatan, filed.number).state == S.IN_PROCESS.value

    entry = [e for e in audit_since(ctx, 0) if e.action == audit_action(Action.RETURN_DISPOSITION)]
    assert len(entry) == 1 and entry[0].actor == pendidikan.username
    assert entry[0].reason == reason and details(entry[0])["suggested_unit"] == "dinas-pupr"
    assert details(entry[0])["from"] == details(entry[0])["to"] == S.IN_PROCESS.value
    assert _events(ctx, filed.number)[-1] == ("in_process", "return_disposition")

    # The last open task comes back too: the case is the verifier's again.
    assert routing.return_disposition(ctx, kesehatan, filed.number, "dinas-pupr",
                                      REASON) is S.RECEIVED
    assert _events(ctx, filed.number)[-1] == ("received", "return_disposition")
    fresh = [d for d in _deadlines(ctx, filed.number, "verification") if d.met_on is None]
    assert [(d.start_on, d.due_on) for d in fresh] == [
        (MONDAY, due_date(NATIONAL, DEFAULT_RULES["verification"], MONDAY))]
    assert [n.done_on for n in notices_for_unit(ctx, "tim-pengelola", filed.number,
                                                "returned")] == [None]

    # The verifier dispositions again, to the suggested unit.
    assert dispose(ctx, staff["verifier"], filed.number, "dinas-pupr") is S.VERIFIED
    assert sorted(_tasks(ctx, filed.number)) == ["dinas-kesehatan", "dinas-pendidikan",
                                                 "dinas-pupr"]


def test_every_return_notifies_the_verifier_team(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """A second return, after the verifier dealt with the first, is a new notice too."""
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, "dinas-pendidikan")
    routing.return_disposition(ctx, staff["penghubung.pendidikan"], filed.number,
                               "dinas-kesehatan", REASON)
    dispose(ctx, staff["verifier"], filed.number, "dinas-kesehatan")
    assert [n.done_on is None for n in notices_for_unit(ctx, "tim-pengelola", filed.number,
                                                        "returned")] == [False]
    routing.return_disposition(ctx, staff["penghubung.kesehatan"], filed.number,
                               "dinas-pupr", REASON)
    pending = [n for n in notices_for_unit(ctx, "tim-pengelola", filed.number, "returned")
               if n.done_on is None]
    assert len(pending) == 1


# =============================================================================================
# 4. Deadlines on the case
# =============================================================================================

@pytest.mark.parametrize("days", [5, 14, 60])
def test_answer_deadline_follows_the_working_day_calendar(
        ctx: Context, staff: dict[str, StaffIdentity], days: int) -> None:
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, resolution_days=days)
    rule = f"answer_{days}"
    [row] = _deadlines(ctx, filed.number, "answer")
    assert (row.rule_key, row.start_on, row.met_on) == (rule, MONDAY, None)
    assert row.due_on == due_date(NATIONAL, DEFAULT_RULES[rule], MONDAY)
    assert row.remind_on == reminder_date(NATIONAL, rule, row.due_on)
    assert row.task_id == _tasks(ctx, filed.number)["dinas-kesehatan"].id
    assert case_row(ctx, filed.number).resolution_days == days
    # Verification was done on time, the day of disposition.
    assert [d.met_on for d in _deadlines(ctx, filed.number, "verification")] == [MONDAY]
    if days == 5:
        # By hand: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9 March 2026.
        assert row.due_on == date(2026, 3, 9)


@pytest.mark.parametrize("days", [5, 14, 60])
def test_regional_holiday_moves_the_answer_deadline(
        ctx: Context, staff: dict[str, StaffIdentity], days: int) -> None:
    holiday = date(2026, 3, 4)  # a Wednesday, inside every window that starts on 2 March
    plain = due_date(NATIONAL, DEFAULT_RULES[f"answer_{days}"], MONDAY)
    assert MONDAY < holiday < plain and NATIONAL.is_working_day(holiday)
    with ctx.db.begin() as s:  # as the administrator's calendar page stores it
        s.add(CalendarOverrideRow(day=holiday, working=False, label="Hari Jadi Kabupaten"))

    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, resolution_days=days)
    [row] = _deadlines(ctx, filed.number, "answer")
    assert row.due_on == NATIONAL.add_working_days(plain, 1), "one working day later"
    regional = WorkingCalendar([CalendarOverride(holiday, False, "Hari Jadi Kabupaten")])
    assert row.due_on == due_date(regional, DEFAULT_RULES[f"answer_{days}"], MONDAY)
    if days == 5:
        assert row.due_on == date(2026, 3, 10)


# =============================================================================================
# 5. needs_info round trip
# =============================================================================================

def test_needs_info_round_trip(ctx: Context, staff: dict[str, StaffIdentity],
                               clock: Clock) -> None:
    verifier = staff["verifier"]
    filed = file_report(ctx)
    assert routing.request_info(ctx, verifier, filed.number, QUESTION) is S.NEEDS_INFO
    [asked] = _deadlines(ctx, filed.number, "missing_data")
    assert (asked.start_on, asked.met_on) == (MONDAY, None)
    assert asked.due_on == due_date(NATIONAL, DEFAULT_RULES["missing_data"], MONDAY)
    assert [d.met_on for d in _deadlines(ctx, filed.number, "verification")] == [MONDAY]

    clock.advance(days=1)
    tuesday = MONDAY + timedelta(days=1)
    access = reporter_access(ctx, filed.code)
    questions = [(m.author, m.author_role, m.body) for m in
                 reporter.mailbox(ctx, access).messages if m.kind == "question"]
    assert questions == [("staff", "verifier", QUESTION)]

    before = last_seq(ctx)
    reporter.post_message(ctx, access, "Foto kuitansi saya kirim lewat lampiran.")
    assert state_of(ctx, filed.number) == S.RECEIVED.value
    assert [d.met_on for d in _deadlines(ctx, filed.number, "missing_data")] == [tuesday]
    fresh = [d for d in _deadlines(ctx, filed.number, "verification") if d.met_on is None]
    assert [(d.start_on, d.due_on) for d in fresh] == [
        (tuesday, due_date(NATIONAL, DEFAULT_RULES["verification"], tuesday))]
    assert [n.kind for n in notices_for_unit(ctx, "tim-pengelola", filed.number,
                                             "info_supplied") if n.done_on is None] == [
        "info_supplied"]
    # The reporter's act is staged for the day's batch (DESIGN §4), then logged with its day.
    with ctx.db() as s:
        staged = [p for p in s.scalars(select(PendingAuditEntry))
                  if p.action == audit_action(Action.REPORTER_SUPPLIES_INFO)]
    assert len(staged) == 1 and (staged[0].actor, staged[0].day) == ("reporter", tuesday)
    assert not [e for e in audit_since(ctx, before) if e.role == "reporter"]
    with ctx.db.begin() as s:
        pending.append_due(s, ctx.audit_keys, tuesday + timedelta(days=1))
    supplied = [e for e in audit_since(ctx, before)
                if e.action == audit_action(Action.REPORTER_SUPPLIES_INFO)]
    assert len(supplied) == 1 and supplied[0].actor == "reporter"
    assert supplied[0].occurred_at == tuesday.isoformat()
    assert _events(ctx, filed.number) == [("received", ""), ("needs_info", "request_info"),
                                          ("received", "reporter_supplies_info")]
    status = reporter.status(ctx, filed.code)
    assert status is not None and status.next_deadline == fresh[0].due_on

    # The question stays in the mailbox, and the case can be verified now.
    mailbox = reporter.mailbox(ctx, access)
    assert [m.kind for m in mailbox.messages] == ["question", "message"]
    assert dispose(ctx, verifier, filed.number) is S.VERIFIED


# =============================================================================================
# 6. A shielded reported unit is never a disposition target (issue 10: a complaint otherwise
#    goes to the unit responsible, tests/functional/test_issue_10_routing.py)
# =============================================================================================

def test_shielded_reported_unit_is_never_a_disposition_target(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    verifier = staff["verifier"]
    filed = file_report(ctx, reported_unit="dinas-pendidikan", shield=True)
    before = last_seq(ctx)
    for units in (["dinas-pendidikan"], ["dinas-kesehatan", "dinas-pendidikan"]):
        with pytest.raises(routing.InvalidInput) as invalid:
            dispose(ctx, verifier, filed.number, *units)
        assert invalid.value.code == "reported_unit"
    assert state_of(ctx, filed.number) == S.RECEIVED.value
    assert _tasks(ctx, filed.number) == {}
    assert not [e for e in audit_since(ctx, before) if e.outcome == "allowed"]
    with ctx.db() as s:
        holders = set(s.scalars(select(Unit.slug).join(
            CaseKeyWrap, CaseKeyWrap.recipient_id == Unit.id).where(
            CaseKeyWrap.case_id == _case_id(ctx, filed.number),
            CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.purpose == "content")))
    assert holders == {"tim-pengelola"}
    assert notices_for_unit(ctx, "dinas-pendidikan", filed.number) == []
    with pytest.raises(service.AccessDenied) as denied:
        service.view_case(ctx, staff["penghubung.pendidikan"], filed.number)
    assert denied.value.reason == "reported_unit"

    # Only agencies and BUMD receive dispositions: not APIP (that is hand_to_apip), not the
    # verifier team itself, and no unknown unit.
    for units, code in ((["inspektorat"], "unit_not_disposable"),
                        (["tim-pengelola"], "unit_not_disposable"),
                        (["dinas-tidak-ada"], "units_required")):
        with pytest.raises(routing.InvalidInput) as invalid:
            dispose(ctx, verifier, filed.number, *units)
        assert invalid.value.code == code
    assert dispose(ctx, verifier, filed.number, "dinas-kesehatan", "bumd-air-minum") is S.VERIFIED


# =============================================================================================
# Found on the way: the reporter objects on the day of the answer
# =============================================================================================

def test_objection_on_the_day_of_assignment_and_answer(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """An information request assigned, answered and objected to on one day (5-day requests
    are often answered at once) reopens the task with a fresh answer deadline."""
    liaison = staff["liaison"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, resolution_days=5)
    routing.start_processing(ctx, liaison, filed.number)
    routing.answer(ctx, liaison, filed.number, ANSWER)
    assert routing.reporter_act(ctx, reporter_access(ctx, filed.code), Action.REPORTER_OBJECTS,
                                "Jawaban belum menjawab pertanyaan saya.") is S.IN_PROCESS
    assert _tasks(ctx, filed.number)["dinas-kesehatan"].state == "in_process"
    assert [d.start_on for d in _deadlines(ctx, filed.number, "answer")
            if d.met_on is None] == [MONDAY]
