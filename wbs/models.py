"""SQLAlchemy 2 tables. No behaviour here.

Principle (DESIGN §1): only metadata needed for deadlines and statistics is stored in clear. Every
column holding report content, messages, attachments or identity is a sealed blob (`Sealed`).
Reporter-facing rows carry dates, never times of day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wbs.enums import (
    AuditOutcome,
    CaseState,
    Channel,
    Classification,
    Determination,
    FollowUpKind,
    ReportKind,
    Role,
    UnitKind,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
Sealed = Annotated[bytes, mapped_column(LargeBinary)]
Timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]
Name = Annotated[str, mapped_column(String(200))]


def _in(column: str, values: type[object]) -> str:
    members = ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
    return f"{column} IN ({members})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint(_in("kind", UnitKind), name="kind"),)

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[Name]
    kind: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Until its first member exists, a new unit's private key is held sealed under an instance
    # key; granting it to the first member erases this column (SQLite runs with secure_delete).
    pending_private_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[Timestamp]
    # Counts the unit's key pairs: a rotation (wbs/ops/keys.py) re-wraps every case key wrapped
    # to the unit and marks each wrap with the serial of the key pair it is wrapped to.
    key_serial: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[Name]
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_salt: Mapped[bytes] = mapped_column(LargeBinary)
    password_params: Mapped[str] = mapped_column(String(64))
    password_verifier: Mapped[bytes] = mapped_column(LargeBinary)
    # The TOTP secret is sealed under an instance key (keys/), so a database copy alone cannot
    # produce codes; it cannot be under the password key because TOTP is checked first.
    totp_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[Timestamp]
    password_changed_at: Mapped[Timestamp]


class UnitKeyWrap(Base):
    """A unit's private key, wrapped (HPKE) to one member's public key."""

    __tablename__ = "unit_key_wraps"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[intpk]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    wrapped: Mapped[Sealed]


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp]
    # The user's private key, re-sealed under a key derived from the session token that only the
    # cookie holds: any worker can use it, a database thief cannot.
    private_key_sealed: Mapped[Sealed]


class ReporterSession(Base):
    """A reporter's mailbox session: the case key re-sealed under the cookie's token.

    No time of day and no client data (DESIGN §1.4): a copy of the database must not tell when a
    reporter last used the mailbox. The idle expiry travels in the cookie under a MAC; the row
    keeps only the day it was opened, so that rows from before yesterday can be purged.
    """

    __tablename__ = "reporter_sessions"

    id: Mapped[intpk]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    created_on: Mapped[date] = mapped_column(Date, index=True)
    case_key_sealed: Mapped[Sealed]
    identity_key_sealed: Mapped[Sealed]


class Throttle(Base):
    """Failure counters for sign-in throttling, keyed by a hash (never a raw IP or username)."""

    __tablename__ = "throttles"

    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[Timestamp]
    failures: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("kind", ReportKind), name="kind"),
        CheckConstraint(_in("state", CaseState), name="state"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(
            "classification IS NULL OR " + _in("classification", Classification),
            name="classification",
        ),
        CheckConstraint("resolution_days IS NULL OR resolution_days IN (5, 14, 60)", name="res"),
        # The case list's order, newest first: a page is a walk of 51 entries from its key,
        # also when filtered by state or kind (which the index then leads with).
        Index("ix_cases_received_id", "received_on", "id"),
        Index("ix_cases_state_received", "state", "received_on", "id"),
        Index("ix_cases_kind_received", "kind", "received_on", "id"),

        CheckConstraint("determination IS NULL OR " + _in("determination", Determination),
                        name="determination"),
    )

    id: Mapped[intpk]
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    # HMAC-SHA256(instance pepper, code): finds the case from a code; the code is never stored.
    lookup_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    kind: Mapped[str] = mapped_column(String(32))
    # The regulation's name of the kind, from the profile in force at intake (issue 10,
    # `wbs.profiles.kinds`): keluhan, apresiasi, kritik... beside the workflow kind above, which
    # alone decides routing and limits. NULL on cases from before it: their kind's national
    # name (statistics count them so).
    profile_kind: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    received_on: Mapped[date] = mapped_column(Date)
    receiving_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    reported_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    at_apip: Mapped[bool] = mapped_column(Boolean, default=False)
    classification: Mapped[str | None] = mapped_column(String(32))
    resolution_days: Mapped[int | None] = mapped_column(Integer)
    identity_provided: Mapped[bool] = mapped_column(Boolean, default=False)
    # A recorded outcome, in clear for statistics: APIP's (not_proven, administrative,
    # referral_kpk, referral_kejaksaan, referral_polri) or where a case was forwarded to.
    outcome: Mapped[str | None] = mapped_column(String(64))
    # All 4W+1H fields and the title, as one sealed JSON document under the case key K.
    report_sealed: Mapped[Sealed]
    # SHA-256 of report_sealed: what the signed receipt commits to.
    report_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Identity under the separate identity key I; NULL for an anonymous reporter.
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Re-keying (issue 13): the current content key's epoch, and the reporter's HPKE public key
    # (derived from the code) that every later epoch's key is wrapped to.
    key_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    reporter_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A code issued through staff intake was seen by the staff member who typed the report in:
    # until the reporter replaces it, it shows the status only (no mailbox, no acts).
    code_needs_replacing: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))
    # The day the retention job destroyed the content (every key wrap and sealed blob); the
    # metadata above stays for statistics (wbs/ops/retention.py).
    shredded_on: Mapped[date | None] = mapped_column(Date)
    # What the statistics are cut by and measured with (RULES §8), in clear like the kind:
    # the category the verifier chose, sengketa or indikasi pelanggaran, the day of the first
    # response and of the outcome, and the working days each took by the calendar of that day.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("case_categories.id"))
    determination: Mapped[str | None] = mapped_column(String(16))
    first_response_on: Mapped[date | None] = mapped_column(Date)
    response_wd: Mapped[int | None] = mapped_column(Integer)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completion_wd: Mapped[int | None] = mapped_column(Integer)
    # A complaint goes to the unit responsible for the service, even the one complained about
    # (RULES §6), unless the reporter asked otherwise for fear of retaliation or the verifier
    # saw a conflict: then that unit never receives or sees it (issue 10).
    shield_reported_unit: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))


class CaseKeyWrap(Base):
    """The case key K or identity key I wrapped to one recipient (unit, user or reporter)."""

    __tablename__ = "case_key_wraps"
    __table_args__ = (
        CheckConstraint("purpose IN ('content', 'identity')", name="purpose"),
        CheckConstraint("recipient_kind IN ('unit', 'user', 'reporter')", name="recipient_kind"),
        UniqueConstraint("case_id", "purpose", "recipient_kind", "recipient_id", "epoch"),
        # The cases a unit holds: counting a unit's list starts from here.
        Index("ix_case_key_wraps_holder", "recipient_kind", "recipient_id", "purpose",
              "case_id"),
        # The cases a unit holds in list order (issue 12): visibility and order in one index.
        Index("ix_case_key_wraps_unit_list", "recipient_id", "epoch", "received_on", "case_id",
              "next_due", postgresql_where=text("purpose = 'content' AND recipient_kind = 'unit'"),
              sqlite_where=text("purpose = 'content' AND recipient_kind = 'unit'")),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    recipient_kind: Mapped[str] = mapped_column(String(16))
    # Unit id or user id; 0 for the reporter (a UNIQUE constraint ignores NULLs).
    recipient_id: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[Sealed]
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # For a wrap to a unit: the serial of the unit key pair it is wrapped to.
    unit_key_serial: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The content key's epoch (issue 13): a case is re-keyed when a unit loses it.
    epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # On a wrap of the content key to a unit: the case's day of receipt, which database
    # triggers copy from the case (migration 0211), so the unit's list is one index walk.
    # NULL on other wraps. Never written by the application.
    received_on: Mapped[date | None] = mapped_column(Date)
    # Beside it, the case's next open deadline (migration 0212, triggers on deadlines): the
    # overdue filter reads it from the index entry instead of probing each case's deadlines.
    next_due: Mapped[date | None] = mapped_column(Date)


class CaseEvent(Base):
    """The case's timeline: state changes, dated (no time of day: reporters act here too)."""

    __tablename__ = "case_events"

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    on: Mapped[date] = mapped_column(Date)
    note_key: Mapped[str] = mapped_column(String(64), default="")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (CheckConstraint("author_kind IN ('reporter', 'staff', 'system')", name="a"),)

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_role: Mapped[str | None] = mapped_column(String(32))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # message, question (needs_info), answer, objection, notice: what the reporter is shown.
    kind: Mapped[str] = mapped_column(String(16), default="message", server_default="message")
    body_sealed: Mapped[Sealed]
    created_on: Mapped[date] = mapped_column(Date)
    # The epoch of the content key it is sealed under (issue 13).
    key_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Attachment(Base):
    __tablename__ = "attachments"
    # The files sent with staff answers (the only attachments with a message): what the
    # statistics count, read from the index alone, joined to the period's cases.
    __table_args__ = (
        Index("ix_attachments_answer", "created_on", "case_id", "message_id",
              sqlite_where=text("message_id IS NOT NULL"),
              postgresql_where=text("message_id IS NOT NULL")),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    uploader_kind: Mapped[str] = mapped_column(String(16))
    # Original file name and type, sealed; the stored name is the server's id.
    meta_sealed: Mapped[Sealed]
    chunk_count: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date)
    key_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class AttachmentChunk(Base):
    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob: Mapped[Sealed]


