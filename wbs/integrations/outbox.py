"""The SP4N-LAPOR! outbox: documents written in the transaction of the act that causes them.

Who can read what (SECURITY.md, "SP4N-LAPOR! exchange"): a case's content is sealed under its
key K, which only the units handling it hold. The outbox document is therefore built by the
staff member who forwards the case, at the moment of forwarding, from the content their own key
opens; and for the profile that sends every complaint, by the intake itself while it still
holds K. The document is sealed at once (HPKE) to the connector's key (`keys.py`): the
coordinator's page, the database and the logs see only the delivery state.

The reporter's identity travels only when an identity disclosure was approved *and* the
reporter consented (`identity_may_travel`); the verifier who forwards never holds the identity
key, so the identity comes from the reporter's consent (`consent.py`), added when the document
first leaves, and only if a disclosure is approved then.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.access import Actor, Permission, authorize, hidden_from
from wbs.context import Context
from wbs.crypto import hpke
from wbs.enums import AuditOutcome, CaseState, ReportKind
from wbs.integrations import keys
from wbs.integrations.lapor_format import Reporter, category_of
from wbs.models import Case, LaporOutboxItem, LaporReference

OPEN_STATES = ("pending", "failed")
# Workflow actions that queue their own item (the case document, or a status with the text the
# reporter must read on LAPOR!), so the generic status hook skips them.
_NO_STATUS_AFTER = frozenset({"forward_external", "answer", "request_info"})


class OutboxRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def identity_may_travel(disclosure_approved: bool, reporter_consented: bool) -> bool:
    """Identity leaves the portal only with both: an approved disclosure and consent."""
    return disclosure_approved and reporter_consented


def _held_until(ctx: Context, reporter: bool) -> datetime | None:
    """A reporter-caused item waits for the next notice batch time (DESIGN §4), so that neither
    the row nor its delivery time places the reporter within the day."""
    if not reporter:
        return None
    from wbs.notices import next_batch

    return next_batch(ctx.now(), ctx.settings.timezone,
                      ctx.settings.notice_batch_times).astimezone(UTC)


def seal_document(ctx: Context, case: Case, key: str, document: dict[str, Any]) -> bytes:
    """An outbox document sealed to the connector's key, bound to its case and item."""
    return hpke.wrap(keys.public_key(ctx.settings.keys_dir),
                     json.dumps(document, ensure_ascii=False).encode(),
                     keys.info(case.case_number, key))


def _add(session: Session, ctx: Context, case: Case, kind: str, document: dict[str, Any],
         reporter: bool) -> LaporOutboxItem:
    key = secrets.token_hex(16)
    blob = seal_document(ctx, case, key, document)
    item = LaporOutboxItem(case_id=case.id, kind=kind, state="pending", idempotency_key=key,
                           payload_sealed=blob, created_on=ctx.today(), attempts=0,
                           next_attempt_at=_held_until(ctx, reporter))
    session.add(item)
    session.flush()
    return item


def _content(report: dict[str, Any]) -> str:
    parts = [str(report.get("what") or "")]
    who = ", ".join(str(report.get(k) or "") for k in ("who_name", "who_nip", "who_agency",
                                                      "who_position") if report.get(k))
    if who:
        parts.append(f"Terlapor: {who}")
    if report.get("how"):
        parts.append(f"Kronologi: {report['how']}")
    return "\n\n".join(p for p in parts if p)


def enqueue_case(session: Session, ctx: Context, case: Case, report: dict[str, Any], reason: str,
                 *, identity: Reporter | None = None, disclosure_approved: bool = False,
                 reporter_consented: bool = False, reporter: bool = False) -> LaporOutboxItem:
    """Queue the report for LAPOR!, in the caller's transaction (the act's own)."""
    if case.kind == ReportKind.WHISTLEBLOWING.value or case.at_apip:
        # Whistleblowing is APIP's alone (RULES §2); it never leaves through this door.
        raise OutboxRefused("apip_only")
    travels = identity is not None and identity_may_travel(disclosure_approved,
                                                           reporter_consented)
    document = {
        "case_number": case.case_number, "title": str(report.get("title") or ""),
        "content": _content(report),
        "category": category_of(case.kind, case.classification, case.profile_kind),
        "location": str(report.get("where") or ""), "event_date": str(report.get("when") or ""),
        "received_on": case.received_on.isoformat(), "channel": case.channel, "reason": reason,
        "reporter": identity.__dict__ if travels and identity is not None else None,
    }
    return _add(session, ctx, case, "case", document, reporter)


