"""Retention and crypto-shredding (issue 13, DESIGN §6).

A case is kept for a configured period after it ended (closed, archived or forwarded): five years
by default, one year for a report archived because its missing data never came. When the period
has run out, and no legal hold stands, the job destroys the content for good: every wrapped copy
of the case key and the identity key (to units, users and the reporter), the reporter's sessions
(which hold the keys under a cookie), and the sealed blobs themselves (report, identity,
messages, file names and file chunks). Without a key nothing sealed can be opened, even from an
older copy of the database, once the backups that still hold wraps have expired too (the nightly
backups are kept 30 days, docs/deploy.md).

What stays is the metadata the statistics need (kind, channel, unit, dates, state, outcome,
deadlines) and the audit log, which records the shredding itself. The case's lookup hash is
replaced by random bytes, so the reporter's code no longer leads to the row at all.
"""

from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from wbs import audit
from wbs.context import Context
from wbs.enums import CaseState
from wbs.models import (
    Attachment,
    AttachmentChunk,
    Case,
    CaseEvent,
    CaseKeyWrap,
    CompensationClaim,
    LaporIdentityConsent,
    LaporOutboxItem,
    LegalHold,
    Message,
    ReporterSession,
)
from wbs.settings import ARCHIVED_RETENTION_KEY as ARCHIVED_KEY

ENDED = (CaseState.CLOSED.value, CaseState.ARCHIVED.value, CaseState.FORWARDED.value)
_MAX_REASON = 500


