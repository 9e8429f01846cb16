"""Checking the audit log: `wbs audit verify`, and checking it against a saved checkpoint.

Verification recomputes everything from the stored fields and trusts no stored hash: a leaf
hash, a root or the head row is only ever compared against what we recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs.audit import checkpoint as cp
from wbs.audit import merkle
from wbs.audit.leaf import leaf_bytes
from wbs.models import AuditCheckpoint, AuditEntry, AuditHead

_BATCH = 1000  # rows per fetch: memory stays flat however long the log grows


@dataclass
class VerifyResult:
    """`tree_size` and `root` describe the verified tree (the good prefix when `ok` is false)."""

    ok: bool
    tree_size: int
    root: bytes
    first_bad_seq: int | None
    problem: str


def _entries(session: Session) -> Iterator[dict[str, Any]]:
    # Plain column rows, not ORM objects: nothing cached in the session can stand in for
    # what is actually stored, and the identity map does not grow with the log.
    query = select(*AuditEntry.__table__.columns).order_by(AuditEntry.seq)
    with closing(session.execute(query.execution_options(yield_per=_BATCH))) as result:
        for row in result:
            yield row._asdict()


def _recomputed_leaf(fields: Mapping[str, Any]) -> bytes | None:
    try:
        return merkle.leaf_hash(leaf_bytes(fields))
    except ValueError:
        return None  # Details that `record` could not have written.


def _gap(seq: object, expected: int) -> str | None:
    if seq == expected:
        return None
    if isinstance(seq, int) and seq > expected:
        return f"entry {expected} is missing"
    return f"entry {expected} has an invalid sequence number {seq!r}"


def _stored_checkpoints(session: Session, public: bytes, origin: str,
                        key_name: str) -> tuple[dict[int, list[tuple[int, bytes]]], str | None]:
    """Every published checkpoint, by tree size: (row id, the root its signed note names).

    A row passes only if its note verifies under the instance key, names this log, and agrees
    with the row's own size and root columns (what the public page shows). The second value
    names the first row that does not (issue 8, finding 11).
    """
    by_size: dict[int, list[tuple[int, bytes]]] = {}
    query = select(AuditCheckpoint.id, AuditCheckpoint.tree_size, AuditCheckpoint.root_hash,
                   AuditCheckpoint.signed_note).order_by(AuditCheckpoint.id)
    for row_id, size, root, note in session.execute(query):
        try:
            saved = cp.parse_and_verify(note, key_name, public)
        except cp.CheckpointError as exc:
            return by_size, f"stored checkpoint {row_id}: {exc}"
        if saved.origin != origin:
            return by_size, f"stored checkpoint {row_id} is for another log"
        if saved.size != size or saved.root != root:
            return by_size, f"stored checkpoint {row_id} does not match its signed note"
        by_size.setdefault(size, []).append((row_id, saved.root))
    return by_size, None


def verify_log(session: Session, keys_public: bytes, origin: str, key_name: str) -> VerifyResult:
    """Recompute every leaf, root and signed tree head, and check every stored checkpoint
    against them; name the first entry (or checkpoint) that fails."""
    cp.key_id(key_name, keys_public)  # A malformed key or name is a caller bug: raise.
    frontier: list[bytes] = []
    size, tree_root = 0, merkle.EMPTY_ROOT

    def bad(seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, size, tree_root, seq, problem)

    checkpoints, broken = _stored_checkpoints(session, keys_public, origin, key_name)
    if broken is not None:
        return bad(None, broken)

    def off_log(at_size: int, at_root: bytes) -> str | None:
        # A checkpoint published at this size must name the root the log had then: a signed
        # note for a root the log never had means the log was rewritten after it was published.
        for row_id, root in checkpoints.pop(at_size, []):
            if root != at_root:
                return f"stored checkpoint {row_id} (size {at_size}) does not match the log"
        return None

    if (problem := off_log(0, merkle.EMPTY_ROOT)) is not None:
        return bad(None, problem)
    for fields in _entries(session):
        seq = size + 1
        if (gap := _gap(fields["seq"], seq)) is not None:
            return bad(seq, gap)
        # The leaf covers seq, so moving a row's content to another seq breaks it too.
        leaf = _recomputed_leaf(fields)
        if leaf is None or leaf != fields["leaf_hash"]:
            return bad(seq, f"entry {seq} was altered")
        grown = merkle.frontier_append(frontier, size, leaf)
        grown_root = merkle.frontier_root(grown, seq)
        # An attacker can recompute hashes but not sign: the signed head catches rewrites that
        # kept every hash consistent.
        body = cp.checkpoint_body(origin, seq, grown_root)
        if fields["root_hash"] != grown_root or not cp.verify_signature(
            body, fields["signature"], keys_public
        ):
            return bad(seq, f"entry {seq}: signed tree head does not match")
        frontier, size, tree_root = grown, seq, grown_root
        if (problem := off_log(size, tree_root)) is not None:
            return bad(None, problem)

    if checkpoints:
        # Entries cut off the end, head row rewound to match: the checkpoints still count them.
        row_id = min(row for rows in checkpoints.values() for row, _ in rows)
        return bad(size + 1, f"stored checkpoint {row_id} names {max(checkpoints)} entries; "
                             f"the log has {size}")

    head = session.get(AuditHead, 1, populate_existing=True)
    head_size = 0 if head is None else head.tree_size
    if head_size > size:
        # Entries cut off the end leave a contiguous log; only the head remembers them.
        return bad(size + 1, f"entry {size + 1} is missing")
    if head_size < size or (head is not None and head.frontier != merkle.encode_frontier(frontier)):
        return bad(None, f"audit head (size {head_size}) does not match entry {size}")
    return VerifyResult(True, size, tree_root, None, "")


def verify_against_checkpoint(
    session: Session, note: str, origin: str, key_name: str, public: bytes
) -> VerifyResult:
    """Show that the current log extends the one a saved checkpoint describes.

    This holds even against someone who holds the signing key: a checkpoint kept outside the
    server pins the first `size` entries, and any rewrite of them changes their root.
    """
    try:
        saved = cp.parse_and_verify(note, key_name, public)
    except cp.CheckpointError as exc:
        return VerifyResult(False, 0, merkle.EMPTY_ROOT, None, f"checkpoint rejected: {exc}")
    if saved.origin != origin:
        return VerifyResult(False, 0, merkle.EMPTY_ROOT, None, "checkpoint is for another log")
    # One hash per entry in memory (32 MB per million entries): proofs need the whole tree.
    leaves: list[bytes] = []
    for fields in _entries(session):
        seq = len(leaves) + 1
        if (gap := _gap(fields["seq"], seq)) is not None:
            return VerifyResult(False, 0, merkle.EMPTY_ROOT, seq, gap)
        leaf = _recomputed_leaf(fields)
        if leaf is None:
            return VerifyResult(False, 0, merkle.EMPTY_ROOT, seq, f"entry {seq} was altered")
        leaves.append(leaf)
    size = len(leaves)
    if size < saved.size:
        problem = f"the log has {size} entries, fewer than the checkpoint's {saved.size}"
        return VerifyResult(False, size, merkle.root(leaves), size + 1, problem)
    if merkle.root(leaves[: saved.size]) != saved.root:
        problem = f"the first {saved.size} entries are not the ones the checkpoint signed"
        return VerifyResult(False, size, merkle.root(leaves), None, problem)
    # The first `saved.size` leaves hash to the signed root: the log extends the checkpoint.
    return VerifyResult(True, size, merkle.root(leaves), None, "")