class AuditEntry(Base):
    """Append-only audit log (DESIGN §4). Each row is a leaf of an RFC 6962 Merkle tree.

    Never content, identity, codes or reporter IPs; reporter actions carry the date only.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (CheckConstraint(_in("outcome", AuditOutcome), name="outcome"),
                      # The activity summary reads a period's entries (migration 0240).
                      Index("ix_audit_entries_occurred_at", "occurred_at"))

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[str] = mapped_column(String(32))  # ISO 8601; a date alone for reporters
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    case_number: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Root of the tree of entries 1..seq, and an Ed25519 signature of the checkpoint text at that
    # size: an attacker who rewrites a row and recomputes every hash still cannot re-sign, so
    # `wbs audit verify` can name the first entry whose signed head no longer matches.
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditHead(Base):
    """Single row: the current tree size and the Merkle frontier (right-edge subtree hashes).

    Appends lock this row (SELECT ... FOR UPDATE), which serializes them on every database, and
    compute the new root in O(log n) from the frontier instead of rereading the log.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[intpk]
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp]


class AccessPurpose(Base):
    """The purpose a staff member stated before first decrypting a case in a session."""

    __tablename__ = "access_purposes"
    __table_args__ = (UniqueConstraint("session_id", "case_id"),)

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("staff_sessions.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    purpose: Mapped[str] = mapped_column(String(300))


class Conflict(Base):
    """A declared conflict of interest: the user is refused the case from then on."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[Timestamp]


class IdentityRequest(Base):
    """An investigator's request to see a reporter's identity, decided by custodians."""

    __tablename__ = "identity_requests"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'denied', 'expired')", name="state"),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    quorum: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[Timestamp]
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdentityDecision(Base):
    __tablename__ = "identity_decisions"
    __table_args__ = (UniqueConstraint("request_id", "custodian_id"),)

    id: Mapped[intpk]
    request_id: Mapped[int] = mapped_column(ForeignKey("identity_requests.id"), index=True)
    custodian_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approve: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[Timestamp]


class CaseTask(Base):
    """One unit's share of a case: a disposition (or APIP's own handling), answered separately."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'in_process', 'answered', 'returned')", name="state"),
        CheckConstraint("resolution_days IS NULL OR resolution_days IN (5, 14, 60)", name="res"),
        CheckConstraint("followup_kind IS NULL OR " + _in("followup_kind", FollowUpKind),
                        name="followup"),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    resolution_days: Mapped[int | None] = mapped_column(Integer)
    assigned_on: Mapped[date] = mapped_column(Date)
    answered_on: Mapped[date | None] = mapped_column(Date)
    suggested_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # Set with the answer, for the evaluation (RULES §8): the kind of follow-up and whether the
    # unit promised to improve its service. No free text: leadership reads these.
    followup_kind: Mapped[str | None] = mapped_column(String(16))
    improvement_promised: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))


