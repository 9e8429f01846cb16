"""The reporter's consent to send their identity to SP4N-LAPOR! (issue 10, RULES §10).

Identity travels to LAPOR! only if a disclosure was approved *and* the reporter consented
(`outbox.identity_may_travel`). The reporter gives consent in the mailbox, seeing exactly which
of their details would be sent and to whom, and may take it back until the case document first
leaves the portal (the first delivery attempt, or the manual export): after that, what was sent
cannot be called back, and the mailbox says what went.

Who holds what: the identity is sealed under the case's identity key, which only the custodians
and the reporter hold; a verifier who forwards the case never does. So the reporter's consent
carries the identity itself: at consent, the mailbox opens it with the code and seals the
fields to be sent (HPKE) to the connector's key (`keys.py`), like an outbox document. The
connector, when it first prepares the case document, adds them only if a disclosure of the case
is approved at that moment (an identity request decided `approved` and not yet expired), and
erases the copy either way. Revocation erases it at once. Every step is audited, with the state
only: never a detail of the identity.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases import sealing
from wbs.context import Context
from wbs.crypto import hpke
from wbs.enums import ReportKind
from wbs.integrations import keys
from wbs.integrations.lapor_format import Reporter
from wbs.models import Case, IdentityRequest, LaporIdentityConsent, LaporOutboxItem

# The fields that travel: those of `lapor_format.Reporter`, in the reporter's own words.
FIELDS = ("name", "address", "phone", "email", "occupation")


class ConsentRefused(Exception):
    """The consent cannot be given or taken back now; `reason` says why (a message key)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ConsentView:
    """What the mailbox shows: whether the question applies, the answer so far, and exactly
    which fields would be sent: their names only, never their values (whoever holds the code
    must not see the identity shown back)."""

    applies: bool
    state: str | None = None  # given, revoked, sent, withheld; None: never asked
    decided_on: date | None = None
    document_sent: bool = False  # the case document has left: nothing can change any more
    fields: tuple[str, ...] = ()

    @property
    def can_give(self) -> bool:
        return self.applies and not self.document_sent and self.state != "given"

    @property
    def can_revoke(self) -> bool:
        return self.applies and not self.document_sent and self.state == "given"


def _info(case_number: str) -> bytes:
    return hpke.wrap_info(case_number, "lapor-consent", "identity")


# The consent's decision is frozen: the case document was prepared with or without it.
FROZEN = ("sent", "withheld")


def document_sent(session: Session, case: Case) -> bool:
    """The case document has left the portal (or was tried): it was first prepared for a
    delivery attempt or the export (which freezes the consent row in the same transaction,
    before the request goes on the wire), a delivery, an export, a final failure."""
    row = session.get(LaporIdentityConsent, case.id)
    if row is not None and row.state in FROZEN:
        return True
    return bool(session.scalar(select(exists().where(
        LaporOutboxItem.case_id == case.id, LaporOutboxItem.kind == "case",
        or_(LaporOutboxItem.attempts > 0, LaporOutboxItem.state != "pending")))))


def applies(case: Case) -> bool:
    """A reporter who gave an identity, on a case that may go to LAPOR!: never whistleblowing
    nor a case at APIP, which never leave through the outbox (RULES §2)."""
    return (case.identity_provided and case.kind != ReportKind.WHISTLEBLOWING.value
            and not case.at_apip)


def disclosure_approved(session: Session, case: Case, now: datetime) -> bool:
    """A disclosure of this case's identity is approved now (decided by the custodians' quorum
    and not yet expired)."""
    rows = session.scalars(select(IdentityRequest.expires_at).where(
        IdentityRequest.case_id == case.id, IdentityRequest.state == "approved")).all()
    return any(expires is None or sealing.aware(expires, now) > now for expires in rows)


def _identity(session: Session, case: Case, reporter_key: bytes) -> dict[str, str]:
    if case.identity_sealed is None:
        return {}
    key = sealing.reporter_unwrap(session, case, "identity", reporter_key)
    opened: dict[str, Any] = sealing.open_json(key, case, "identity", case.identity_sealed)
    return {name: str(opened.get(name) or "") for name in FIELDS}


def view(session: Session, case: Case, reporter_key: bytes) -> ConsentView:
    if not applies(case):
        return ConsentView(applies=False)
    row = session.get(LaporIdentityConsent, case.id)
    return ConsentView(applies=True, state=row.state if row else None,
                       decided_on=row.decided_on if row else None,
                       document_sent=document_sent(session, case),
                       fields=tuple(name for name, value in
                                    _identity(session, case, reporter_key).items() if value))


def for_reporter(ctx: Context, case_id: int, reporter_key: bytes) -> ConsentView:
    """The consent section of the reporter's mailbox (read only: nothing is recorded)."""
    with ctx.read() as session:
        case = session.get(Case, case_id)
        return view(session, case, reporter_key) if case is not None else ConsentView(False)


def _locked_case(session: Session, case_id: int) -> Case:
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if case is None:
        raise LookupError("case vanished")
    return case


def _record(session: Session, ctx: Context, case: Case, state: str, *, reporter: bool) -> None:
    audit.record(session, ctx.audit_keys, actor="reporter" if reporter else "lapor-connector",
                 role="reporter" if reporter else "system", action="lapor.identity_consent",
                 case_number=case.case_number, details={"state": state}, reporter=reporter,
                 now=ctx.now())


