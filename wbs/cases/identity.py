"""Identity custody (DESIGN §3, RULES §1, §7): the reporter's identity key I is sealed away from
every handler. An investigator handling the case asks, with a written reason; a quorum of
custodians decides, each with a reason; on approval the custodian whose vote completes the
quorum unwraps I through the custodian unit's key and wraps it to the requester alone, for a
limited time. Custodians never hold the content key K. The reporter is told in the mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wbs import audit, notices
from wbs.access import Permission, authorize
from wbs.accounts import StaffIdentity
from wbs.cases import identity_requests, sealing
from wbs.cases.service import (
    AccessDenied,
    actor_of,
    identity_custodians,
    record_denial,
    refusals_recorded,
    scope_of,
    with_case,
)
from wbs.context import Context
from wbs.enums import UnitKind
from wbs.models import Case, CaseKeyWrap, IdentityDecision, IdentityRequest, Notice, Unit, User
from wbs.refusals import Refusal

MAX_REASON = 500


class NothingToDisclose(Refusal):
    """The reporter is anonymous: there is no identity to disclose."""

    code = "nothing_to_disclose"


class AlreadyDecided(Refusal):
    code = "already_decided"


@dataclass(frozen=True)
class PendingRequest:
    id: int
    case_number: str
    requester: str
    reason: str
    created_at: datetime
    approvals: int
    quorum: int
    decided_by_me: bool = False  # this custodian already approved; others must still decide


@dataclass(frozen=True)
class Disclosure:
    """What the reporter is told: when, to which role, why. Never the investigator's name."""

    on: date
    role: str
    reason: str
    expires_on: date | None


def _reason(text: str) -> str:
    cleaned = " ".join(text.split())[:MAX_REASON]
    if len(cleaned) < 10:
        raise ValueError("reason_required")
    return cleaned


def request_identity(ctx: Context, staff: StaffIdentity, case_number: str, reason: str) -> int:
    text = _reason(reason)

    def act(session: Session, case: Case) -> int:
        if not case.identity_provided:
            raise NothingToDisclose
        pending = session.scalars(select(IdentityRequest).where(
            IdentityRequest.case_id == case.id, IdentityRequest.requester_id == staff.user_id,
            IdentityRequest.state == "pending")).first()
        if pending is not None:
            return pending.id
        row = IdentityRequest(case_id=case.id, requester_id=staff.user_id, reason=text,
                              state="pending", quorum=max(1, ctx.settings.identity_quorum),
                              created_at=ctx.now())
        session.add(row)
        session.flush()
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="identity.request", case_number=case.case_number, reason=text,
                     details={"request": row.id}, now=ctx.now())
        # The custodians learn of it on their start page and by e-mail: a request nobody
        # sees is a request that waits forever.
        for unit_id in session.scalars(select(Unit.id).where(
                Unit.kind == UnitKind.CUSTODIAN.value)):
            notices.notify_unit(session, ctx, case, unit_id, "identity_request", None)
        return row.id

    return with_case(ctx, staff, case_number, Permission.CASE_IDENTITY_REQUEST, act)


# The custodians' queue, one page at a time (issue 12): requests by row id, read in batches
# from the last one shown until a page of those this custodian may decide is filled, and the
# next page found by the id of its last request (the link's only value).
PER_PAGE = 20


@dataclass(frozen=True)
class RequestPage:
    rows: list[PendingRequest]
    next_after: int | None  # the id the next page continues after; None on the last page


def pending_page(ctx: Context, staff: StaffIdentity, *, after: int | None = None,
                 per_page: int = PER_PAGE, undecided: bool = False) -> RequestPage:
    """One page of the pending requests this custodian may decide (only those they have not
    decided yet with `undecided`), oldest first."""
    actor = actor_of(staff)
    result: list[PendingRequest] = []
    cursor = after or 0
    with ctx.read() as session:
        while len(result) <= per_page:
            batch = session.execute(
                select(IdentityRequest, Case, User.username)
                .join(Case, Case.id == IdentityRequest.case_id)
                .join(User, User.id == IdentityRequest.requester_id)
                .where(IdentityRequest.state == "pending", IdentityRequest.id > cursor)
                .order_by(IdentityRequest.id).limit(per_page + 1)).all()
            for req, case, requester in batch:
                cursor = req.id
                if not identity_requests.is_live(req, case, ctx.now(),
                                                 ctx.settings.identity_request_days):
                    continue  # past its time or its case: the job marks it expired
                # A custodian with a conflict on the case (or from the reported unit), or one
                # nobody vouched for, never sees it.
                scope = scope_of(session, case, ctx.now())
                if not authorize(actor, Permission.CASE_IDENTITY_DECIDE, scope).allowed:
                    continue
                decided = session.execute(select(IdentityDecision.custodian_id).where(
                    IdentityDecision.request_id == req.id,
                    IdentityDecision.approve)).scalars().all()
                if undecided and staff.user_id in decided:
                    continue
                counted = [uid for uid in decided if uid in scope.identity_custodians]
                result.append(PendingRequest(req.id, case.case_number, requester, req.reason,
                                             req.created_at, len(counted), req.quorum,
                                             decided_by_me=staff.user_id in decided))
                if len(result) > per_page:
                    break
            if len(batch) <= per_page:
                break
    more = len(result) > per_page
    rows = result[:per_page]
    return RequestPage(rows, rows[-1].id if more else None)


