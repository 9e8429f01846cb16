"""`verify_log` checks every checkpoint the instance published against the log itself: a stored
row that was edited, forged for another log, or that names a history the log no longer has, is
named; so is a row whose content was moved or whose details no longer parse."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.audit.test_log import ENTRIES, fill, rehash, rows, verify
from wbs.audit import (
    AuditKeys,
    latest_checkpoint,
    publish_checkpoint,
    verify_against_checkpoint,
)
from wbs.audit import checkpoint as cp
from wbs.db import transaction
from wbs.models import AuditCheckpoint, AuditEntry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _publish(factory: sessionmaker[Session], keys: AuditKeys) -> int:
    with transaction(factory) as session:
        return publish_checkpoint(session, keys, NOW).id


def _store_checkpoint(engine: Engine, keys: AuditKeys, size: int, root: bytes,
                      note: str | None = None) -> int:
    note = note or cp.sign_checkpoint(cp.checkpoint_body(keys.origin, size, root),
                                      keys.key_name, keys.private)
    with engine.begin() as conn:
        return int(conn.execute(insert(AuditCheckpoint).values(
            tree_size=size, root_hash=root, signed_note=note, created_at=NOW)
            .returning(AuditCheckpoint.id)).scalar_one())


def test_published_checkpoints_verify_with_the_log(factory: sessionmaker[Session],
                                                   keys: AuditKeys) -> None:
    _publish(factory, keys)  # at size 0
    fill(factory, keys, 5)
    _publish(factory, keys)
    fill(factory, keys, 5)
    _publish(factory, keys)
    result = verify(factory, keys)
    assert result.ok and result.tree_size == 10, result.problem


def test_an_edited_or_forged_checkpoint_row_is_named(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    fill(factory, keys, 4)
    row = _publish(factory, keys)
    # The public page shows the columns: a root changed there but not in the note is caught.
    with engine.begin() as conn:
        conn.execute(update(AuditCheckpoint).where(AuditCheckpoint.id == row)
                     .values(root_hash=b"\x11" * 32))
    result = verify(factory, keys)
    assert not result.ok and result.first_bad_seq is None
    assert result.problem == f"stored checkpoint {row} does not match its signed note"
    # A note whose signature no longer verifies.
    with engine.begin() as conn:
        conn.execute(delete(AuditCheckpoint))
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)
    broken = _store_checkpoint(engine, keys, 4, b"\0" * 32, note.replace("\n4\n", "\n5\n"))
    result = verify(factory, keys)
    assert result.problem.startswith(f"stored checkpoint {broken}: ")
    # A validly signed note for another log (same key, another origin).
    with engine.begin() as conn:
        conn.execute(delete(AuditCheckpoint))
    other = AuditKeys(origin="wbs.lain.go.id/audit", key_name=keys.key_name,
                      private=keys.private, public=keys.public)
    foreign = _store_checkpoint(engine, other, 4, b"\0" * 32)
    assert verify(factory, keys).problem == f"stored checkpoint {foreign} is for another log"


def test_a_checkpoint_of_a_history_the_log_no_longer_has_is_named(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    """With the signing key stolen every entry can be re-signed; the published checkpoints
    still remember the roots the log had."""
    fill(factory, keys, 6)
    at_six = _publish(factory, keys)
    log = rows(engine)
    log[2]["actor"] = "someone_else"
    rehash(engine, log, sign_with=keys)
    result = verify(factory, keys)
    assert not result.ok and result.first_bad_seq is None
    assert result.problem == f"stored checkpoint {at_six} (size 6) does not match the log"


def test_a_checkpoint_for_the_empty_log_must_name_the_empty_root(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    fill(factory, keys, 2)
    forged = _store_checkpoint(engine, keys, 0, b"\x22" * 32)
    assert verify(factory, keys).problem == (
        f"stored checkpoint {forged} (size 0) does not match the log")


def test_entries_cut_off_after_a_checkpoint_are_counted_by_it(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    fill(factory, keys, 8)
    at_eight = _publish(factory, keys)
    with engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq > 5))
    rehash(engine, rows(engine), sign_with=None)  # the head rewound to 5
    result = verify(factory, keys)
    assert not result.ok and result.first_bad_seq == 6
    assert result.problem == f"stored checkpoint {at_eight} names 8 entries; the log has 5"


def test_a_renumbered_or_unparseable_entry_fails_the_saved_checkpoint(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    fill(factory, keys, 4)
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)

    def against() -> tuple[bool, int | None, str]:
        with transaction(factory) as session:
            result = verify_against_checkpoint(session, note, keys.origin, keys.key_name,
                                               keys.public)
        return result.ok, result.first_bad_seq, result.problem

    assert against() == (True, None, "")
    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(details="{not json"))
    assert against() == (False, 3, "entry 3 was altered")
    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=9))
    assert against() == (False, 3, "entry 3 is missing")
    assert verify(factory, keys).problem == "entry 3 is missing"


def test_an_entry_numbered_below_its_place_is_named(
        engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> None:
    fill(factory, keys, 2)
    first = rows(engine)[0]
    with engine.begin() as conn:
        conn.execute(insert(ENTRIES).values({**first, "seq": 0}))
    result = verify(factory, keys)
    assert not result.ok and result.first_bad_seq == 1
    assert result.problem == "entry 1 has an invalid sequence number 0"