class HoldError(Exception):
    """A legal hold that cannot be placed or lifted; `code` names why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _add(day: date, amount: int, unit: str) -> date:
    if unit == "d":
        return date.fromordinal(day.toordinal() + amount)
    months = day.month - 1 + amount * (12 if unit == "y" else 1)
    year, month = day.year + months // 12, months % 12 + 1
    # 31 January + 1 month: the end of February.
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def expires_on(case_kind: str, state: str, ended_on: date,
               retention: tuple[tuple[str, int, str], ...]) -> date:
    periods = {name: (amount, unit) for name, amount, unit in retention}
    key = ARCHIVED_KEY if state == CaseState.ARCHIVED.value else case_kind
    amount, unit = periods[key]
    return _add(ended_on, amount, unit)


@dataclass(frozen=True)
class Expiring:
    case_id: int
    case_number: str
    expires_on: date


def _ended_on(session: Session, case_id: int) -> date | None:
    return session.scalar(select(func.max(CaseEvent.on)).where(
        CaseEvent.case_id == case_id, CaseEvent.state.in_(ENDED)))


def _held(session: Session, case_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(LegalHold).where(
        LegalHold.case_id == case_id, LegalHold.lifted_on.is_(None))) != 0


def expired(ctx: Context, today: date) -> list[Expiring]:
    """Ended cases past their retention, not held, not yet shredded."""
    retention = ctx.settings.retention
    with ctx.read() as session:
        rows = session.execute(
            select(Case.id, Case.case_number, Case.kind, Case.state,
                   func.max(CaseEvent.on))
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(Case.state.in_(ENDED), Case.shredded_on.is_(None),
                   CaseEvent.state.in_(ENDED))
            .group_by(Case.id, Case.case_number, Case.kind, Case.state)).all()
        held = set(session.scalars(select(LegalHold.case_id).where(LegalHold.lifted_on.is_(None))))
    out = []
    for case_id, number, kind, state, ended in rows:
        due = expires_on(kind, state, ended, retention)
        if due <= today and case_id not in held:
            out.append(Expiring(case_id, number, due))
    return out


# Every table holding sealed per-case data, and what `_shred` does with it ("deleted": the rows
# go; otherwise the sealed columns it blanks). A test checks this against the models, so a new
# table with sealed per-case data cannot be forgotten here.
SHREDDED: dict[str, tuple[str, ...]] = {
    "case_key_wraps": ("deleted",),
    "reporter_sessions": ("deleted",),
    "attachment_chunks": ("deleted",),
    "attachments": ("meta_sealed",),
    "messages": ("body_sealed",),
    "compensation_claims": ("items_sealed", "decision_sealed"),
    "lapor_outbox": ("payload_sealed",),
    "lapor_identity_consents": ("identity_sealed",),
    "cases": ("report_sealed", "identity_sealed"),
}


def _shred(session: Session, ctx: Context, case: Case, due: date) -> None:
    session.execute(delete(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id))
    session.execute(delete(ReporterSession).where(ReporterSession.case_id == case.id))
    attachment_ids = select(Attachment.id).where(Attachment.case_id == case.id)
    session.execute(delete(AttachmentChunk).where(
        AttachmentChunk.attachment_id.in_(attachment_ids)))
    session.execute(update(Attachment).where(Attachment.case_id == case.id)
                    .values(meta_sealed=b"", chunk_count=0))
    session.execute(update(Message).where(Message.case_id == case.id).values(body_sealed=b""))
    session.execute(update(CompensationClaim).where(CompensationClaim.case_id == case.id)
                    .values(items_sealed=b"", decision_sealed=None))
    # Outbox documents are sealed to the connector's key, not to K: deleting K's wraps does not
    # shred them, so the blobs go, and what was never sent will not be.
    session.execute(update(LaporOutboxItem).where(
        LaporOutboxItem.case_id == case.id, LaporOutboxItem.state == "pending")
        .values(state="failed", last_error="shredded", next_attempt_at=None))
    session.execute(update(LaporOutboxItem).where(LaporOutboxItem.case_id == case.id)
                    .values(payload_sealed=b""))
    # The reporter's consent holds the identity sealed to the connector's key too: erased, and
    # a consent still waiting for a document is closed (it will never be sent).
    session.execute(update(LaporIdentityConsent).where(
        LaporIdentityConsent.case_id == case.id, LaporIdentityConsent.state == "given")
        .values(state="withheld"))
    session.execute(update(LaporIdentityConsent).where(LaporIdentityConsent.case_id == case.id)
                    .values(identity_sealed=b""))
    case.report_sealed = b""
    case.identity_sealed = None
    case.lookup_hash = secrets.token_bytes(32)
    case.shredded_on = ctx.today()
    audit.record(session, ctx.audit_keys, actor="system", role="system", action="case.shred",
                 case_number=case.case_number,
                 details={"kind": case.kind, "state": case.state,
                          "retention_ended": due.isoformat()}, now=ctx.now())


def shred_expired(ctx: Context) -> int:
    """Destroy the content of every expired case, one transaction each; returns how many."""
    today = ctx.today()
    done = 0
    for item in expired(ctx, today):
        with ctx.db.begin() as session:
            case = session.scalars(select(Case).where(Case.id == item.case_id)
                                   .with_for_update()).one()
            # Re-checked under the row lock: a hold placed meanwhile wins, and a case that was
            # reopened is no longer ended.
            if case.shredded_on is not None or case.state not in ENDED or \
                    _held(session, case.id):
                continue
            ended = _ended_on(session, case.id)
            if ended is None or expires_on(case.kind, case.state, ended,
                                           ctx.settings.retention) > today:
                continue
            _shred(session, ctx, case, item.expires_on)
            done += 1
    return done


def place_hold(ctx: Context, case_number: str, reason: str, actor: str) -> None:
    reason = " ".join(reason.split())
    if not reason or len(reason) > _MAX_REASON:
        raise HoldError("reason_required")
    with ctx.db.begin() as session:
        case = session.scalars(select(Case).where(Case.case_number == case_number)
                               .with_for_update()).first()
        if case is None:
            raise HoldError("unknown_case")
        if case.shredded_on is not None:
            raise HoldError("already_shredded")
        if _held(session, case.id):
            raise HoldError("already_held")
        session.add(LegalHold(case_id=case.id, reason=reason, placed_by=actor,
                              placed_on=ctx.today()))
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="case.legal_hold", case_number=case_number, reason=reason,
                     now=ctx.now())


def lift_hold(ctx: Context, case_number: str, reason: str, actor: str) -> None:
    reason = " ".join(reason.split())
    if not reason or len(reason) > _MAX_REASON:
        raise HoldError("reason_required")
    with ctx.db.begin() as session:
        hold = session.scalars(
            select(LegalHold).join(Case, Case.id == LegalHold.case_id)
            .where(Case.case_number == case_number, LegalHold.lifted_on.is_(None))
            .with_for_update(of=LegalHold)).first()
        if hold is None:
            raise HoldError("not_held")
        hold.lifted_on = ctx.today()
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="case.legal_hold_lifted", case_number=case_number, reason=reason,
                     now=ctx.now())


@dataclass(frozen=True)
class HoldView:
    case_number: str
    reason: str
    placed_by: str
    placed_on: date


def holds(ctx: Context) -> list[HoldView]:
    with ctx.read() as session:
        rows = session.execute(
            select(Case.case_number, LegalHold.reason, LegalHold.placed_by, LegalHold.placed_on)
            .join(Case, Case.id == LegalHold.case_id).where(LegalHold.lifted_on.is_(None))
            .order_by(LegalHold.placed_on)).all()
    return [HoldView(*row) for row in rows]