class Deadline(Base):
    """A dated obligation on a case (or one task of it), with what the jobs did about it."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id", "kind", "start_on"),
        # NULLs are distinct in a UNIQUE constraint: case-level deadlines (no task) need their
        # own partial index so two overlapping requests cannot open the same one twice.
        Index("uq_deadlines_case_level", "case_id", "kind", "start_on", unique=True,
              sqlite_where=text("task_id IS NULL"), postgresql_where=text("task_id IS NULL")),
        # The case list asks every row for its next open deadline, and filters on it.
        Index("ix_deadlines_open", "case_id", "due_on", sqlite_where=text("met_on IS NULL"),
              postgresql_where=text("met_on IS NULL")),
        # The overdue and due-within filters: open deadlines by date, then their cases.
        Index("ix_deadlines_open_due", "due_on", "case_id", sqlite_where=text("met_on IS NULL"),
              postgresql_where=text("met_on IS NULL")),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("case_tasks.id"))
    # verification, answer, missing_data, objection, decision, decision_delivery
    kind: Mapped[str] = mapped_column(String(32))
    rule_key: Mapped[str] = mapped_column(String(32))
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    remind_on: Mapped[date | None] = mapped_column(Date)
    met_on: Mapped[date | None] = mapped_column(Date)  # set when the obligation is fulfilled
    reminded_on: Mapped[date | None] = mapped_column(Date)
    escalated_on: Mapped[date | None] = mapped_column(Date)
    enforced_on: Mapped[date | None] = mapped_column(Date)  # auto-archive / auto-close applied


class CalendarOverrideRow(Base):
    """Administrator corrections of the working-day calendar (regional holidays, cuti bersama)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str] = mapped_column(String(200))


