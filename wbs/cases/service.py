"""Staff access to cases: every read and change passes `authorize` and leaves an audit row.

Service functions refuse to decrypt without an allowing verdict. A refusal is recorded (outcome
"denied") in its own committed transaction, then raised as `AccessDenied`: no trace, no act, and
also no refusal without a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.access import Actor, CaseScope, Permission, authorize, role_has
from wbs.accounts import StaffIdentity
from wbs.cases import attachments, sealing
from wbs.cases.listing import visible as _visible  # the one rule of who may list a case
from wbs.cases.reporter import MessageView, add_message, read_messages
from wbs.context import Context
from wbs.enums import AuditOutcome, CaseState, ReportKind
from wbs.models import (
    AccessPurpose,
    Case,
    CaseEvent,
    CaseKeyWrap,
    Conflict,
    Unit,
    UnitKeyWrap,
    User,
)
from wbs.refusals import Refusal

T = TypeVar("T")
MAX_PURPOSE = 300


class AccessDenied(Refusal):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = self.code = reason


class PurposeRequired(Exception):
    """The first decryption of a case in a session needs a stated purpose."""


class CaseNotFound(Refusal):
    """No such case, or no such file on a case (404). Raised by an act, it is recorded like any
    refusal: probing attachment numbers of a readable case leaves a trace."""

    code = "not_found"


class CaseHidden(AccessDenied):
    """The actor may not see this case, or it does not exist: the caller answers as for a
    number that does not exist (finding 8.10). Still an `AccessDenied` to code that only asks
    whether it was refused."""


@dataclass(frozen=True)
class CaseView:
    case_number: str
    kind: str
    state: str
    channel: str
    received_on: date
    at_apip: bool
    identity_provided: bool
    report: dict[str, Any] = field(repr=False)
    messages: list[MessageView] = field(repr=False)
    attachments: list[attachments.AttachmentMeta]
    timeline: list[tuple[str, date]]
    purpose: str
    # The regulation's kind chosen at intake (issue 10), e.g. keluhan; None before it.
    profile_kind: str | None = None


def actor_of(staff: StaffIdentity) -> Actor:
    return Actor(user_id=staff.user_id, username=staff.username, role=staff.role,
                 unit_id=staff.unit_id)


def scope_of(session: Session, case: Case, now: Any = None) -> CaseScope:
    holding = session.scalars(select(CaseKeyWrap.recipient_id).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit")).all()
    conflicted = session.scalars(select(Conflict.user_id).where(Conflict.case_id == case.id)).all()
    readers_q = select(CaseKeyWrap.recipient_id, CaseKeyWrap.expires_at).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "identity",
        CaseKeyWrap.recipient_kind == "user")
    readers = {uid for uid, expires in session.execute(readers_q)
               if expires is None or now is None or sealing.aware(expires, now) > now}
    return CaseScope(case_number=case.case_number, kind=ReportKind(case.kind),
                     state=CaseState(case.state), at_apip=case.at_apip,
                     holding_units=frozenset(holding), reported_unit_id=case.reported_unit_id,
                     conflicted_users=frozenset(conflicted), identity_readers=frozenset(readers),
                     identity_custodians=identity_custodians(session, case),
                     shield_reported_unit=case.shield_reported_unit)


def identity_custodians(session: Session, case: Case) -> frozenset[int]:
    """Active users holding the key of a unit that holds the case's identity key."""
    identity_units = select(CaseKeyWrap.recipient_id).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "identity",
        CaseKeyWrap.recipient_kind == "unit")
    return frozenset(session.scalars(
        select(UnitKeyWrap.user_id).join(User, User.id == UnitKeyWrap.user_id)
        .where(UnitKeyWrap.unit_id.in_(identity_units), User.active.is_(True))))


def record_denial(ctx: Context, staff: StaffIdentity, permission: Permission,
                  case_number: str | None, reason: str) -> None:
    with ctx.db.begin() as session:
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="access.case", case_number=case_number, outcome=AuditOutcome.DENIED,
                     details={"permission": permission.value, "why": reason}, now=ctx.now())


@contextmanager
def refusals_recorded(ctx: Context, staff: StaffIdentity, permission: Permission,
                      case_number: str | None) -> Iterator[None]:
    """Record a `Refusal` raised inside the block as a denied row, then let it go on.

    Wrapped around the act's transaction, so the act is rolled back first and the denied row is
    written in a transaction of its own that nothing undoes (issue 8, finding 11).
    """
    try:
        yield
    except Refusal as exc:
        record_denial(ctx, staff, permission, case_number, exc.code)
        raise


def with_case(ctx: Context, staff: StaffIdentity, case_number: str, permission: Permission,
              act: Callable[[Session, Case], T]) -> T:
    """Run `act` on the locked case inside one transaction if `authorize` allows; else record
    and raise.

    A role without the permission is refused (`AccessDenied`) before the case is looked up, so
    the answer is the same for every number. An unknown case number and a case the actor may
    not see are refused alike (`CaseHidden`, a 404 to the caller) and both recorded, so probing
    for case numbers tells nothing and leaves a trace.
    """
    denied: str | None = None
    hidden = False
    known = False
    with refusals_recorded(ctx, staff, permission, case_number), ctx.db.begin() as session:
        # The row lock is taken before anything is read or decided (issue 8, finding 6): two
        # acts on one case run one after the other, and the second one's authorization, state
        # and pending units are read as the first left them. On SQLite BEGIN IMMEDIATE already
        # serialises writers and FOR UPDATE is not emitted; the order of reads is the same.
        case = session.scalars(select(Case).where(Case.case_number == case_number)
                               .with_for_update()
                               .execution_options(populate_existing=True)).first()
        known = case is not None
        if not role_has(staff.role, permission):
            denied = "role_lacks_permission"
        elif case is None:
            denied, hidden = "unknown_case", True
        else:
            decision = authorize(actor_of(staff), permission, scope_of(session, case, ctx.now()))
            if decision.allowed:
                return act(session, case)
            denied, hidden = decision.reason, decision.hidden
    record_denial(ctx, staff, permission, case_number if known else None, denied)
    if hidden:
        raise CaseHidden(denied)
    raise AccessDenied(denied)


