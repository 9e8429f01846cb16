"""Compensation (ganti rugi, Perbup Sanggau 33/2019 Ps 17(3), 18; issue 10).

A complaint claims compensation, itemised; the handling unit declares the file complete (the
60-working-day decision limit starts), decides amount and payment deadline (the 14-working-day
delivery limit starts), and delivers the decision to the reporter. Dates are hand-computed from
the 2026 calendar of the `holidays` package:

  Nyepi 18-19 Mar (with cuti bersama), Idul Fitri 20-24 Mar (cuti bersama 20, 23, 24), Good
  Friday 3 Apr, 1 May, Ascension 14-15 May, Idul Adha 27-28 May, Pancasila 1 Jun; Christmas 24-25
  Dec (cuti bersama 24), New Year 1 Jan 2027, Isra Mikraj 5 Jan 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    ANSWER,
    REASON,
    audit_since,
    dispose,
    file_report,
    last_seq,
    reporter_access,
    staff_team,
)
from wbs.access import Actor, CaseScope, Permission, authorize
from wbs.cases import compensation, jobs, reporter, routing, service
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState, ReportKind, Role
from wbs.models import Case, CompensationClaim, Deadline, Notice

ITEM_CANARY = "Sepeda motor rusak CANARY-COMP-77"
ITEMS = [{"description": ITEM_CANARY, "amount": "1.500.000"},
         {"description": "Biaya pengobatan", "amount": 750000}]


@pytest.fixture
def team(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock) -> Any:
    return staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan", "pimpinan")


def _in_process(ctx: Context, team: Any) -> tuple[str, str]:
    filed = file_report(ctx)
    dispose(ctx, team["verifikator"], filed.number)
    routing.start_processing(ctx, team["penghubung.kesehatan"], filed.number)
    return filed.number, filed.code


def _deadline(ctx: Context, kind: str) -> Deadline:
    with ctx.db() as s:
        return s.scalars(select(Deadline).where(Deadline.kind == kind)).one()


def _on(clock: Clock, day: date) -> None:
    clock.current = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 09:00 WIB


def test_decision_within_60_and_delivery_within_14_working_days(
        ctx: Context, team: Any, clock: Clock) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)  # Monday 2 March 2026
    compensation.claim_by_reporter(ctx, reporter_access(ctx, code), ITEMS)
    seq = last_seq(ctx)
    # 60 WD from Mon 2 Mar: March 3-17 (11), 25-31 (16), April 1-2 (18), 6-30 (37), May 4-13
    # (45), 18-26 (52), 29 (53), June 2-10 (60).
    assert compensation.file_complete(ctx, liaison, number) == date(2026, 6, 10)
    row = _deadline(ctx, "decision")
    assert (row.start_on, row.due_on, row.rule_key) == (date(2026, 3, 2), date(2026, 6, 10),
                                                         "decision")
    [entry] = audit_since(ctx, seq)
    assert (entry.action, entry.actor) == ("compensation.file_complete", liaison.username)

    _on(clock, date(2026, 3, 17))  # Tuesday, the eve of Nyepi
    due = compensation.decide(ctx, liaison, number, amount="2.000.000",
                              payment_due_on=date(2026, 4, 30), reason=REASON)
    # 14 WD from Tue 17 Mar: 18-24 off; 25-27 (3), 30-31 (5), Apr 1-2 (7), 6-10 (12), 13-14.
    assert due == date(2026, 4, 14)
    assert _deadline(ctx, "decision").met_on == date(2026, 3, 17)
    assert _deadline(ctx, "decision_delivery").due_on == date(2026, 4, 14)

    _on(clock, date(2026, 3, 25))
    compensation.deliver(ctx, liaison, number)
    assert _deadline(ctx, "decision_delivery").met_on == date(2026, 3, 25)
    box = reporter.mailbox(ctx, reporter_access(ctx, code))
    [notice] = [m for m in box.messages if m.kind == "notice"]
    assert "Rp 2.000.000" in notice.body and "30-04-2026" in notice.body

    service.state_purpose(ctx, liaison, number, "Memutus ganti rugi")
    claim = compensation.view(ctx, liaison, number)
    assert claim is not None and claim.total == 2_250_000
    assert [i.amount for i in claim.items] == [1_500_000, 750_000]
    assert claim.decision == compensation.Decision(2_000_000, date(2026, 4, 30), REASON)
    assert (claim.decided_on, claim.delivered_on) == (date(2026, 3, 17), date(2026, 3, 25))


def test_delivery_limit_over_christmas_and_new_year(ctx: Context, team: Any,
                                                    clock: Clock) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)
    compensation.claim_by_staff(ctx, liaison, number, ITEMS)
    compensation.file_complete(ctx, liaison, number)
    _on(clock, date(2026, 12, 16))  # Wednesday
    # 14 WD: Dec 17-18 (2), 21-23 (5), 24-25 off, 28-31 (9), Jan 1 off, 4 (10), 5 off, 6-8 (13),
    # 11 (14).
    assert compensation.decide(ctx, liaison, number, amount=0, payment_due_on=None,
                               reason="Kerugian tidak terbukti.") == date(2027, 1, 11)
    compensation.deliver(ctx, liaison, number)
    box = reporter.mailbox(ctx, reporter_access(ctx, code))
    assert any("ditolak" in m.body for m in box.messages if m.kind == "notice")


def test_closing_the_complaint_keeps_the_decision_owed_and_escalated(
        ctx: Context, team: Any, clock: Clock) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)
    compensation.claim_by_reporter(ctx, reporter_access(ctx, code), ITEMS)
    compensation.file_complete(ctx, liaison, number)
    routing.answer(ctx, liaison, number, ANSWER)
    routing.reporter_act(ctx, reporter_access(ctx, code), Action.REPORTER_ACCEPTS)
    assert _deadline(ctx, "decision").met_on is None  # closing did not settle it
    _on(clock, date(2026, 6, 11))  # the day after the limit
    assert jobs.run_workflow_jobs(ctx).escalated == 1
    row = _deadline(ctx, "decision")
    assert row.escalated_on == date(2026, 6, 11)
    with ctx.db() as s:
        overdue = s.scalars(select(Notice).where(Notice.kind == "overdue",
                                                 Notice.due_on == row.due_on)).all()
    assert {n.user_id for n in overdue} == {liaison.user_id}
    # The unit may still decide on the closed complaint.
    compensation.decide(ctx, liaison, number, amount=500_000,
                        payment_due_on=date(2026, 7, 31), reason=REASON)
    assert _deadline(ctx, "decision").met_on == date(2026, 6, 11)


def test_auto_close_keeps_the_decision_open(ctx: Context, team: Any, clock: Clock) -> None:
    liaison = team["penghubung.kesehatan"]
    number, _code = _in_process(ctx, team)
    compensation.claim_by_staff(ctx, liaison, number, ITEMS)
    compensation.file_complete(ctx, liaison, number)
    routing.answer(ctx, liaison, number, ANSWER)
    _on(clock, date(2026, 4, 30))  # long past the reporter's 10 working days
    report = jobs.run_workflow_jobs(ctx)
    assert report.closed == 1
    assert _deadline(ctx, "decision").met_on is None


def test_bad_claims_and_decisions_are_refused(ctx: Context, team: Any) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)
    access = reporter_access(ctx, code)
    for bad in ([], [{"description": "x", "amount": "-5"}], [{"description": "", "amount": 1}],
                [{"description": "x", "amount": "12abc"}], [{"description": "x", "amount": 0}],
                [{"description": "x", "amount": True}]):
        with pytest.raises(compensation.CompensationRefused):
            compensation.claim_by_reporter(ctx, access, bad)
    with pytest.raises(compensation.CompensationRefused, match="no_claim"):
        compensation.file_complete(ctx, liaison, number)
    compensation.claim_by_reporter(ctx, access, ITEMS)
    with pytest.raises(compensation.CompensationRefused, match="file_not_complete"):
        compensation.decide(ctx, liaison, number, amount=1, payment_due_on=date(2026, 5, 1),
                            reason=REASON)
    compensation.file_complete(ctx, liaison, number)
    with pytest.raises(compensation.CompensationRefused, match="claim_frozen"):
        compensation.claim_by_reporter(ctx, access, ITEMS)
    with pytest.raises(compensation.CompensationRefused, match="payment_due_required"):
        compensation.decide(ctx, liaison, number, amount=1000, payment_due_on=None,
                            reason=REASON)
    with pytest.raises(compensation.CompensationRefused, match="not_decided"):
        compensation.deliver(ctx, liaison, number)
    whistle = file_report(ctx, kind=ReportKind.WHISTLEBLOWING)
    with pytest.raises(compensation.CompensationRefused, match="complaints_only"):
        compensation.claim_by_reporter(ctx, reporter_access(ctx, whistle.code), ITEMS)


def test_forbidden_compensation_acts_are_refused_and_audited(ctx: Context, team: Any) -> None:
    number, _code = _in_process(ctx, team)
    verifier, leader = team["verifikator"], team["pimpinan"]
    for staff in (verifier, leader):
        seq = last_seq(ctx)
        with pytest.raises(service.AccessDenied):
            compensation.claim_by_staff(ctx, staff, number, ITEMS)
        [entry] = audit_since(ctx, seq)
        assert entry.outcome == "denied" and "case:compensation:decide" in entry.details


@pytest.mark.parametrize(("kind", "state", "allowed"), [
    (ReportKind.COMPLAINT, CaseState.IN_PROCESS, True),
    (ReportKind.COMPLAINT, CaseState.ANSWERED, True),
    (ReportKind.COMPLAINT, CaseState.CLOSED, True),
    (ReportKind.COMPLAINT, CaseState.ARCHIVED, False),
    (ReportKind.COMPLAINT, CaseState.FORWARDED, False),
    (ReportKind.ASPIRATION, CaseState.IN_PROCESS, False),
    (ReportKind.WHISTLEBLOWING, CaseState.IN_PROCESS, False),
])
def test_compensation_rule_in_access(kind: ReportKind, state: CaseState, allowed: bool) -> None:
    liaison = Actor(user_id=7, username="p", role=Role.LIAISON, unit_id=3)
    scope = CaseScope(case_number="WBS-2026-000001", kind=kind, state=state, at_apip=False,
                      holding_units=frozenset({3}), reported_unit_id=None)
    assert authorize(liaison, Permission.CASE_COMPENSATION_DECIDE, scope).allowed is allowed
    other_unit = Actor(user_id=8, username="q", role=Role.LIAISON, unit_id=4)
    assert not authorize(other_unit, Permission.CASE_COMPENSATION_DECIDE, scope).allowed


def test_claim_is_sealed_and_audit_rows_carry_no_amounts(ctx: Context, team: Any) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)
    seq = last_seq(ctx)
    compensation.claim_by_reporter(ctx, reporter_access(ctx, code), ITEMS)
    compensation.file_complete(ctx, liaison, number)
    compensation.decide(ctx, liaison, number, amount="1.234.567",
                        payment_due_on=date(2026, 5, 29), reason=REASON)
    with ctx.db() as s:
        claim = s.scalars(select(CompensationClaim)).one()
        assert ITEM_CANARY.encode() not in claim.items_sealed
        assert claim.decision_sealed is not None and b"1234567" not in claim.decision_sealed
        assert claim.payment_due_on == date(2026, 5, 29)
    for entry in audit_since(ctx, seq):
        assert "1234567" not in entry.details and "CANARY" not in entry.details
    url = ctx.settings.database_url
    if url.startswith("sqlite:///"):
        ctx.engine.dispose()
        raw = b"".join(p.read_bytes() for p in Path(url.removeprefix("sqlite:///")).parent.glob(
            "wbs.sqlite3*"))
        assert ITEM_CANARY.encode() not in raw


def test_shredding_erases_the_claim(ctx: Context, team: Any) -> None:
    from wbs.ops import retention

    number, code = _in_process(ctx, team)
    compensation.claim_by_reporter(ctx, reporter_access(ctx, code), ITEMS)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        retention._shred(s, ctx, case, ctx.today())
    with ctx.db() as s:
        claim = s.scalars(select(CompensationClaim)).one()
        assert (claim.items_sealed, claim.decision_sealed) == (b"", None)
