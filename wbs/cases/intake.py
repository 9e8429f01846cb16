"""Reporter intake: validate a report, seal it, route it, hand back the code and receipt.

Whistleblowing reports go straight to APIP (the verifier team never holds their key); other kinds
go to the verifier team. The reported unit never receives a key. Everything but routing metadata
is sealed under a fresh case key K; identity under a separate key I.

A report a staff member types in (offline intake) gets a code that staff member has seen: it is
marked to be replaced by the reporter at first use and until then shows the status only
(`reporter.replace_code`). A report the reporter files is their act: its audit record waits for
the day's batch and the notices it causes wait for the next batch time (DESIGN §4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit, notices, row_ids
from wbs.access import Actor, Permission, authorize
from wbs.cases import attachments, deadlines, numbers, sealing
from wbs.cases.receipts import make_receipt
from wbs.cases.sanitize import CleanFile
from wbs.context import Context
from wbs.crypto import aead, codes
from wbs.enums import AuditOutcome, CaseState, Channel, ReportKind, Role, UnitKind
from wbs.integrations import outbox as lapor_outbox
from wbs.models import Case, CaseEvent, Unit
from wbs.profiles import kinds as profile_kinds
from wbs.profiles.model import KindLabel, Profile

LIMITS = {"title": 200, "what": 20_000, "how": 20_000, "where": 1000, "when": 200,
          "who_name": 200, "who_nip": 32, "who_agency": 200, "who_position": 200}
IDENTITY_LIMITS = {"name": 200, "nip": 32, "address": 500, "phone": 40, "email": 254,
                   "occupation": 200}
REPORTED_UNIT_KINDS = (UnitKind.AGENCY.value, UnitKind.BUMD.value)


@dataclass(frozen=True)
class Identity:
    name: str = field(repr=False)
    nip: str = field(default="", repr=False)
    address: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    occupation: str = field(default="", repr=False)


@dataclass(frozen=True)
class ReportInput:
    kind: ReportKind
    title: str = field(repr=False)
    what: str = field(repr=False)
    who_name: str = field(default="", repr=False)
    who_nip: str = field(default="", repr=False)
    who_agency: str = field(default="", repr=False)
    who_position: str = field(default="", repr=False)
    where: str = field(default="", repr=False)
    when: str = field(default="", repr=False)
    how: str = field(default="", repr=False)
    reported_unit: str = ""
    identity: Identity | None = field(default=None, repr=False)
    # The reporter asks that the unit named not handle it, for fear of retaliation (RULES §6).
    shield_reported_unit: bool = False
    # The regulation's name of the kind (`wbs.profiles.kinds`), e.g. keluhan handled as a
    # complaint; empty means the national name of `kind`.
    profile_kind: str = ""


@dataclass(frozen=True)
class Submission:
    case_number: str
    code: str = field(repr=False)
    receipt: str
    received_on: str
    # The first limit the reporter can come back after (verification, RULES §5), ISO date.
    first_response_on: str = ""


class IntakeRefused(Exception):
    """This staff member may not enter this kind of report (e.g. whistleblowing: APIP only)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotConfigured(LookupError):
    """No unit can receive this report yet (an instance before `wbs init`/setup): the web
    layer answers 503 with Retry-After, as for any other temporary unavailability."""