class DeadlineRuleRow(Base):
    """A Pemda's own deadline rule, replacing the RULES §5 default of the same key."""

    __tablename__ = "deadline_rules"
    __table_args__ = (
        CheckConstraint("unit IN ('working_days', 'calendar_days')", name="unit"),
        CheckConstraint("amount > 0 AND amount <= 365", name="amount"),
    )

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    # The event the limit counts from (sla.StartEvent); NULL: the rule's default (issue 10).
    start: Mapped[str | None] = mapped_column(String(16))


class RuleProfileRow(Base):
    """The regional rule profile chosen at `wbs init --profile`, with the administrator's
    local changes to its non-deadline settings (one JSON document, one row). Deadline
    changes stay in `deadline_rules`, one row per rule."""

    __tablename__ = "rule_profile"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    changes: Mapped[str] = mapped_column(Text, default="{}")


class RulesVersion(Base):
    """A token that changes with every change to the rules in force (issue 12): database
    triggers on `calendar_overrides`, `deadline_rules` and `rule_profile` set a new random
    value in the same transaction as the change, so a process may keep the rules and calendar
    it built and check in one cheap read that they are still the ones stored. Random rather
    than counted: a value a rolled-back change wrote is never written again."""

    __tablename__ = "rules_version"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class Notice(Base):
    """A work notice to one staff member: in-app inbox and e-mail. Never content or identity.

    Dates only, except `emailed_at`: a notice caused by a reporter is held until a fixed batch
    time of day (`batch_at`) and then e-mailed with that time, so neither column tells when the
    reporter acted; a notice caused by staff or the jobs is e-mailed at the next jobs run.
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("user_id", "case_id", "kind", "due_on"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))  # new_task, reminder, overdue, returned…
    due_on: Mapped[date | None] = mapped_column(Date)
    created_on: Mapped[date] = mapped_column(Date)
    batch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_on: Mapped[date | None] = mapped_column(Date)


class Branding(Base):
    """The Pemda's identity on every page (one row): names, contacts, channels, logo.

    Public information only. The text settings are one JSON document, so a new contact field
    needs no migration; the logo is stored re-encoded (PNG, no metadata) with its favicon.
    """

    __tablename__ = "branding"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settings: Mapped[str] = mapped_column(Text, default="{}")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    favicon_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[Timestamp]


class PendingAuditEntry(Base):
    """A reporter's act waiting for the day's batch append to the audit log (DESIGN §4).

    Written in the act's transaction; `wbs jobs run` appends the day's rows to the log in random
    order once the day has ended, then deletes them. The key is random and the row holds the
    day only, so neither the table nor the log's order places the act within its day.
    """

    __tablename__ = "audit_pending"
    __table_args__ = (CheckConstraint(_in("outcome", AuditOutcome), name="outcome"),)

    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    case_number: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON


class ReporterReadCount(Base):
    """How many reporter reads (status lookups, mailbox views, downloads) a day saw, in all.

    A reporter's read is not an act (DESIGN §4): it is counted, not logged, and not per case.
    """

    __tablename__ = "reporter_read_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class LegalHold(Base):
    """A legal hold suspends the case's retention expiry (a court case, an investigation).

    Placed and lifted at the command line, audited; the reason is the administrator's words
    and must not repeat report content.
    """

    __tablename__ = "legal_holds"

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)


class UnitKeyRotation(Base):
    """A unit key rotation in progress: resumable by any holder of the old key.

    The next private key is wrapped to the unit's current public key, so whoever holds the
    current key can finish the rotation if the first run was interrupted.
    """

    __tablename__ = "unit_key_rotations"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    next_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    next_private_wrapped: Mapped[Sealed]
    started_on: Mapped[date] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(64))


class RecoveryKey(Base):
    """The organisational recovery public key; its private key exists only as M-of-N shares
    (SLIP-39) held by named officials (wbs/ops/recovery.py)."""

    __tablename__ = "recovery_key"
    __table_args__ = (CheckConstraint("id = 1", name="single"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    threshold: Mapped[int] = mapped_column(Integer)
    holders: Mapped[str] = mapped_column(Text)  # JSON list of the officials' names
    created_on: Mapped[date] = mapped_column(Date)


class UnitRecoveryWrap(Base):
    """A unit's private key wrapped to the recovery public key."""

    __tablename__ = "unit_recovery_wraps"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    key_serial: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[Sealed]