def pending_requests(ctx: Context, staff: StaffIdentity, *,
                     after: int | None = None) -> list[PendingRequest]:
    """The first page (or the page after `after`) of the requests this custodian may decide."""
    return pending_page(ctx, staff, after=after).rows


# The start page counts the requests awaiting this custodian up to this many (each is checked
# for its case's scope, so a count is a walk of the queue); beyond, it says "more than".
AWAITING_CAP = 100


@dataclass(frozen=True)
class Awaiting:
    rows: list[PendingRequest]  # the first page of them
    count: int  # how many, up to AWAITING_CAP
    capped: bool  # more than AWAITING_CAP


def awaiting_decision(ctx: Context, staff: StaffIdentity) -> Awaiting:
    """The requests this custodian still has to decide on (their start page's work): the
    first page of them and how many there are (capped)."""
    page = pending_page(ctx, staff, undecided=True, per_page=AWAITING_CAP)
    return Awaiting(page.rows[:PER_PAGE], len(page.rows), page.next_after is not None)


def _settle_notices(session: Session, ctx: Context, staff: StaffIdentity,
                    req: IdentityRequest, case: Case) -> None:
    """This custodian's notice is done once they decided; everyone's once no request on the
    case waits any more."""
    still_waiting = session.scalars(select(IdentityRequest.id).where(
        IdentityRequest.case_id == case.id, IdentityRequest.state == "pending",
        IdentityRequest.id != req.id)).first() is not None or req.state == "pending"
    query = select(Notice).where(Notice.case_id == case.id, Notice.kind == "identity_request",
                                 Notice.done_on.is_(None))
    if still_waiting:
        query = query.where(Notice.user_id == staff.user_id)
    for notice in session.scalars(query):
        notice.done_on = ctx.today()


def decide(ctx: Context, staff: StaffIdentity, request_id: int, approve: bool,
           reason: str) -> str:
    """Record one custodian's decision; returns the request's state afterwards."""
    text = _reason(reason)
    denied: str | None = None
    with (refusals_recorded(ctx, staff, Permission.CASE_IDENTITY_DECIDE, None),
          ctx.db.begin() as session):
        req = session.get(IdentityRequest, request_id)
        # The case row is the lock every act on the case takes (finding 6): two custodians
        # deciding at once are counted one after the other, so a quorum is never missed or
        # passed twice. The request is read again under it.
        case = (session.get(Case, req.case_id, with_for_update=True, populate_existing=True)
                if req else None)
        if req is not None:
            session.refresh(req)
        if req is None or case is None:
            denied = "unknown_request"
        else:
            decision = authorize(actor_of(staff), Permission.CASE_IDENTITY_DECIDE,
                                 scope_of(session, case, ctx.now()))
            if not decision.allowed:
                denied = decision.reason
            elif req.requester_id == staff.user_id:
                denied = "own_request"
            elif session.scalars(select(Unit.id).where(
                    Unit.id == staff.unit_id,
                    Unit.kind == UnitKind.CUSTODIAN.value)).first() is None:
                # Checked before anything is recorded, so a refusal never discards a decision.
                denied = "not_a_custodian_unit"
            else:
                return _apply_decision(session, ctx, staff, req, case, approve, text,
                                       identity_custodians(session, case))
    record_denial(ctx, staff, Permission.CASE_IDENTITY_DECIDE, None, denied)
    raise AccessDenied(denied)