def give(ctx: Context, case_id: int, reporter_key: bytes) -> None:
    """The reporter agrees that the identity shown may go to SP4N-LAPOR!."""
    with ctx.db.begin() as session:
        case = _locked_case(session, case_id)
        if not applies(case):
            raise ConsentRefused("consent_not_applicable")
        if document_sent(session, case):
            raise ConsentRefused("consent_too_late")
        identity = _identity(session, case, reporter_key)
        if not identity.get("name"):
            raise ConsentRefused("consent_not_applicable")
        sealed = hpke.wrap(keys.public_key(ctx.settings.keys_dir),
                           json.dumps(identity, ensure_ascii=False).encode(),
                           _info(case.case_number))
        row = session.get(LaporIdentityConsent, case.id)
        if row is None:
            session.add(LaporIdentityConsent(case_id=case.id, state="given",
                                             identity_sealed=sealed, decided_on=ctx.today()))
        else:
            row.state, row.identity_sealed, row.decided_on = "given", sealed, ctx.today()
        _record(session, ctx, case, "given", reporter=True)


def revoke(ctx: Context, case_id: int) -> None:
    """The reporter takes the consent back: the sealed copy is erased at once. Refused, like
    `give`, once the document was prepared, and where the question no longer applies (a case
    at APIP): a copy still there is then erased all the same, before the refusal."""
    not_applicable = False
    with ctx.db.begin() as session:
        case = _locked_case(session, case_id)
        row = session.scalars(select(LaporIdentityConsent).where(
            LaporIdentityConsent.case_id == case.id).with_for_update()).one_or_none()
        if row is not None and row.state == "sent":
            raise ConsentRefused("consent_too_late")
        if not applies(case):  # before "withheld": a hand-over to APIP withholds it too
            close(session, ctx, case)
            not_applicable = True
        elif row is not None and row.state in FROZEN:
            raise ConsentRefused("consent_too_late")
        else:
            if row is None or row.state != "given":
                raise ConsentRefused("consent_not_given")
            if document_sent(session, case):
                raise ConsentRefused("consent_too_late")
            row.state, row.identity_sealed, row.decided_on = "revoked", b"", ctx.today()
            _record(session, ctx, case, "revoked", reporter=True)
    if not_applicable:
        raise ConsentRefused("consent_not_applicable")


def forget_on_new_identity(session: Session, case: Case, today: date) -> None:
    """The reporter replaced the identity: the consent was for the old one, so it ends (the
    mailbox asks again, showing the new details)."""
    row = session.get(LaporIdentityConsent, case.id)
    if row is not None and row.state == "given":
        row.state, row.identity_sealed, row.decided_on = "revoked", b"", today


def close(session: Session, ctx: Context, case: Case) -> None:
    """Consent stops applying (the case was handed to APIP, or its content shredded): the copy
    sealed to the connector's key is erased and the row closed as withheld (it will never be
    sent). Audited with the state only."""
    row = session.scalars(select(LaporIdentityConsent).where(
        LaporIdentityConsent.case_id == case.id).with_for_update()).one_or_none()
    if row is None or (row.state != "given" and not row.identity_sealed):
        return
    if row.state == "given":
        row.state, row.decided_on = "withheld", ctx.today()
        _record(session, ctx, case, "withheld", reporter=False)
    row.identity_sealed = b""


def attach(session: Session, ctx: Context, item: LaporOutboxItem, case: Case,
           document: dict[str, Any], *, with_identity: bool = True) -> dict[str, Any]:
    """The case document as it leaves for the first time: with the consented identity if a
    disclosure is approved now, else without; the consent's copy is erased either way. The
    item's sealed document is rewritten, so a retry sends the same bytes under its key.

    The decision is frozen here, in the transaction that prepares the first attempt (before
    the request is on the wire): with no consent, or a revoked one, the row is written as
    `withheld`, so a consent given while the attempt is in flight is refused as too late and
    the retry carries exactly the first attempt's document. `with_identity=False` (the manual
    export, downloaded by a staff member who must never hold the identity) leaves it out."""
    if item.kind != "case":
        return document
    row = session.scalars(select(LaporIdentityConsent).where(
        LaporIdentityConsent.case_id == case.id).with_for_update()).one_or_none()
    if row is not None and row.state in FROZEN:
        return document
    if row is None or row.state != "given":
        if row is None:
            row = LaporIdentityConsent(case_id=case.id, state="withheld",
                                       identity_sealed=b"", decided_on=ctx.today())
            session.add(row)
        else:
            row.state, row.identity_sealed, row.decided_on = "withheld", b"", ctx.today()
        _record(session, ctx, case, "withheld", reporter=False)
        return document
    from wbs.integrations import outbox

    travels = with_identity and outbox.identity_may_travel(
        disclosure_approved(session, case, ctx.now()), True)
    if travels:
        opened = json.loads(hpke.unwrap(keys.private_key(ctx.settings.keys_dir),
                                        row.identity_sealed, _info(case.case_number)))
        document = {**document, "reporter": asdict(Reporter(**{
            name: str(opened.get(name) or "") for name in FIELDS}))}
        item.payload_sealed = outbox.seal_document(ctx, case, item.idempotency_key, document)
    row.state = "sent" if travels else "withheld"
    row.identity_sealed, row.decided_on = b"", ctx.today()
    _record(session, ctx, case, row.state, reporter=False)
    return document
