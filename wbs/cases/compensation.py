"""Compensation (ganti rugi) claimed with a complaint (Perbup Sanggau 33/2019 Ps 17(3), 18).

A complaint may claim compensation, loss itemised (RULES §3). Once the handling unit has a
complete file, the decision is due within 60 working days; it states the amount and the payment
deadline (Ps 18(3)), and reaches the reporter within 14 working days of the decision. Both
limits are ordinary deadline rows (`decision`, `decision_delivery`, rules of the same names in
`sla.DEFAULT_RULES`), so the jobs remind and escalate them like any other, and an
administrator's rule or holiday changes them like any other.

Items, amounts and the decision are content: sealed under the case key K. In clear are only the
dates that drive the limits and the payment deadline. This module sits outside the import circle
of `wbs/cases/` (nothing there imports it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.cases import deadlines, sealing
from wbs.cases.reporter import ReporterAccess, _open_case, add_message, reporter_keys
from wbs.cases.service import content_keys, stated_purpose, with_case
from wbs.context import Context
from wbs.enums import ReportKind
from wbs.models import Case, CaseTask, CompensationClaim
from wbs.refusals import Refusal

DECIDE = Permission.CASE_COMPENSATION_DECIDE
MAX_ITEMS = 50
MAX_AMOUNT = 10**13  # Rp 10 trillion: past any claim a Pemda decides, within BIGINT and JSON
MAX_DESCRIPTION = 500


class CompensationRefused(ValueError, Refusal):
    """The claim or decision is not possible now; `code` says why (a message key). A
    `Refusal`, so one raised inside `with_case` leaves a denied row (issue 8 finding 11)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ClaimItem:
    description: str
    amount: int  # rupiah


@dataclass(frozen=True)
class Decision:
    amount: int  # rupiah; 0 = the claim is refused
    payment_due_on: date | None
    reason: str


@dataclass(frozen=True)
class ClaimView:
    items: list[ClaimItem]
    claimed_on: date
    file_complete_on: date | None
    decision_due_on: date | None
    decision: Decision | None
    decided_on: date | None
    delivery_due_on: date | None
    delivered_on: date | None

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.items)


def items_from_form(values: Mapping[str, str], rows: int = 10) -> list[dict[str, str]]:
    """The form's numbered rows (item_1_description, item_1_amount, …); empty rows skipped."""
    items = []
    for n in range(1, rows + 1):
        description = values.get(f"item_{n}_description", "").strip()
        amount = values.get(f"item_{n}_amount", "").strip()
        if description or amount:
            items.append({"description": description, "amount": amount})
    return items


def parse_items(raw: Sequence[Mapping[str, object]]) -> list[ClaimItem]:
    """Itemised loss: each item a description and a whole, positive amount in rupiah."""
    if not raw or len(raw) > MAX_ITEMS:
        raise CompensationRefused("items_required")
    items = []
    for entry in raw:
        description = " ".join(str(entry.get("description") or "").split())
        amount = _amount(entry.get("amount"))
        if not description or len(description) > MAX_DESCRIPTION or amount <= 0:
            raise CompensationRefused("item_invalid")
        items.append(ClaimItem(description, amount))
    return items


def _amount(value: object) -> int:
    """Rupiah as digits (dots or spaces as thousands separators are dropped), or an int."""
    if isinstance(value, bool):
        raise CompensationRefused("amount_invalid")
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").replace(".", "").replace(" ", "").removeprefix("Rp")
        if not text.isascii() or not text.isdigit() or len(text) > 14:
            raise CompensationRefused("amount_invalid")
        number = int(text)
    if number < 0 or number > MAX_AMOUNT:
        raise CompensationRefused("amount_invalid")
    return number


def _claim(session: Session, case: Case) -> CompensationClaim | None:
    return session.scalars(select(CompensationClaim).where(
        CompensationClaim.case_id == case.id).with_for_update()).first()


