"""Keeping the unit complained about out of a complaint, when that is what the rules want
(RULES §6; issue 10).

A complaint goes to the unit responsible for the service, even the one complained about: it
must answer and improve. It goes elsewhere, reason recorded, when the reporter asks for fear of
retaliation (a box on the report form, stored as `Case.shield_reported_unit`) or when the
verifier sees a conflict of interest (this module). Whistleblowing and cases at APIP never
reach the reported unit at all (`access.reported_unit_excluded`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.cases.routing import OPEN_TASK, InvalidInput
from wbs.cases.service import with_case
from wbs.context import Context
from wbs.models import Case, CaseKeyWrap, CaseTask

MIN_REASON = 5


def shield(ctx: Context, staff: StaffIdentity, case_number: str, reason: str) -> None:
    """The verifier records a conflict: the named unit will not handle or see the complaint.

    Refused while that unit holds the case (it must first return its share, so that no work
    in progress is taken away without a trace, RULES §7)."""
    text = " ".join((reason or "").split())[:500]
    if len(text) < MIN_REASON:
        raise InvalidInput("reason_required")

    def act(session: Session, case: Case) -> None:
        if case.reported_unit_id is None:
            raise InvalidInput("no_reported_unit")
        holds = session.scalars(select(CaseKeyWrap.id).where(
            CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
            CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.recipient_id == case.reported_unit_id)).first()
        working = session.scalars(select(CaseTask.id).where(
            CaseTask.case_id == case.id, CaseTask.unit_id == case.reported_unit_id,
            CaseTask.state.in_(OPEN_TASK))).first()
        if holds is not None or working is not None:
            raise InvalidInput("reported_unit_holds_case")
        case.shield_reported_unit = True
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="case.shield_reported_unit", case_number=case.case_number,
                     reason=text, now=ctx.now())

    with_case(ctx, staff, case_number, Permission.CASE_DISPOSE, act)