class InvalidReport(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid report")
        self.errors = errors


def _clean(value: object) -> str:
    text = value if isinstance(value, str) else ""
    # Normalise line endings and drop control characters other than newline and tab.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()


def parse_identity(raw: Mapping[str, object], errors: dict[str, str],
                   prefix: str = "identity_") -> Identity | None:
    values = {k: _clean(raw.get(prefix + k)) for k in IDENTITY_LIMITS}
    for key, limit in IDENTITY_LIMITS.items():
        if len(values[key]) > limit:
            errors[prefix + key] = "too_long"
    if not values["name"]:
        errors[prefix + "name"] = "required"
    if values["email"] and ("@" not in values["email"] or " " in values["email"]):
        errors[prefix + "email"] = "invalid_email"
    if values["nip"] and not values["nip"].replace(" ", "").isdigit():
        errors[prefix + "nip"] = "invalid_nip"
    return Identity(**values)


def parse_report(raw: Mapping[str, object], unit_slugs: Sequence[str], *,
                 identity_required: bool = False,
                 kinds: Sequence[KindLabel] | None = None) -> ReportInput:
    """Validate a submitted report; raise InvalidReport with a message key per bad field.

    `identity_required` is the regional profile's rule for a complaint (Belitung Timur Ps
    12-13, Jayapura Ps 14(2)-(4)): name, address and a phone number or e-mail address. It never
    applies to whistleblowing, nor to the other kinds (RULES §2).

    `kinds` are the profile's kinds in force (`wbs.profiles.kinds`): the posted kind must be
    one of them or whistleblowing; the case keeps the profile's key beside its workflow kind."""
    errors: dict[str, str] = {}
    posted = _clean(raw.get("kind"))
    profile_kind = ""
    if kinds is None:
        try:
            kind = ReportKind(posted)
        except ValueError:
            errors["kind"] = "required"
            kind = ReportKind.COMPLAINT
    else:
        # The kinds of the profile in force (issue 10): another profile's kind, or a forged
        # one, is refused with the form as typed, never mapped to something else.
        choice = profile_kinds.resolve(posted, kinds) if posted else None
        if choice is None:
            errors["kind"] = "kind_not_offered" if posted else "required"
            kind = ReportKind.COMPLAINT
        else:
            kind, profile_kind = choice.handled_as, choice.key
    values = {k: _clean(raw.get(k)) for k in LIMITS}
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = "too_long"
    for required in ("title", "what"):
        if not values[required]:
            errors[required] = "required"
    reported = _clean(raw.get("reported_unit"))
    if reported and reported not in unit_slugs:
        errors["reported_unit"] = "unknown_unit"
    identity = None
    mode = _clean(raw.get("identity_mode")) or "anonymous"
    if mode == "confidential":
        identity = parse_identity(raw, errors)
    elif mode != "anonymous":
        errors["identity_mode"] = "required"
    elif any(_clean(raw.get("identity_" + key)) for key in IDENTITY_LIMITS):
        # Typed, but "stay anonymous" chosen: never drop an identity silently; ask which it is.
        errors["identity_mode"] = "identity_typed"
    if identity_required and kind is ReportKind.COMPLAINT:
        if identity is None:
            errors["identity_mode"] = "identity_required"
        else:
            if not identity.address:
                errors["identity_address"] = "required"
            if not identity.phone and not identity.email:
                errors["identity_phone"] = "phone_or_email"
    if errors:
        raise InvalidReport(errors)
    shield = _clean(raw.get("shield_reported_unit")) in ("1", "on", "true")
    return ReportInput(kind=kind, reported_unit=reported, identity=identity,
                       shield_reported_unit=shield,
                       profile_kind=profile_kind or profile_kinds.national_key(kind), **values)


def reportable_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.kind.in_(REPORTED_UNIT_KINDS))
                                .order_by(Unit.name)))


@dataclass(frozen=True)
class FormChoices:
    """What a report form offers and checks a report against: the units a report may name
    (slug, name) and the profile in force (its kinds and whether a complaint needs identity)."""

    units: list[tuple[str, str]]
    profile: Profile

    def parse(self, raw: Mapping[str, object]) -> ReportInput:
        return parse_report(raw, [slug for slug, _ in self.units],
                            identity_required=self.profile.identity_required,
                            kinds=self.profile.kinds)


def form_choices(ctx: Context) -> FormChoices:
    """Both in one read session (no SQLite write lock; one connection per form shown or sent,
    not two: issue 12). A database call: from async code, only through the thread pool."""
    with ctx.read() as session:
        return FormChoices(units=[(u.slug, u.name) for u in reportable_units(session)],
                           profile=deadlines.load_profile(session))


def _first_of_kind(units: Sequence[Unit], kind: UnitKind) -> Unit:
    """The configured unit of this kind with the lowest id, from units already loaded."""
    unit = next((u for u in units if u.kind == kind.value), None)
    if unit is None:
        raise NotConfigured(f"no unit of kind {kind.value} is configured")
    return unit


