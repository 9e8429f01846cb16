"""Pending identity requests end with their time or with the case (issue 8, finding 12).

A request to see a reporter's identity is a means to an examination. Once the case has an
outcome (closed, archived, forwarded) there is nothing left to examine, and a request nobody
decided within `identity_request_days` is a forgotten one: approving either later would
disclose an identity for no live purpose. Both end as `expired`, audited, and the custodians'
notices about them are settled. Kept apart from `identity` so that the workflow can call it
in the transaction that ends a case without joining the import circle of `wbs/cases/`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases import sealing
from wbs.context import Context
from wbs.enums import CaseState
from wbs.models import Case, IdentityRequest, Notice

ENDED_STATES = (CaseState.CLOSED.value, CaseState.ARCHIVED.value, CaseState.FORWARDED.value)


def is_live(req: IdentityRequest, case: Case, now: datetime, days: int) -> bool:
    """Whether a pending request may still be decided now."""
    return (req.state == "pending" and case.state not in ENDED_STATES
            and sealing.aware(req.created_at, now) + timedelta(days=days) > now)


def end(session: Session, ctx: Context, req: IdentityRequest, case: Case, why: str) -> None:
    req.state, req.decided_at = "expired", ctx.now()
    audit.record(session, ctx.audit_keys, actor="system", role="system",
                 action="identity.request_expired", case_number=case.case_number,
                 details={"request": req.id, "why": why}, now=ctx.now())
    still = session.scalars(select(IdentityRequest.id).where(
        IdentityRequest.case_id == case.id, IdentityRequest.state == "pending",
        IdentityRequest.id != req.id)).first()
    if still is None:
        for notice in session.scalars(select(Notice).where(
                Notice.case_id == case.id, Notice.kind == "identity_request",
                Notice.done_on.is_(None))):
            notice.done_on = ctx.today()


def end_with_case(session: Session, ctx: Context, case: Case) -> None:
    """Called in the transaction that gives the case its outcome."""
    for req in session.scalars(select(IdentityRequest).where(
            IdentityRequest.case_id == case.id, IdentityRequest.state == "pending")).all():
        end(session, ctx, req, case, "case_ended")


def expire(ctx: Context) -> int:
    """Job: end every pending request past its time or on an ended case; returns how many.

    Each request is ended under its case's row lock, re-read there: a custodian deciding at the
    same moment holds that lock too (issue 8, finding 6), so an approval is never overwritten
    with "undecided" after the identity was disclosed.
    """
    now, days, ended = ctx.now(), ctx.settings.identity_request_days, 0
    with ctx.read() as session:
        candidates = session.execute(select(IdentityRequest.id, Case.id).join(
            Case, Case.id == IdentityRequest.case_id).where(
            IdentityRequest.state == "pending")).all()
    for request_id, case_id in candidates:
        with ctx.db.begin() as session:
            case = session.scalars(select(Case).where(Case.id == case_id)
                                   .with_for_update()).one()
            req = session.scalars(select(IdentityRequest).where(
                IdentityRequest.id == request_id, IdentityRequest.state == "pending")
                .execution_options(populate_existing=True)).first()
            if req is not None and not is_live(req, case, now, days):
                end(session, ctx, req, case,
                    "case_ended" if case.state in ENDED_STATES else "undecided")
                ended += 1
    return ended