def _apply_decision(session: Session, ctx: Context, staff: StaffIdentity, req: IdentityRequest,
                    case: Case, approve: bool, text: str, vouched: frozenset[int]) -> str:
    if not identity_requests.is_live(req, case, ctx.now(), ctx.settings.identity_request_days):
        raise AlreadyDecided  # decided, expired, or its case has ended (finding 12)
    if session.scalars(select(IdentityDecision).where(
            IdentityDecision.request_id == req.id,
            IdentityDecision.custodian_id == staff.user_id)).first():
        raise AlreadyDecided
    now = ctx.now()
    session.add(IdentityDecision(request_id=req.id, custodian_id=staff.user_id, approve=approve,
                                 reason=text, decided_at=now))
    session.flush()
    audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                 action="identity.decide", case_number=case.case_number, reason=text,
                 details={"request": req.id, "approve": approve}, now=now)
    if not approve:
        # One refusal ends the request: disclosure needs the custodians' agreement.
        req.state, req.decided_at = "denied", now
        _settle_notices(session, ctx, staff, req, case)
        return req.state
    # Only the approvals of custodians vouched for now count: a vote stored by an account that
    # never held the key (or no longer does) never completes a quorum.
    approvals = len(session.scalars(select(IdentityDecision.id).where(
        IdentityDecision.request_id == req.id, IdentityDecision.approve,
        IdentityDecision.custodian_id.in_(vouched))).all())
    if approvals >= req.quorum:
        _disclose(session, ctx, staff, req, case, now)
    _settle_notices(session, ctx, staff, req, case)
    return req.state


def _disclose(session: Session, ctx: Context, staff: StaffIdentity, req: IdentityRequest,
              case: Case, now: datetime) -> None:
    custodians = session.scalars(select(Unit).where(Unit.id == staff.unit_id,
                                                    Unit.kind == UnitKind.CUSTODIAN.value)).first()
    requester = session.get(User, req.requester_id)
    if custodians is None or requester is None:
        raise AccessDenied("not_a_custodian_unit")
    identity_key = sealing.staff_unwrap_via_unit(session, case, "identity", custodians,
                                                 staff.user_id, staff.username,
                                                 staff.private_key())
    expires = now + timedelta(days=ctx.settings.identity_disclosure_days)
    session.execute(delete(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "identity",
        CaseKeyWrap.recipient_kind == "user", CaseKeyWrap.recipient_id == requester.id))
    sealing.wrap_to_user(session, case, "identity", requester.id, requester.username,
                         requester.public_key, identity_key, expires)
    req.state, req.decided_at, req.expires_at = "approved", now, expires
    audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                 action="identity.disclose", case_number=case.case_number, reason=req.reason,
                 details={"request": req.id, "to_role": requester.role,
                          "expires": expires.date().isoformat()}, now=now)


def read_identity(ctx: Context, staff: StaffIdentity, case_number: str) -> dict[str, Any]:
    def act(session: Session, case: Case) -> dict[str, Any]:
        key = sealing.staff_unwrap_direct(session, case, "identity", staff.user_id,
                                          staff.username, staff.private_key(), ctx.now())
        if case.identity_sealed is None:
            raise NothingToDisclose
        identity: dict[str, Any] = sealing.open_json(key, case, "identity", case.identity_sealed)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="identity.view", case_number=case.case_number, now=ctx.now())
        return identity

    return with_case(ctx, staff, case_number, Permission.CASE_IDENTITY_READ, act)


def disclosures(session: Session, case: Case) -> list[Disclosure]:
    rows = session.execute(select(IdentityRequest, User.role)
                           .join(User, User.id == IdentityRequest.requester_id)
                           .where(IdentityRequest.case_id == case.id,
                                  IdentityRequest.state.in_(("approved", "expired")))
                           .order_by(IdentityRequest.id)).all()
    return [Disclosure(on=(req.decided_at or req.created_at).date(), role=role, reason=req.reason,
                       expires_on=req.expires_at.date() if req.expires_at else None)
            for req, role in rows]


def expire_disclosures(ctx: Context) -> int:
    """Delete identity wraps past their time (job). Returns how many were removed."""
    now = ctx.now()
    removed = 0
    with ctx.db.begin() as session:
        for req in session.scalars(select(IdentityRequest).where(
                IdentityRequest.state == "approved")).all():
            if req.expires_at is None or sealing.aware(req.expires_at, now) > now:
                continue
            session.execute(delete(CaseKeyWrap).where(
                CaseKeyWrap.case_id == req.case_id, CaseKeyWrap.purpose == "identity",
                CaseKeyWrap.recipient_kind == "user", CaseKeyWrap.recipient_id == req.requester_id))
            req.state = "expired"
            case = session.get(Case, req.case_id)
            audit.record(session, ctx.audit_keys, actor="system", role="system",
                         action="identity.disclosure_expired",
                         case_number=case.case_number if case else None,
                         details={"request": req.id}, now=now)
            removed += 1
    return removed


def expire_requests(ctx: Context) -> int:
    """Job: pending requests past `identity_request_days` or on an ended case expire."""
    return identity_requests.expire(ctx)