def _report_document(report: ReportInput) -> dict[str, Any]:
    doc = asdict(report)
    doc.pop("identity")
    doc.pop("shield_reported_unit")  # kept on the case row, where access reads it
    doc.pop("profile_kind")  # kept on the case row, where statistics count it
    doc["kind"] = report.kind.value
    return doc


# Tries at sealing ahead: the number drawn may be taken (40 random bits: about one chance in a
# million at a million cases), or the units changed since the hint (then the next try has them).
_NUMBER_TRIES = 5


class _Redraw(Exception):
    """What was sealed ahead no longer fits: the number was taken, or the units changed."""


@dataclass(frozen=True)
class _UnitRef:
    id: int
    slug: str
    public_key: bytes


_Units = tuple[_UnitRef, _UnitRef, int | None]  # receiving, custodians, reported unit id

# The units a report went to last, per receiving kind and reported unit: a hint for sealing
# ahead, never trusted. The write transaction reads the units again and the keys under the
# share lock; a hint that no longer holds costs a second sealing, nothing else.
_UNITS_HINT: dict[tuple[str, str], _Units] = {}


@dataclass
class _Ahead:
    """A report sealed before its write transaction, so that the costly cryptography (the key
    wraps to the units, the reporter's key pair, the receipt's signature) runs outside SQLite's
    one write lock (issue 12). Bound to a case number drawn at random and to the units last
    seen; the transaction checks both before it stores anything."""

    case: Case
    units: _Units
    content_key: bytes
    identity_key: bytes
    reporter_key: bytes
    document: dict[str, Any]
    wraps: dict[str, sealing.PreparedWrap | None]
    receipt: str


def _units_for(session: Session, report: ReportInput,
               receiving_kind: UnitKind) -> tuple[Unit, Unit, Unit | None]:
    """The receiving unit, the custodians and the reported unit, in one query."""
    wanted: Any = Unit.kind.in_([receiving_kind.value, UnitKind.CUSTODIAN.value])
    if report.reported_unit:
        wanted = wanted | (Unit.slug == report.reported_unit)
    found = session.scalars(select(Unit).where(wanted).order_by(Unit.id)).all()
    reported = next((u for u in found if report.reported_unit
                     and u.slug == report.reported_unit), None)
    return (_first_of_kind(found, receiving_kind), _first_of_kind(found, UnitKind.CUSTODIAN),
            reported)


def _refs(units: tuple[Unit, Unit, Unit | None]) -> _Units:
    receiving, custodians, reported = units
    return (_UnitRef(receiving.id, receiving.slug, receiving.public_key),
            _UnitRef(custodians.id, custodians.slug, custodians.public_key),
            reported.id if reported is not None else None)


def _ids(units: _Units) -> tuple[int, int, int | None]:
    return units[0].id, units[1].id, units[2]


def _hint_key(report: ReportInput, receiving_kind: UnitKind) -> tuple[str, str]:
    return receiving_kind.value, report.reported_unit or ""


def _seal_ahead(ctx: Context, report: ReportInput, code: str, today: date, channel: Channel,
                receiving_kind: UnitKind, entered_by: str | None) -> _Ahead:
    units = _UNITS_HINT.get(_hint_key(report, receiving_kind))
    if units is None:  # the first report of its kind in this process
        with ctx.read() as session:
            units = _refs(_units_for(session, report, receiving_kind))
    receiving, custodians, reported_id = units
    number = numbers.draw(today.year)
    salt = codes.new_case_salt()
    whistleblowing = report.kind is ReportKind.WHISTLEBLOWING
    case = Case(case_number=number, lookup_hash=codes.lookup_hash(ctx.keys.pepper, code),
                reporter_salt=salt, kind=report.kind.value, channel=channel.value,
                state=CaseState.RECEIVED.value, received_on=today,
                receiving_unit_id=receiving.id, reported_unit_id=reported_id,
                at_apip=whistleblowing, identity_provided=report.identity is not None,
                code_needs_replacing=entered_by is not None,
                shield_reported_unit=report.shield_reported_unit,
                profile_kind=(report.profile_kind
                              or profile_kinds.national_key(report.kind))[:40])
    content_key, identity_key = aead.new_key(), aead.new_key()
    document = _report_document(report)
    case.report_sealed = sealing.seal_json(content_key, case, "report", document)
    case.report_digest = hashlib.sha256(case.report_sealed).digest()
    if report.identity is not None:
        case.identity_sealed = sealing.seal_json(identity_key, case, "identity",
                                                 asdict(report.identity))
    reporter_key = codes.reporter_key(code, salt)
    sealing.ensure_reporter_public_key(case, reporter_key)
    return _Ahead(
        case=case, units=units, content_key=content_key, identity_key=identity_key,
        reporter_key=reporter_key, document=document,
        wraps={"content": sealing.prepare_unit_wrap(case, "content", receiving.id,
                                                    receiving.slug, receiving.public_key,
                                                    content_key),
               "identity": sealing.prepare_unit_wrap(case, "identity", custodians.id,
                                                     custodians.slug, custodians.public_key,
                                                     identity_key)},
        receipt=make_receipt(ctx.keys.receipt_private, number, today, case.report_digest))


