"""Appending to the audit log, and signing checkpoints of it (DESIGN §4).

`record` writes into the caller's session and never commits: the entry is part of the act's
transaction, so an act that rolls back leaves no entry, and an entry that cannot be written
makes the act fail (STYLE 3, "no trace, no act"). A reporter's act is recorded the same way,
but into the pending table (`wbs.audit.pending`), from which the day's records are appended in
random order once the day has ended: the log's order must not place a reporter within the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wbs.audit import checkpoint as cp
from wbs.audit import merkle
from wbs.audit.leaf import Scalar, canonical_json, check_details, check_entry, leaf_bytes
from wbs.enums import AuditOutcome
from wbs.models import AuditCheckpoint, AuditEntry, AuditHead, PendingAuditEntry


class AuditIntegrityError(RuntimeError):
    """The head row and the last entry disagree: the log was edited behind our back.

    We refuse to sign anything on top of it, because a signature over a root an attacker
    planted in the database would vouch for a history he chose.
    """


@dataclass(frozen=True)
class AuditKeys:
    origin: str  # checkpoint origin line, e.g. "wbs.example.go.id/audit"
    key_name: str
    private: bytes = field(repr=False)  # raw 32-byte Ed25519 seed; never printed
    public: bytes
    # The time zone whose calendar days date reporter entries (the Pemda's, e.g. Asia/Jakarta).
    zone: str = "UTC"

    def __post_init__(self) -> None:
        # A public key that is not the private key's would make every later append fail its
        # integrity check; say so at startup instead.
        derived = Ed25519PrivateKey.from_private_bytes(self.private).public_key()
        if derived.public_bytes_raw() != self.public:
            raise ValueError("audit public key does not belong to the private key")
        cp.checkpoint_body(self.origin, 0, merkle.EMPTY_ROOT)  # origin is one clean line
        cp.key_id(self.key_name, self.public)  # key name is usable in a signed note


def _lock_head(session: Session) -> AuditHead:
    # FOR UPDATE serializes appends on PostgreSQL; on SQLite the engine's BEGIN IMMEDIATE
    # already holds the database write lock. populate_existing rereads a head that this
    # session cached in an earlier transaction (sessions here keep objects after commit).
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    query = query.execution_options(populate_existing=True)
    head = session.scalars(query).one_or_none()
    if head is not None:
        return head
    try:
        # Two first-ever appends may race to create the head: the loser's savepoint rolls back
        # and it then waits on the winner's row like any other append.
        with session.begin_nested():
            session.add(AuditHead(id=1, tree_size=0, frontier=b""))
    except IntegrityError:
        pass
    return session.scalars(query).one()


def _checked_tree(session: Session, head: AuditHead, keys: AuditKeys) -> tuple[list[bytes], bytes]:
    """The head's frontier and root, after checking them against the last signed entry."""
    try:
        frontier = merkle.decode_frontier(head.frontier)
        tree_root = merkle.frontier_root(frontier, head.tree_size)
    except ValueError as exc:
        raise AuditIntegrityError(f"audit head is corrupt: {exc}") from exc
    if head.tree_size == 0:
        return frontier, tree_root
    last = session.get(AuditEntry, head.tree_size, populate_existing=True)
    body = cp.checkpoint_body(keys.origin, head.tree_size, tree_root)
    if (
        last is None
        or last.root_hash != tree_root
        or not cp.verify_signature(body, last.signature, keys.public)
    ):
        raise AuditIntegrityError(f"audit head does not match entry {head.tree_size}")
    return frontier, tree_root


