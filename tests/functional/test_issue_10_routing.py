"""Issue 10: complaints go to the unit responsible for the service, whistleblowing never.

The rule "the reported unit never receives its own case" is right for whistleblowing and wrong
for an ordinary complaint, which the unit concerned must answer and fix (RULES §6). Unless the
reporter asks otherwise for fear of retaliation, or the verifier sees a conflict.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    ANSWER,
    REASON,
    dispose,
    file_report,
    listed,
    staff_team,
    state_of,
    view,
)
from wbs.accounts import StaffIdentity
from wbs.cases import reported_unit, routing, service
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState, ReportKind
from wbs.models import AuditEntry

NAMED = "dinas-pendidikan"
NAMED_LIAISON = "penghubung.pendidikan"


@pytest.fixture
def staff(ctx: Context, demo: Any, clock: Clock) -> dict[str, StaffIdentity]:
    return staff_team(ctx, demo, clock, "verifikator", NAMED_LIAISON, "penghubung.kesehatan",
                      "investigator")


def _denials(ctx: Context, number: str, actor: str) -> list[str]:
    with ctx.db() as s:
        return [e.details for e in s.scalars(select(AuditEntry).where(
            AuditEntry.case_number == number, AuditEntry.actor == actor,
            AuditEntry.outcome == "denied"))]


def test_a_complaint_goes_to_the_unit_it_names(ctx: Context,
                                               staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx, reported_unit=NAMED)
    assert dispose(ctx, staff["verifikator"], filed.number, NAMED) is CaseState.VERIFIED
    liaison = staff[NAMED_LIAISON]
    assert filed.number in listed(ctx, liaison)
    assert view(ctx, liaison, filed.number).case_number == filed.number
    routing.start_processing(ctx, liaison, filed.number)
    assert routing.answer(ctx, liaison, filed.number, ANSWER) is CaseState.ANSWERED


def test_the_reporter_who_fears_retaliation_keeps_the_named_unit_out(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx, reported_unit=NAMED, shield=True)
    with pytest.raises(routing.InvalidInput) as refused:
        dispose(ctx, staff["verifikator"], filed.number, NAMED)
    assert refused.value.code == "reported_unit"
    dispose(ctx, staff["verifikator"], filed.number, "dinas-kesehatan")
    liaison = staff[NAMED_LIAISON]
    assert filed.number not in listed(ctx, liaison)
    with pytest.raises(service.AccessDenied) as denied:
        view(ctx, liaison, filed.number)
    assert denied.value.reason == "reported_unit"
    assert any("reported_unit" in d for d in _denials(ctx, filed.number, NAMED_LIAISON))


def test_the_verifier_who_sees_a_conflict_keeps_the_named_unit_out(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx, reported_unit=NAMED)
    verifier = staff["verifikator"]
    with pytest.raises(routing.InvalidInput):
        reported_unit.shield(ctx, verifier, filed.number, "")  # a reason is required
    reported_unit.shield(ctx, verifier, filed.number, "Kepala dinas adalah pihak terlapor.")
    with pytest.raises(routing.InvalidInput) as refused:
        dispose(ctx, verifier, filed.number, NAMED)
    assert refused.value.code == "reported_unit"
    with ctx.db() as s:
        [entry] = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.shield_reported_unit")).all()
    assert (entry.actor, entry.case_number) == ("verifikator", filed.number)

    # Once the named unit holds a complaint, it must return it before being kept out.
    other = file_report(ctx, reported_unit=NAMED)
    dispose(ctx, verifier, other.number, NAMED)
    with pytest.raises(routing.InvalidInput) as busy:
        reported_unit.shield(ctx, verifier, other.number, "Konflik kepentingan ditemukan.")
    assert busy.value.code == "reported_unit_holds_case"


def test_whistleblowing_and_apip_cases_never_reach_the_named_unit(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    wb = file_report(ctx, ReportKind.WHISTLEBLOWING, reported_unit=NAMED)
    liaison = staff[NAMED_LIAISON]
    with pytest.raises(service.AccessDenied) as denied:
        view(ctx, liaison, wb.number)
    assert denied.value.reason == "reported_unit"

    # A complaint handed to APIP leaves the named unit, which had been answering it.
    complaint = file_report(ctx, reported_unit=NAMED)
    dispose(ctx, staff["verifikator"], complaint.number, NAMED)
    routing.start_processing(ctx, liaison, complaint.number)
    routing.answer(ctx, liaison, complaint.number, ANSWER)
    from tests.functional.workflow_helpers import reporter_access

    routing.reporter_act(ctx, reporter_access(ctx, complaint.code),
                         Action.REPORTER_REQUESTS_APIP, REASON)
    assert state_of(ctx, complaint.number) == CaseState.VERIFIED.value
    assert complaint.number not in listed(ctx, liaison)
    with pytest.raises(service.AccessDenied) as gone:
        view(ctx, liaison, complaint.number)
    assert gone.value.reason == "reported_unit"


def test_the_60_day_limit_needs_oversight_content(ctx: Context,
                                                  staff: dict[str, StaffIdentity]) -> None:
    # RULES §5: 60 working days only for oversight content and a field check.
    filed = file_report(ctx)
    for classification in ("no_oversight", "other"):
        with pytest.raises(routing.InvalidInput) as refused:
            routing.verify_and_dispose(ctx, staff["verifikator"], filed.number,
                                       classification=classification, resolution_days=60,
                                       unit_slugs=["dinas-kesehatan"])
        assert refused.value.code == "resolution_classification"
    assert state_of(ctx, filed.number) == CaseState.RECEIVED.value
    assert routing.verify_and_dispose(
        ctx, staff["verifikator"], filed.number, classification="needs_oversight",
        resolution_days=60, unit_slugs=["dinas-kesehatan"]) is CaseState.VERIFIED


def test_the_verifier_answers_an_aspiration_itself(ctx: Context,
                                                   staff: dict[str, StaffIdentity]) -> None:
    from tests.functional.workflow_helpers import reporter_access
    from wbs.cases import reporter

    verifier = staff["verifikator"]
    aspiration = file_report(ctx, ReportKind.ASPIRATION)
    complaint = file_report(ctx)
    assert "answer_aspiration" in routing.panel(ctx, verifier, aspiration.number).actions
    assert "answer_aspiration" not in routing.panel(ctx, verifier, complaint.number).actions
    with pytest.raises(routing.TransitionRefused) as refused:
        routing.answer_aspiration(ctx, verifier, complaint.number, ANSWER)
    assert refused.value.code == "not_an_aspiration"

    assert routing.answer_aspiration(ctx, verifier, aspiration.number,
                                     "Terima kasih, usulan Anda kami teruskan ke Bappeda.") \
        is CaseState.ANSWERED
    # A reply goes back to the verifier team, which answers again.
    reporter.post_message(ctx, reporter_access(ctx, aspiration.code), "Kapan dibahas?")
    assert state_of(ctx, aspiration.number) == CaseState.IN_PROCESS.value
    assert routing.answer_aspiration(ctx, verifier, aspiration.number,
                                     "Dibahas dalam Musrenbang bulan depan.") \
        is CaseState.ANSWERED