def submit(ctx: Context, report: ReportInput, files: Sequence[tuple[str, CleanFile]],
           channel: Channel, *, entered_by: str | None = None,
           hold: Callable[[Session, Submission], None] | None = None,
           on_created: Callable[[Session, Case], None] | None = None,
           received_on: date | None = None, attested: bool = False) -> Submission:
    """Seal and store a report; one transaction with its audit row.

    `hold` runs in the same transaction with the submission (the receipt kept for the
    reporter's browser, `receipt_hold`): if it fails, for a nonce already used, nothing is
    stored. `on_created` runs inside that transaction too (an import records LAPOR!'s tracking
    number). `received_on` and `attested` are for staff intake of an offline report.
    """
    code = codes.generate_code()
    # An offline report counts from the day it was received, not the day it was typed in
    # (issue 10): its receipt says so, and the verification limit runs from it.
    today = received_on if received_on is not None and entered_by is not None else ctx.today()
    receiving_kind = (UnitKind.APIP if report.kind is ReportKind.WHISTLEBLOWING
                      else UnitKind.VERIFIER_TEAM)
    for _ in range(_NUMBER_TRIES):
        ahead = _seal_ahead(ctx, report, code, today, channel, receiving_kind, entered_by)
        try:
            return _store(ctx, report, files, channel, ahead, code, today, receiving_kind,
                          entered_by=entered_by, hold=hold, on_created=on_created,
                          attested=attested)
        except _Redraw:
            continue
    raise RuntimeError("the case number or the units kept changing while sealing")


def _store(ctx: Context, report: ReportInput, files: Sequence[tuple[str, CleanFile]],
           channel: Channel, ahead: _Ahead, code: str, today: date, receiving_kind: UnitKind,
           *, entered_by: str | None, hold: Callable[[Session, Submission], None] | None,
           on_created: Callable[[Session, Case], None] | None, attested: bool) -> Submission:
    case = ahead.case
    with ctx.db.begin() as session:
        receiving, custodians, _reported = units = _units_for(session, report, receiving_kind)
        now = _UNITS_HINT[_hint_key(report, receiving_kind)] = _refs(units)
        if _ids(now) != _ids(ahead.units) or numbers.is_taken(session, case.case_number):
            raise _Redraw  # nothing is written yet: the transaction ends empty
        # Read before anything is added, so that no read flushes half of the new rows: they
        # are all written at commit, one INSERT per table.
        calendar, rules = deadlines.load_calendar(session), deadlines.load_rules(session)
        session.add(case)
        session.flush()
        row_ids.mark_new_case(session, case.id)
        with session.no_autoflush:  # the unit key reads must not flush the wraps one by one
            sealing.wrap_to_unit(session, case, "content", receiving, ahead.content_key,
                                 prepared=ahead.wraps["content"])
            sealing.wrap_to_reporter(session, case, "content", ahead.reporter_key,
                                     ahead.content_key)
            sealing.wrap_to_unit(session, case, "identity", custodians, ahead.identity_key,
                                 prepared=ahead.wraps["identity"])
            sealing.wrap_to_reporter(session, case, "identity", ahead.reporter_key,
                                     ahead.identity_key)
        for name, clean in files:
            attachments.store(session, case, {0: ahead.content_key}, name, clean,
                              uploader="reporter", today=today)
        session.add(CaseEvent(case_id=case.id, state=CaseState.RECEIVED.value, on=today))
        # Verification (or APIP intake) within 3 working days of receipt (RULES §5).
        due = deadlines.open_deadline(session, case, "verification", "verification", today,
                                      calendar=calendar, rules=rules)
        with session.no_autoflush:
            notices.notify_unit(session, ctx, case, receiving.id, "new_task", due.due_on,
                                reporter=entered_by is None)
        if on_created is not None:
            on_created(session, case)
        # The profile may send every complaint to SP4N-LAPOR!: queued now, while K is at hand.
        lapor_outbox.on_intake(session, ctx, case, ahead.document, reporter=entered_by is None)
        details: dict[str, str | int | bool | None] = {
            "kind": report.kind.value, "profile_kind": case.profile_kind,
            "channel": channel.value, "attachments": len(files),
            "receiving_unit": receiving.slug}
        if entered_by is None:
            audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                         action="case.submit", case_number=case.case_number, details=details,
                         reporter=True, now=ctx.now())
        else:
            details.update(received_on=today.isoformat(), attested=attested)
            audit.record(session, ctx.audit_keys, actor=entered_by, role="staff",
                         action="case.intake", case_number=case.case_number, details=details,
                         now=ctx.now())
        submission = Submission(case_number=case.case_number, code=codes.format_code(code),
                                receipt=ahead.receipt, received_on=today.isoformat(),
                                first_response_on=due.due_on.isoformat())
        if hold is not None:
            hold(session, submission)
        return submission