def _timestamp(now: datetime | None) -> str:
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    session: Session,
    keys: AuditKeys,
    *,
    actor: str,
    role: str,
    action: str,
    outcome: AuditOutcome = AuditOutcome.ALLOWED,
    case_number: str | None = None,
    reason: str = "",
    details: Mapping[str, Scalar] | None = None,
    reporter: bool = False,
    now: datetime | None = None,
) -> AuditEntry | PendingAuditEntry:
    """Append one entry in the caller's transaction and return it (flushed, not committed).

    With `reporter=True` the record is staged instead (`wbs.audit.pending.stage`) under the
    local day of `now`, and the staged row is returned: it reaches the log with the day's batch.
    """
    if reporter:
        from wbs.audit import pending  # pending appends through this module

        moment = now if now is not None else datetime.now(UTC)
        return pending.stage(session, day=pending.local_day(moment, keys.zone), actor=actor,
                             role=role, action=action, outcome=outcome,
                             case_number=case_number, reason=reason, details=details)
    # Validate everything before taking the lock; a caller bug must not log junk.
    check_entry(actor=actor, role=role, action=action, case_number=case_number, reason=reason)
    return _append(session, keys, {
        "occurred_at": _timestamp(now), "actor": actor, "role": role, "action": action,
        "case_number": case_number, "outcome": AuditOutcome(outcome).value, "reason": reason,
        "details": canonical_json(check_details(details)).decode()})


def append_dated(session: Session, keys: AuditKeys, *, day: date, actor: str, role: str,
                 action: str, outcome: AuditOutcome, case_number: str | None, reason: str,
                 details_json: str) -> AuditEntry:
    """Append a staged reporter record: dated with its day alone (DESIGN §1.4)."""
    check_entry(actor=actor, role=role, action=action, case_number=case_number, reason=reason)
    leaf_bytes({"seq": 0, "occurred_at": "", "actor": actor, "role": role, "action": action,
                "case_number": case_number, "outcome": outcome.value, "reason": reason,
                "details": details_json})  # refuses details that are not canonical JSON
    return _append(session, keys, {
        "occurred_at": day.isoformat(), "actor": actor, "role": role, "action": action,
        "case_number": case_number, "outcome": AuditOutcome(outcome).value, "reason": reason,
        "details": details_json})


def _append(session: Session, keys: AuditKeys, fields: dict[str, Any]) -> AuditEntry:
    head = _lock_head(session)
    frontier, _ = _checked_tree(session, head, keys)
    # The sequence number is explicit (not autoincrement) so a deleted row leaves a gap.
    seq = head.tree_size + 1
    leaf = merkle.leaf_hash(leaf_bytes({"seq": seq, **fields}))
    frontier = merkle.frontier_append(frontier, head.tree_size, leaf)
    tree_root = merkle.frontier_root(frontier, seq)
    signature = cp.signature_of(cp.checkpoint_body(keys.origin, seq, tree_root), keys.private)
    entry = AuditEntry(seq=seq, leaf_hash=leaf, root_hash=tree_root, signature=signature, **fields)
    session.add(entry)
    head.tree_size = seq
    head.frontier = merkle.encode_frontier(frontier)
    session.flush()  # Constraint errors surface here, inside the act, not at a later commit.
    return entry


def latest_checkpoint(session: Session, keys: AuditKeys) -> str:
    """The signed note (C2SP checkpoint) of the log as it stands in this transaction."""
    query = select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    head = session.scalars(query).one_or_none()
    size, tree_root = 0, merkle.EMPTY_ROOT
    if head is not None:
        _, tree_root = _checked_tree(session, head, keys)
        size = head.tree_size
    body = cp.checkpoint_body(keys.origin, size, tree_root)
    return cp.sign_checkpoint(body, keys.key_name, keys.private)


def publish_checkpoint(session: Session, keys: AuditKeys, now: datetime) -> AuditCheckpoint:
    """Store the current checkpoint in audit_checkpoints, for the public page to show."""
    note = latest_checkpoint(session, keys)
    parsed = cp.parse_and_verify(note, keys.key_name, keys.public)
    row = AuditCheckpoint(
        tree_size=parsed.size, root_hash=parsed.root, signed_note=note, created_at=now
    )
    session.add(row)
    session.flush()
    return row