def _store(session: Session, ctx: Context, case: Case, keys: sealing.EpochKeys,
           items: list[ClaimItem]) -> CompensationClaim:
    if case.kind != ReportKind.COMPLAINT.value:
        raise CompensationRefused("complaints_only")
    claim = _claim(session, case)
    if claim is not None and claim.file_complete_on is not None:
        # Once the file is complete the 60-day count runs on these items: a new claim is a
        # message to the handler, not a silent change of what is being decided.
        raise CompensationRefused("claim_frozen")
    sealed = sealing.seal_json(sealing.current(keys, case), case, "compensation:items",
                               [item.__dict__ for item in items])
    if claim is None:
        claim = CompensationClaim(case_id=case.id, items_sealed=sealed, claimed_on=ctx.today(),
                                  items_epoch=case.key_epoch)
        session.add(claim)
    else:
        claim.items_sealed, claim.claimed_on = sealed, ctx.today()
        claim.items_epoch = case.key_epoch
    return claim


def claim_by_reporter(ctx: Context, access: ReporterAccess,
                      raw: Sequence[Mapping[str, object]]) -> None:
    """The reporter claims (or, before the file is complete, restates) compensation."""
    items = parse_items(raw)
    with ctx.db.begin() as session:
        case = _open_case(session, access)
        _store(session, ctx, case, reporter_keys(session, case, access), items)
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="compensation.claim", case_number=case.case_number,
                     details={"items": len(items)}, reporter=True, now=ctx.now())


def claim_by_staff(ctx: Context, staff: StaffIdentity, case_number: str,
                   raw: Sequence[Mapping[str, object]]) -> None:
    """A claim received offline, entered by the unit holding the case (RULES §7)."""
    items = parse_items(raw)

    def act(session: Session, case: Case) -> None:
        _store(session, ctx, case, content_keys(session, case, staff), items)
        _audit(session, ctx, staff, case, "compensation.claim", {"items": len(items)})

    with_case(ctx, staff, case_number, DECIDE, act)


def _audit(session: Session, ctx: Context, staff: StaffIdentity, case: Case, action: str,
           details: dict[str, str | int | bool | None]) -> None:
    audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                 action=action, case_number=case.case_number, details=details, now=ctx.now())


def _open(session: Session, ctx: Context, case: Case, staff: StaffIdentity, kind: str) -> date:
    # On the deciding unit's task, so that a reminder or an overdue notice reaches that unit.
    task_id = session.scalar(select(CaseTask.id).where(
        CaseTask.case_id == case.id, CaseTask.unit_id == staff.unit_id)
        .order_by(CaseTask.id.desc()).limit(1))
    row = deadlines.open_deadline(session, case, kind, kind, ctx.today(),
                                  calendar=deadlines.load_calendar(session),
                                  rules=deadlines.load_rules(session), task_id=task_id)
    return row.due_on


def file_complete(ctx: Context, staff: StaffIdentity, case_number: str) -> date:
    """The handling unit has a complete file: the 60-working-day decision limit starts."""

    def act(session: Session, case: Case) -> date:
        claim = _claim(session, case)
        if claim is None:
            raise CompensationRefused("no_claim")
        if claim.file_complete_on is not None:
            raise CompensationRefused("already_complete")
        claim.file_complete_on = ctx.today()
        due = _open(session, ctx, case, staff, "decision")
        _audit(session, ctx, staff, case, "compensation.file_complete",
               {"due_on": due.isoformat()})
        return due

    return with_case(ctx, staff, case_number, DECIDE, act)


def decide(ctx: Context, staff: StaffIdentity, case_number: str, *, amount: object,
           payment_due_on: date | None, reason: str) -> date:
    """The decision: the amount granted (0 refuses) and, if any, the payment deadline
    (Ps 18(3)). Meets the decision limit and starts the 14-working-day delivery limit."""
    granted = _amount(amount)
    text = " ".join(reason.split())[:2000]
    if len(text) < 5:
        raise CompensationRefused("reason_required")
    if granted > 0 and (payment_due_on is None or payment_due_on <= ctx.today()):
        raise CompensationRefused("payment_due_required")
    if granted == 0:
        payment_due_on = None

    def act(session: Session, case: Case) -> date:
        claim = _claim(session, case)
        if claim is None or claim.file_complete_on is None:
            raise CompensationRefused("file_not_complete")
        if claim.decided_on is not None:
            raise CompensationRefused("already_decided")
        key = sealing.current(content_keys(session, case, staff), case)
        claim.decision_epoch = case.key_epoch
        claim.decision_sealed = sealing.seal_json(key, case, "compensation:decision", {
            "amount": granted, "payment_due_on": payment_due_on.isoformat()
            if payment_due_on else None, "reason": text})
        claim.decided_on, claim.payment_due_on = ctx.today(), payment_due_on
        deadlines.meet(session, case, ["decision"], ctx.today())
        due = _open(session, ctx, case, staff, "decision_delivery")
        _audit(session, ctx, staff, case, "compensation.decide",
               {"granted": granted > 0, "delivery_due_on": due.isoformat()})
        return due

    return with_case(ctx, staff, case_number, DECIDE, act)