class ReceiptHold(Base):
    """A receipt kept briefly so that a reload, Back or a language switch shows it again, and a
    re-sent form shows the same receipt instead of filing the report twice (issue 9, blocker 2).

    The key is a keyed hash of the form's one-time nonce; the receipt (with the code) and the
    moment it stops being shown are sealed under a key derived from the nonce and a secret that
    lives only in the reporter's browser cookie, so a database copy opens nothing. The row names
    no case and holds a day, never a time of day (DESIGN §1.4): it is dropped after `forget_on`.
    """

    __tablename__ = "receipt_holds"

    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    forget_on: Mapped[date] = mapped_column(Date, index=True)


class HeldUpload(Base):
    """An evidence file already cleaned, kept sealed for a form that came back with an error, so
    that a reporter on a phone need not pick it again (issue 9, item 6).

    Found by a keyed hash of a one-time token carried in the form; sealed under a key derived
    from that token and the browser's secret cookie (as `ReceiptHold`); taken (and deleted) by
    the next post of the form. Name, type and the moment it stops being usable are sealed too;
    the row keeps a day only and is dropped once the next day has ended.
    """

    __tablename__ = "held_uploads"

    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    meta_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    data_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    forget_on: Mapped[date] = mapped_column(Date, index=True)


# --- SP4N-LAPOR! exchange (wbs/integrations/) ---------------------------------------------------