def on_forward(session: Session, ctx: Context, case: Case, report: dict[str, Any],
               target: str) -> LaporOutboxItem:
    """Bukan Wewenang / to the national admin: the document goes to LAPOR!, or, when LAPOR!
    already has the case (it came from there, or a copy was sent), its new status."""
    if linked(session, case):
        return _add(session, ctx, case, "status", {
            "case_number": case.case_number, "state": CaseState.FORWARDED.value,
            "on": ctx.today().isoformat()}, False)
    return enqueue_case(session, ctx, case, report, target)


def on_intake(session: Session, ctx: Context, case: Case, report: dict[str, Any], *,
              reporter: bool) -> LaporOutboxItem | None:
    """The intake's hook: with `lapor_every_complaint`, a new complaint is queued for LAPOR!
    (never one that came from LAPOR!, never anonymous-by-default identity: none is passed)."""
    if (not ctx.settings.lapor_every_complaint or case.kind != ReportKind.COMPLAINT.value
            or case.at_apip or linked(session, case)):
        return None
    return enqueue_case(session, ctx, case, report, "every_complaint", reporter=reporter)


def linked(session: Session, case: Case) -> bool:
    """LAPOR! knows this case: it came from there, or a document of it was queued there."""
    return bool(session.scalar(select(exists().where(LaporReference.case_id == case.id)))
                or session.scalar(select(exists().where(
                    LaporOutboxItem.case_id == case.id, LaporOutboxItem.kind == "case"))))


def on_state_change(session: Session, ctx: Context, case: Case, old: str, new: CaseState,
                    action: str, *, reporter: bool) -> LaporOutboxItem | None:
    """The workflow's hook: a status item for every change of a case LAPOR! knows."""
    if old == new.value or action in _NO_STATUS_AFTER or not linked(session, case):
        return None
    return _add(session, ctx, case, "status", {
        "case_number": case.case_number, "state": new.value, "on": ctx.today().isoformat()},
        reporter)


def on_staff_text(session: Session, ctx: Context, case: Case, new: CaseState, text: str) -> (
        LaporOutboxItem | None):
    """An answer or a question for the reporter of a case LAPOR! knows: the reporter follows
    the case there (an imported case has no code here), so the text goes with the status, sealed
    like a case document. Written by the staff member who wrote the text, in the same act."""
    if not linked(session, case):
        return None
    return _add(session, ctx, case, "status", {
        "case_number": case.case_number, "state": new.value, "on": ctx.today().isoformat(),
        "text": text}, False)


def open_document(ctx: Context, item: LaporOutboxItem, case_number: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(hpke.unwrap(
        keys.private_key(ctx.settings.keys_dir), item.payload_sealed,
        keys.info(case_number, item.idempotency_key)))
    return loaded


def reference_of(ctx: Context, case_number: str) -> str | None:
    """The case's LAPOR! tracking number, for the case page of someone already allowed to
    read the case (clear metadata, like the case number)."""
    with ctx.read() as session:
        return session.scalar(select(LaporReference.tracking_number).join(
            Case, Case.id == LaporReference.case_id).where(Case.case_number == case_number))


def tracking_number(session: Session, case_id: int) -> str | None:
    return session.scalar(select(LaporReference.tracking_number).where(
        LaporReference.case_id == case_id))


# --- the coordinator's view and the manual export ---------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    """Delivery state only: no content, no case number (leadership never narrows to a case)."""

    item_id: int
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_on: date
    delivered_on: date | None


def _require(ctx: Context, actor: Actor, permission: Permission, action: str) -> None:
    decision = authorize(actor, permission)
    if not decision.allowed:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=actor.username, role=actor.role,
                         action=action, outcome=AuditOutcome.DENIED,
                         details={"permission": permission.value, "why": decision.reason},
                         now=ctx.now())
        raise OutboxRefused(decision.reason)