def kinds_for(actor: Actor) -> list[ReportKind]:
    """The kinds a staff member may enter: whistleblowing only for those allowed (APIP)."""
    allowed = authorize(actor, Permission.CASE_INTAKE_WHISTLEBLOWING).allowed
    return [kind for kind in ReportKind if allowed or kind is not ReportKind.WHISTLEBLOWING]


def staff_submit(ctx: Context, actor: Actor, report: ReportInput,
                 files: Sequence[tuple[str, CleanFile]], channel: Channel, *,
                 received_on: date | None = None, attested: bool = False) -> Submission:
    """Offline intake (RULES §4, §7): the report as the reporter gave it, entered by staff.

    Whoever types a report in reads it, and no verifier may read a whistleblowing report
    (RULES §2): a whistleblowing report is entered by APIP staff, and a refusal is audited.
    The code is marked to be replaced by the reporter at first use.
    """
    if report.kind is ReportKind.WHISTLEBLOWING:
        decision = authorize(actor, Permission.CASE_INTAKE_WHISTLEBLOWING)
        if not decision.allowed:
            with ctx.db.begin() as session:
                audit.record(session, ctx.audit_keys, actor=actor.username,
                             role=Role(actor.role).value, action="case.intake",
                             outcome=AuditOutcome.DENIED,
                             details={"why": decision.reason, "kind": report.kind.value,
                                      "channel": channel.value}, now=ctx.now())
            raise IntakeRefused(decision.reason)
    return submit(ctx, report, files, channel, entered_by=actor.username,
                  received_on=received_on, attested=attested)


# How far back an offline report's day of receipt may be entered: a letter found late is still
# entered with its day, a typo years back is not.
OFFLINE_MAX_AGE_DAYS = 90


def parse_offline(raw: Mapping[str, object], channel: str, today: date,
                  errors: dict[str, str]) -> tuple[date, bool]:
    """The day an offline report was received (default today) and whether the face-to-face
    record was signed or attested (RULES §4, §7: a record the reporter can recognise)."""
    text = _clean(raw.get("received_on"))
    received = today
    if text:
        try:
            received = date.fromisoformat(text)
        except ValueError:
            errors["received_on"] = "invalid_date"
        else:
            if received > today:
                errors["received_on"] = "date_in_future"
            elif (today - received).days > OFFLINE_MAX_AGE_DAYS:
                errors["received_on"] = "date_too_old"
    attested = _clean(raw.get("attested")) in ("1", "on", "true")
    if channel == Channel.FACE_TO_FACE.value and not attested:
        errors["attested"] = "attestation_required"
    return received, attested