def content_keys(session: Session, case: Case, staff: StaffIdentity) -> sealing.EpochKeys:
    """The content key of every epoch the staff member's unit holds (issue 13)."""
    if staff.unit_id is None:
        raise AccessDenied("no_unit")
    unit = session.get(Unit, staff.unit_id)
    if unit is None:
        raise AccessDenied("no_unit")
    return sealing.staff_content_keys(session, case, unit, staff.user_id, staff.username,
                                      staff.private_key())


def stated_purpose(session: Session, case: Case, staff: StaffIdentity) -> str:
    row = session.scalars(select(AccessPurpose).where(AccessPurpose.session_id == staff.session_id,
                                                      AccessPurpose.case_id == case.id)).first()
    if row is None:
        raise PurposeRequired
    return row.purpose


def state_purpose(ctx: Context, staff: StaffIdentity, case_number: str, purpose: str) -> None:
    text = " ".join(purpose.split())[:MAX_PURPOSE]
    if len(text) < 3:
        raise PurposeRequired

    def act(session: Session, case: Case) -> None:
        exists = session.scalars(select(AccessPurpose).where(
            AccessPurpose.session_id == staff.session_id, AccessPurpose.case_id == case.id)).first()
        if exists is None:
            session.add(AccessPurpose(session_id=staff.session_id, case_id=case.id, purpose=text))
            audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                         action="case.purpose", case_number=case.case_number, reason=text,
                         now=ctx.now())

    with_case(ctx, staff, case_number, Permission.CASE_READ, act)


def view_case(ctx: Context, staff: StaffIdentity, case_number: str) -> CaseView:
    def act(session: Session, case: Case) -> CaseView:
        purpose = stated_purpose(session, case, staff)
        keys = content_keys(session, case, staff)
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.id)).all()
        view = CaseView(
            case_number=case.case_number, kind=case.kind, state=case.state,
            channel=case.channel, received_on=case.received_on, at_apip=case.at_apip,
            identity_provided=case.identity_provided,
            report=sealing.open_json(keys[0], case, "report", case.report_sealed),
            messages=read_messages(session, case, keys),
            attachments=attachments.list_meta(session, case, keys),
            timeline=[(e.state, e.on) for e in events], purpose=purpose,
            profile_kind=case.profile_kind)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="case.view", case_number=case.case_number, reason=purpose,
                     now=ctx.now())
        return view

    return with_case(ctx, staff, case_number, Permission.CASE_READ, act)


def post_staff_message(ctx: Context, staff: StaffIdentity, case_number: str, body: str) -> int:
    text = body.strip()
    if not text or len(text) > 20_000:
        raise ValueError("empty_message")

    def act(session: Session, case: Case) -> int:
        purpose = stated_purpose(session, case, staff)
        message = add_message(session, case, content_keys(session, case, staff), text,
                              author_kind="staff",
                              author_role=staff.role.value, author_user_id=staff.user_id,
                              today=ctx.today())
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="message.staff", case_number=case.case_number, reason=purpose,
                     now=ctx.now())
        return message.id

    return with_case(ctx, staff, case_number, Permission.CASE_MESSAGE, act)


def download(ctx: Context, staff: StaffIdentity, case_number: str,
             attachment_id: int) -> tuple[attachments.AttachmentMeta, list[bytes]]:
    def act(session: Session, case: Case) -> tuple[attachments.AttachmentMeta, list[bytes]]:
        purpose = stated_purpose(session, case, staff)
        opened = attachments.open_file(session, case, content_keys(session, case, staff),
                                       attachment_id)
        if opened is None:
            raise CaseNotFound
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="attachment.download", case_number=case.case_number,
                     reason=purpose, details={"attachment": attachment_id}, now=ctx.now())
        return opened[0], list(opened[1])

    return with_case(ctx, staff, case_number, Permission.CASE_ATTACHMENT_READ, act)


def declare_conflict(ctx: Context, staff: StaffIdentity, case_number: str, reason: str) -> None:
    text = " ".join(reason.split())[:MAX_PURPOSE]
    if len(text) < 3:
        raise ValueError("reason_required")

    def act(session: Session, case: Case) -> None:
        if session.scalars(select(Conflict).where(Conflict.case_id == case.id,
                                                  Conflict.user_id == staff.user_id)).first():
            return
        session.add(Conflict(case_id=case.id, user_id=staff.user_id, reason=text,
                             declared_at=ctx.now()))
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="case.conflict_declared", case_number=case.case_number, reason=text,
                     now=ctx.now())

    with_case(ctx, staff, case_number, Permission.CASE_CONFLICT_DECLARE, act)


def can_list(ctx: Context, staff: StaffIdentity, case_number: str) -> bool:
    """Whether the case is still in this user's list (after an action that may move it)."""
    if staff.unit_id is None:
        return False
    with ctx.read() as session:
        found = session.scalars(select(Case.id).where(_visible(staff),
                                                      Case.case_number == case_number)).first()
        return found is not None