def delivery_state(ctx: Context, actor: Actor, limit: int = 200) -> list[DeliveryRow]:
    """The outbox as the coordinator sees it, newest first; the viewing is recorded."""
    _require(ctx, actor, Permission.LAPOR_OUTBOX_READ, "lapor.outbox.view")
    with ctx.db.begin() as session:
        rows = [DeliveryRow(i.id, i.kind, i.state, i.attempts, i.next_attempt_at, i.last_error,
                            i.created_on, i.delivered_on)
                for i in session.scalars(select(LaporOutboxItem)
                                         .order_by(LaporOutboxItem.id.desc()).limit(limit))]
        audit.record(session, ctx.audit_keys, actor=actor.username, role=actor.role,
                     action="lapor.outbox.view", details={"rows": len(rows)}, now=ctx.now())
        return rows


def export_pending(ctx: Context, actor: Actor) -> bytes:
    """Every undelivered item as one JSON file for a Pemda without API access (audited).

    Never with the reporter's identity: the staff member who downloads it holds no identity
    key, so the file carries every case without it, and says so.

    The items are marked exported in the same transaction as the audit row, so the connector
    does not send them too and the next export does not repeat them.
    """
    from wbs.cases.service import scope_of  # here: wbs.cases imports this module
    from wbs.integrations import consent
    from wbs.integrations import lapor_format as fmt

    _require(ctx, actor, Permission.LAPOR_EXPORT, "lapor.outbox.export")
    with ctx.db.begin() as session:
        rows = session.execute(
            select(LaporOutboxItem, Case)
            .join(Case, Case.id == LaporOutboxItem.case_id)
            .where(LaporOutboxItem.state.in_(OPEN_STATES))
            .order_by(LaporOutboxItem.id).with_for_update()).all()
        documents = []
        for item, case in rows:
            # The file carries title and content: a case hidden from the exporter (a declared
            # conflict, their own unit reported) stays pending for someone else to hand over
            # (issue 8 finding 10, as for every other way to a case's content).
            if case.at_apip or hidden_from(actor, scope_of(session, case, ctx.now())):
                continue
            # A verifier downloads this file and must never hold the reporter's identity
            # (SECURITY.md): the identity is left out, whatever was consented; the consent is
            # closed as withheld, and the file says so (`identity_included`).
            doc = consent.attach(session, ctx, item, case,
                                 open_document(ctx, item, case.case_number),
                                 with_identity=False)
            doc.pop("reporter", None)
            documents.append(fmt.export_entry(item.kind, item.idempotency_key,
                                              wire(session, item, doc)))
            item.state = "exported"
            item.next_attempt_at = None
            item.payload_sealed = b""  # handed over in the file: the copy is not kept
        audit.record(session, ctx.audit_keys, actor=actor.username, role=actor.role,
                     action="lapor.outbox.export",
                     details={"items": len(documents), "as_of": ctx.today().isoformat()},
                     now=ctx.now())
        return fmt.encode_export(documents, ctx.today())


def wire(session: Session, item: LaporOutboxItem, doc: dict[str, Any]) -> bytes:
    """The stored document, in the wire format of the day (`lapor_format`)."""
    from wbs.integrations import lapor_format as fmt

    if item.kind == "status":
        return fmt.encode_status(fmt.StatusDocument(
            case_number=doc["case_number"], tracking_number=tracking_number(session,
                                                                            item.case_id),
            state=CaseState(doc["state"]), on=date.fromisoformat(doc["on"]),
            text=doc.get("text")))
    reporter = doc.get("reporter")
    return fmt.encode_case(fmt.CaseDocument(
        case_number=doc["case_number"], title=doc["title"], content=doc["content"],
        category=doc["category"], location=doc["location"], event_date=doc["event_date"],
        received_on=date.fromisoformat(doc["received_on"]), channel=doc["channel"],
        reason=doc["reason"], reporter=Reporter(**reporter) if reporter else None))
