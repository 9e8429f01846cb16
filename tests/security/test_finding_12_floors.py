"""Issue 8, finding 12: rules an administrator can bend.

The objection and missing-data windows could be set to one calendar day, so cases closed or
were archived before the reporter could act. The limits that protect the reporter have floors
(the regulations' values), both where they are set and where they are applied; and a pending
identity request neither outlives its time nor the case's outcome.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.test_jobs import (
    LIAISON,
    case_of,
    deadline,
    dispose,
    go_to,
    run,
    staff,
)
from tests.functional.workflow_helpers import REASON
from wbs.cases import calendar_admin, identity, intake, routing, service
from wbs.cases.identity import AlreadyDecided
from wbs.cases.sla import DayUnit, DeadlineRule, rules_with_overrides
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import AuditEntry, DeadlineRuleRow, IdentityRequest, Notice


@pytest.mark.parametrize("key", ["objection", "missing_data"])
@pytest.mark.parametrize(("amount", "unit"), [(1, "calendar_days"), (9, "working_days"),
                                              (13, "calendar_days")])
def test_a_reporter_window_cannot_be_set_below_its_floor(ctx: Context, key: str, amount: int,
                                                         unit: str) -> None:
    with pytest.raises(calendar_admin.InvalidSetting) as refused:
        calendar_admin.set_rule(ctx, "admin", "administrator", key, amount, unit)
    assert refused.value.code == "below_floor"
    with ctx.db() as s:
        assert s.get(DeadlineRuleRow, key) is None


def test_longer_windows_stay_allowed(ctx: Context) -> None:
    # Jayapura: 30 calendar days for missing data (Perbup Jayapura 58/2023 Ps 14(4)).
    calendar_admin.set_rule(ctx, "admin", "administrator", "missing_data", 30, "calendar_days")
    calendar_admin.set_rule(ctx, "admin", "administrator", "objection", 15, "working_days")
    with ctx.db() as s:
        assert s.get(DeadlineRuleRow, "missing_data") is not None


def test_a_stored_rule_below_the_floor_is_never_applied(ctx: Context, demo: Any,
                                                        clock: Clock) -> None:
    # A row written before the floors existed, or straight into the database.
    with ctx.db.begin() as s:
        s.add(DeadlineRuleRow(key="objection", amount=1, unit="calendar_days"))
        s.add(DeadlineRuleRow(key="missing_data", amount=1, unit="calendar_days"))
    sub = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="Pungutan",
                                                what="Sekolah memungut biaya."), [], Channel.WEB)
    dispose(ctx, demo, clock, sub.case_number, 5)
    go_to(ctx, clock, date(2026, 3, 4))
    liaison = staff(ctx, demo, clock, LIAISON)
    routing.start_processing(ctx, liaison, sub.case_number)
    routing.answer(ctx, liaison, sub.case_number, "Pungutan dihentikan dan dikembalikan.")
    # Hand-counted: 5, 6, 9-13, 16, 17 March are nine working days; 18-24 March are cuti
    # bersama, Nyepi and Idul Fitri; the tenth is Wednesday 25 March 2026.
    assert deadline(ctx, sub.case_number, "objection").due_on == date(2026, 3, 25)
    go_to(ctx, clock, date(2026, 3, 6))  # two days later: a 1-day window would have closed it
    assert run(ctx).closed == 0
    assert case_of(ctx, sub.case_number).state == "answered"


def test_floors_hold_in_the_pure_rules() -> None:
    rules = rules_with_overrides([DeadlineRule("objection", 1, DayUnit.CALENDAR_DAYS),
                                  DeadlineRule("missing_data", 2, DayUnit.WORKING_DAYS)])
    assert rules["objection"] == DeadlineRule("objection", 10, DayUnit.WORKING_DAYS)
    assert rules["missing_data"] == DeadlineRule("missing_data", 10, DayUnit.WORKING_DAYS)


# --- identity requests ----------------------------------------------------------------------

def _whistleblowing_with_identity(ctx: Context) -> intake.Submission:
    report = intake.ReportInput(kind=ReportKind.WHISTLEBLOWING, title="Suap proyek jalan",
                                what="Kontraktor menyuap pejabat.",
                                identity=intake.Identity(name="Saksi Kunci"))
    return intake.submit(ctx, report, [], Channel.WEB)


def _request(ctx: Context, demo: Any, clock: Clock, number: str) -> int:
    investigator = staff(ctx, demo, clock, "investigator")
    service.state_purpose(ctx, investigator, number, "Pemeriksaan APIP")
    return identity.request_identity(ctx, investigator, number,
                                     "Laporan resmi ke Kejaksaan memerlukan identitas.")


def test_a_pending_identity_request_dies_with_the_case(ctx: Context, demo: Any,
                                                       clock: Clock) -> None:
    sub = _whistleblowing_with_identity(ctx)
    request_id = _request(ctx, demo, clock, sub.case_number)
    investigator = staff(ctx, demo, clock, "investigator")
    routing.archive(ctx, investigator, sub.case_number, REASON)

    with ctx.db() as s:
        req = s.get(IdentityRequest, request_id)
        assert req is not None and req.state == "expired"
        assert s.scalars(select(Notice).where(Notice.kind == "identity_request",
                                              Notice.done_on.is_(None))).all() == []
        ended = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "identity.request_expired")).all()
    assert [e.case_number for e in ended] == [sub.case_number]
    custodian = staff(ctx, demo, clock, "inspektur")
    assert identity.pending_requests(ctx, custodian) == []
    with pytest.raises(AlreadyDecided):
        identity.decide(ctx, custodian, request_id, True, "Perlu untuk pelaporan resmi.")


def test_a_pending_identity_request_expires(ctx: Context, demo: Any, clock: Clock) -> None:
    sub = _whistleblowing_with_identity(ctx)
    request_id = _request(ctx, demo, clock, sub.case_number)
    clock.advance(days=ctx.settings.identity_request_days + 1)
    custodian = staff(ctx, demo, clock, "inspektur")
    # Not listed, not decidable, even before the job marks it.
    assert identity.pending_requests(ctx, custodian) == []
    with pytest.raises(AlreadyDecided):
        identity.decide(ctx, custodian, request_id, True, "Perlu untuk pelaporan resmi.")
    assert identity.expire_requests(ctx) == 1
    with ctx.db() as s:
        req = s.get(IdentityRequest, request_id)
        assert req is not None and req.state == "expired"
    assert identity.expire_requests(ctx) == 0