class LaporOutboxItem(Base):
    """One document waiting for (or done with) delivery to SP4N-LAPOR! (wbs/integrations/).

    Written in the transaction of the act that caused it. The document itself is sealed (HPKE)
    to the connector's key, so neither this table nor the coordinator's page shows content: the
    clear columns are the delivery state only. `created_on` is a date and a reporter-caused item
    waits for the next notice batch time (`not_before`), as notices do (DESIGN §4).
    """

    __tablename__ = "lapor_outbox"
    __table_args__ = (
        CheckConstraint("kind IN ('case', 'status')", name="kind"),
        CheckConstraint("state IN ('pending', 'delivered', 'failed', 'exported')", name="state"),
        Index("ix_lapor_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[intpk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # Sent as the Idempotency-Key header: a retry after a lost answer never creates a duplicate.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload_sealed: Mapped[Sealed]
    created_on: Mapped[date] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A class of error (http_5xx, connection, timeout…), never a remote message or content.
    last_error: Mapped[str | None] = mapped_column(String(32))
    delivered_on: Mapped[date | None] = mapped_column(Date)


class LaporReference(Base):
    """The SP4N-LAPOR! tracking number of a case: imported from, or accepted by, LAPOR!."""

    __tablename__ = "lapor_references"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(64), unique=True)
    # 'imported' (the case came from LAPOR!) or 'delivered' (LAPOR! accepted our document).
    origin: Mapped[str] = mapped_column(String(16))
    recorded_on: Mapped[date] = mapped_column(Date)


class LaporIdentityConsent(Base):
    """The reporter's consent to send their identity to SP4N-LAPOR! (issue 10).

    Given in the mailbox, revocable until the case document first leaves the portal. The
    identity the reporter agreed to send is sealed (HPKE) to the connector's key, so that the
    connector can add it to the document without any handler holding the identity key; the
    copy is erased when consent is revoked or used. It travels only if a disclosure was also
    approved (`wbs.integrations.consent`). States: given, revoked, sent (went with the
    document), withheld (the document went without it: no approved disclosure). A date, never
    a time: the row must not place the reporter within the day.
    """

    __tablename__ = "lapor_identity_consents"
    __table_args__ = (
        CheckConstraint("state IN ('given', 'revoked', 'sent', 'withheld')", name="state"),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    identity_sealed: Mapped[Sealed]
    decided_on: Mapped[date] = mapped_column(Date)


# --- compensation (ganti rugi, Perbup Sanggau 33/2019 Ps 17(3), 18) ------------------------------


class CompensationClaim(Base):
    """A complaint's claim for compensation. Items and decision are content: sealed under K.

    Only the dates that drive the 60 and 14 working-day limits, and the payment deadline the
    decision sets, are in clear.
    """

    __tablename__ = "compensation_claims"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    items_sealed: Mapped[Sealed]
    # The content key epochs the items and the decision are sealed under (issue 13).
    items_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    decision_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    claimed_on: Mapped[date] = mapped_column(Date)
    file_complete_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    payment_due_on: Mapped[date | None] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)

# The statistics' own tables live beside their code; importing them here keeps every table in
# `Base.metadata` wherever the models are imported (migrations, the schema test).
from wbs.reports import tables as _report_tables  # noqa: E402,F401
