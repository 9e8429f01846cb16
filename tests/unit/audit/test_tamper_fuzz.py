"""Any alteration of the stored log is found by `verify_log`: Hypothesis picks the entry, the
column and the new value, a swap of two entries' contents, or a cut of the tail.

Each example tampers inside a transaction that is rolled back, so one filled log serves every
example; on PostgreSQL the append-only trigger is bypassed the way an attacker with the
database owner's rights would (replica mode), inside that same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.fuzz import profiles  # noqa: F401 - loads the Hypothesis profile
from tests.unit.audit.test_log import ENTRIES, fill
from wbs.audit import AuditKeys, verify_log

SIZE = 13  # not a power of two: the frontier has several subtrees
TEXT_COLUMNS = ["occurred_at", "actor", "role", "action", "case_number", "reason", "details"]
HASH_COLUMNS = {"leaf_hash": 32, "root_hash": 32, "signature": 64}


@pytest.fixture
def filled(engine: Engine, factory: sessionmaker[Session], keys: AuditKeys) -> Engine:
    fill(factory, keys, SIZE, per_tx=4)
    return engine


def _tampering(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    tx = conn.begin()
    if engine.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
    try:
        yield conn
    finally:
        tx.rollback()
        conn.close()


def _verify(conn: Connection, keys: AuditKeys) -> Any:
    with Session(bind=conn) as session:
        return verify_log(session, keys.public, keys.origin, keys.key_name)


def _row(conn: Connection, seq: int) -> dict[str, Any]:
    return dict(conn.execute(select(ENTRIES).where(ENTRIES.c.seq == seq)).one()._mapping)


def test_the_untouched_log_verifies(filled: Engine, keys: AuditKeys) -> None:
    for conn in _tampering(filled):
        result = _verify(conn, keys)
        assert result.ok and result.tree_size == SIZE


@given(seq=st.integers(1, SIZE), column=st.sampled_from([*TEXT_COLUMNS, "outcome"]),
       new=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                   max_size=30))
def test_any_changed_field_is_found(filled: Engine, keys: AuditKeys, seq: int, column: str,
                                    new: str) -> None:
    for conn in _tampering(filled):
        old = _row(conn, seq)[column]
        if column == "outcome":
            new = "denied" if old == "allowed" else "allowed"
        elif column == "details" and new == "":
            new = '{"i":-1}'
        if new == old:
            return
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values({column: new}))
        result = _verify(conn, keys)
        assert not result.ok
        assert result.first_bad_seq == seq and result.tree_size == seq - 1


@given(seq=st.integers(1, SIZE), column=st.sampled_from(sorted(HASH_COLUMNS)),
       data=st.data())
def test_any_changed_hash_or_signature_is_found(filled: Engine, keys: AuditKeys, seq: int,
                                                column: str, data: st.DataObject) -> None:
    size = HASH_COLUMNS[column]
    for conn in _tampering(filled):
        old = _row(conn, seq)[column]
        new = data.draw(st.binary(min_size=size, max_size=size))
        if new == old:
            return
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values({column: new}))
        result = _verify(conn, keys)
        assert not result.ok and result.first_bad_seq == seq


@given(pair=st.lists(st.integers(1, SIZE), min_size=2, max_size=2, unique=True))
def test_any_reordering_is_found(filled: Engine, keys: AuditKeys, pair: list[int]) -> None:
    a, b = sorted(pair)
    for conn in _tampering(filled):
        row_a, row_b = _row(conn, a), _row(conn, b)
        moved = [c.name for c in ENTRIES.c if c.name != "seq"]
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == a)
                     .values({c: row_b[c] for c in moved}))
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == b)
                     .values({c: row_a[c] for c in moved}))
        result = _verify(conn, keys)
        assert not result.ok and result.first_bad_seq == a


@given(cut=st.integers(1, SIZE), middle=st.booleans())
def test_any_truncation_or_gap_is_found(filled: Engine, keys: AuditKeys, cut: int,
                                        middle: bool) -> None:
    for conn in _tampering(filled):
        if middle:
            conn.execute(delete(ENTRIES).where(ENTRIES.c.seq == cut))
        else:
            conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= cut))
        result = _verify(conn, keys)
        assert not result.ok
        assert result.first_bad_seq == cut and result.tree_size == cut - 1