def deliver(ctx: Context, staff: StaffIdentity, case_number: str) -> None:
    """The decision reaches the reporter (a mailbox message): the delivery limit is met."""

    def act(session: Session, case: Case) -> None:
        claim = _claim(session, case)
        if claim is None or claim.decision_sealed is None:
            raise CompensationRefused("not_decided")
        if claim.delivered_on is not None:
            raise CompensationRefused("already_delivered")
        keys = content_keys(session, case, staff)
        decision = _decision(_key(keys, claim.decision_epoch), case, claim.decision_sealed)
        add_message(session, case, keys, decision_text(decision), author_kind="staff",
                    author_role=staff.role.value, author_user_id=staff.user_id,
                    today=ctx.today(), kind="notice")
        claim.delivered_on = ctx.today()
        deadlines.meet(session, case, ["decision_delivery"], ctx.today())
        _audit(session, ctx, staff, case, "compensation.deliver", {})

    with_case(ctx, staff, case_number, DECIDE, act)


def _rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def decision_text(decision: Decision) -> str:
    """What the reporter reads (Bahasa Indonesia, as the decision letter is)."""
    if decision.amount == 0 or decision.payment_due_on is None:
        return f"Keputusan atas tuntutan ganti rugi: ditolak. Alasan: {decision.reason}"
    return (f"Keputusan atas tuntutan ganti rugi: dikabulkan sebesar {_rupiah(decision.amount)},"
            f" dibayar paling lambat {decision.payment_due_on:%d-%m-%Y}. "
            f"Alasan: {decision.reason}")


def _decision(key: bytes, case: Case, blob: bytes) -> Decision:
    raw: dict[str, Any] = sealing.open_json(key, case, "compensation:decision", blob)
    due = raw.get("payment_due_on")
    return Decision(int(raw["amount"]), date.fromisoformat(due) if due else None,
                    str(raw["reason"]))


def _key(keys: sealing.EpochKeys, epoch: int) -> bytes:
    if epoch not in keys:
        raise sealing.NoKey
    return keys[epoch]


def _view(session: Session, case: Case, claim: CompensationClaim,
          keys: sealing.EpochKeys) -> ClaimView:
    items = [ClaimItem(str(i["description"]), int(i["amount"]))
             for i in sealing.open_json(_key(keys, claim.items_epoch), case,
                                        "compensation:items", claim.items_sealed)]
    due = {row.kind: row.due_on for row in deadlines.open_deadlines(session, case)}
    return ClaimView(
        items=items, claimed_on=claim.claimed_on, file_complete_on=claim.file_complete_on,
        decision_due_on=due.get("decision"),
        decision=(_decision(_key(keys, claim.decision_epoch), case, claim.decision_sealed)
                  if claim.decision_sealed else None),
        decided_on=claim.decided_on, delivery_due_on=due.get("decision_delivery"),
        delivered_on=claim.delivered_on)


def reporter_view(ctx: Context, access: ReporterAccess) -> ClaimView | None:
    """The reporter's own claim, for the mailbox (a read: counted with the mailbox view)."""
    with ctx.read() as session:
        case = session.get_one(Case, access.case_id)
        claim = session.get(CompensationClaim, case.id)
        if claim is None:
            return None
        return _view(session, case, claim, reporter_keys(session, case, access))


def view(ctx: Context, staff: StaffIdentity, case_number: str) -> ClaimView | None:
    """The claim as the handling unit reads it (audited like any read of content)."""

    def act(session: Session, case: Case) -> ClaimView | None:
        claim = session.get(CompensationClaim, case.id)
        if claim is None:
            return None
        stated_purpose(session, case, staff)  # a purpose before any decryption (PurposeRequired)
        view = _view(session, case, claim, content_keys(session, case, staff))
        _audit(session, ctx, staff, case, "compensation.view", {})
        return view

    return with_case(ctx, staff, case_number, Permission.CASE_READ, act)
