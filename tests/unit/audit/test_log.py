"""The audit log in a real database: appends, tampering of every kind, checkpoints, triggers."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from wbs.audit import (
    PG_APPEND_ONLY_SQL,
    PG_DROP_APPEND_ONLY_SQL,
    AuditIntegrityError,
    AuditKeys,
    VerifyResult,
    latest_checkpoint,
    merkle,
    pending,
    publish_checkpoint,
    record,
    verify_against_checkpoint,
    verify_log,
)
from wbs.audit import checkpoint as cp
from wbs.audit.leaf import leaf_bytes
from wbs.db import transaction
from wbs.enums import AuditOutcome
from wbs.models import AuditCheckpoint, AuditEntry, AuditHead, PendingAuditEntry

ENTRIES = AuditEntry.__table__


def fill(factory: sessionmaker[Session], keys: AuditKeys, n: int, per_tx: int = 10) -> None:
    done = 0
    while done < n:
        with transaction(factory) as session:
            for i in range(done, min(n, done + per_tx)):
                record(
                    session,
                    keys,
                    actor=f"user{i % 5}",
                    role="investigator",
                    action="case.view",
                    outcome=AuditOutcome.DENIED if i % 7 == 0 else AuditOutcome.ALLOWED,
                    case_number=f"WBS-2025-{i:05d}",
                    details={"field": "chronology", "i": i, "sealed": True},
                )
        done = min(n, done + per_tx)


def verify(factory: sessionmaker[Session], keys: AuditKeys) -> VerifyResult:
    with transaction(factory) as session:
        return verify_log(session, keys.public, keys.origin, keys.key_name)


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        return [r._asdict() for r in conn.execute(select(ENTRIES).order_by(ENTRIES.c.seq))]


def store(engine: Engine, changed: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for row in changed:
            fields = {k: v for k, v in row.items() if k != "seq"}
            conn.execute(update(AuditEntry).where(AuditEntry.seq == row["seq"]).values(**fields))


def rehash(engine: Engine, log: list[dict[str, Any]], sign_with: AuditKeys | None) -> None:
    """What an intruder with database access does: recompute every hash and, if he holds a
    key, every signature; then make the head agree."""
    frontier: list[bytes] = []
    for size, row in enumerate(log):
        row["leaf_hash"] = merkle.leaf_hash(leaf_bytes(row))
        frontier = merkle.frontier_append(frontier, size, row["leaf_hash"])
        row["root_hash"] = merkle.frontier_root(frontier, size + 1)
        if sign_with is not None:
            body = cp.checkpoint_body(sign_with.origin, row["seq"], row["root_hash"])
            row["signature"] = cp.signature_of(body, sign_with.private)
    store(engine, log)
    with engine.begin() as conn:
        conn.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(tree_size=len(log), frontier=merkle.encode_frontier(frontier))
        )


def assert_bad(result: VerifyResult, seq: int, problem: str) -> None:
    assert not result.ok
    assert result.first_bad_seq == seq, result.problem
    assert result.problem == problem
    assert result.tree_size == seq - 1


def test_fifty_entries_verify(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 50)
    result = verify(factory, keys)
    assert result == VerifyResult(True, 50, result.root, None, "")
    log = rows(engine)
    assert [r["seq"] for r in log] == list(range(1, 51))
    assert result.root == merkle.root([r["leaf_hash"] for r in log]) == log[-1]["root_hash"]
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)
    assert cp.parse_and_verify(note, keys.key_name, keys.public) == cp.Checkpoint(
        keys.origin, 50, result.root
    )
    # Ed25519 is deterministic: every row's signature is the checkpoint of its tree size.
    assert cp.signature_of(note.split("\n\n")[0] + "\n", keys.private) == log[-1]["signature"]


def test_empty_log(factory: sessionmaker[Session], keys: AuditKeys) -> None:
    assert verify(factory, keys) == VerifyResult(True, 0, merkle.EMPTY_ROOT, None, "")
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)
    assert cp.parse_and_verify(note, keys.key_name, keys.public).size == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "nothing happened"),
        ("actor", "someone_else"),
        ("occurred_at", "2020-01-01T00:00:00Z"),
        ("outcome", "failed"),
        ("details", '{"field":"identity","i":16,"sealed":true}'),
        ("details", '{"field": "chronology", "i": 16, "sealed": true}'),  # same JSON, respaced
    ],
)
def test_one_changed_field_is_named(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys, column: str, value: str
) -> None:
    fill(factory, keys, 50)
    with engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 17).values({column: value}))
    assert_bad(verify(factory, keys), 17, "entry 17 was altered")


def test_change_with_recomputed_hashes_is_still_named(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 50)
    log = rows(engine)
    log[16]["reason"] = "rewritten by someone without the key"
    rehash(engine, log, sign_with=None)
    assert_bad(verify(factory, keys), 17, "entry 17: signed tree head does not match")


def test_deleted_entry_is_named(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 50)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 23"))
    assert_bad(verify(factory, keys), 23, "entry 23 is missing")
    with engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq > 23))
    # Cut from the end the rest is contiguous; the head still remembers the size.
    assert_bad(verify(factory, keys), 23, "entry 23 is missing")


def test_swapped_entries_are_named(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 50)
    log = rows(engine)
    a, b = log[29], log[30]
    store(engine, [{**b, "seq": 30}, {**a, "seq": 31}])
    assert_bad(verify(factory, keys), 30, "entry 30 was altered")
    # Swapped and rehashed (the order the leaves commit to) fails the signed heads instead.
    log = rows(engine)
    rehash(engine, log, sign_with=None)
    assert_bad(verify(factory, keys), 30, "entry 30: signed tree head does not match")


def test_saved_checkpoint_survives_honest_growth(
    factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 20)
    with transaction(factory) as session:
        saved = publish_checkpoint(session, keys, datetime.now(UTC))
    fill(factory, keys, 30)
    with transaction(factory) as session:
        stored = session.scalars(select(AuditCheckpoint)).one()
        result = verify_against_checkpoint(
            session, saved.signed_note, keys.origin, keys.key_name, keys.public
        )
    assert (stored.tree_size, stored.signed_note) == (20, saved.signed_note)
    assert result.ok and result.tree_size == 50, result.problem
    assert result == VerifyResult(True, 50, verify(factory, keys).root, None, "")


@pytest.mark.parametrize("stolen", [False, True], ids=["other-key", "stolen-key"])
def test_rewritten_history_fails_the_saved_checkpoint(
    engine: Engine,
    factory: sessionmaker[Session],
    keys: AuditKeys,
    stolen: bool,
    key_factory: Callable[..., AuditKeys],
) -> None:
    fill(factory, keys, 20)
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)
    fill(factory, keys, 30)
    log = rows(engine)
    log[4]["case_number"] = "WBS-2025-99999"
    rehash(engine, log, sign_with=keys if stolen else key_factory())
    with transaction(factory) as session:
        result = verify_against_checkpoint(session, note, keys.origin, keys.key_name, keys.public)
    assert not result.ok
    assert result.problem == "the first 20 entries are not the ones the checkpoint signed"
    # With the real key stolen the rewritten log is self-consistent: only the checkpoint
    # someone saved outside the server shows the rewrite.
    assert verify(factory, keys).ok is stolen


def test_truncation_fails_the_saved_checkpoint(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 30)
    with transaction(factory) as session:
        note = latest_checkpoint(session, keys)
    with engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq > 20))
    rehash(engine, rows(engine), sign_with=None)  # head rolled back to 20: log looks whole
    assert verify(factory, keys).ok
    with transaction(factory) as session:
        result = verify_against_checkpoint(session, note, keys.origin, keys.key_name, keys.public)
    assert not result.ok and result.first_bad_seq == 21
    assert result.problem == "the log has 20 entries, fewer than the checkpoint's 30"


def test_forged_or_foreign_checkpoint_is_rejected(
    factory: sessionmaker[Session], keys: AuditKeys, key_factory: Callable[..., AuditKeys]
) -> None:
    fill(factory, keys, 3)
    other = key_factory()
    with transaction(factory) as session:
        body = latest_checkpoint(session, keys).split("\n\n")[0] + "\n"
        forged = cp.sign_checkpoint(body, keys.key_name, other.private)
        with pytest.raises(AuditIntegrityError):  # nor will the app sign under a foreign key
            latest_checkpoint(session, other)
        result = verify_against_checkpoint(session, forged, keys.origin, keys.key_name, keys.public)
        assert not result.ok and result.problem.startswith("checkpoint rejected")
        foreign = key_factory("other.example/audit")
        note = latest_checkpoint(session, keys)
        assert not verify_against_checkpoint(
            session, note, foreign.origin, keys.key_name, keys.public
        ).ok


def test_reporter_entries_carry_the_date_only(
    factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    # 05:00 WIB on 5 March is 22:00 UTC on 4 March. A reporter's record is staged (DESIGN §4)
    # with the day of the log's zone (UTC for these keys), and reaches the log with the day's
    # batch, dated with that day alone; a staff entry is appended at once, timed in UTC.
    moment = datetime(2025, 3, 5, 5, 0, 7, 123456, tzinfo=timezone(timedelta(hours=7)))
    with transaction(factory) as session:
        reporter = record(
            session,
            keys,
            actor="reporter",
            role="reporter",
            action="report.submit",
            case_number="WBS-2025-00001",
            reporter=True,
            now=moment,
        )
        staff = record(session, keys, actor="ani", role="verifier", action="case.view", now=moment)
    assert isinstance(reporter, PendingAuditEntry) and reporter.day == date(2025, 3, 4)
    assert not hasattr(reporter, "occurred_at")
    assert isinstance(staff, AuditEntry) and staff.seq == 1
    assert staff.occurred_at == "2025-03-04T22:00:07Z"
    with transaction(factory) as session:
        assert pending.append_due(session, keys, date(2025, 3, 4)) == 0  # the day is not over
        assert pending.append_due(session, keys, date(2025, 3, 5)) == 1
    with transaction(factory) as session:
        appended = session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        assert session.scalars(select(PendingAuditEntry)).first() is None
    assert (appended.actor, appended.action, appended.case_number) == (
        "reporter", "report.submit", "WBS-2025-00001")
    assert appended.occurred_at == "2025-03-04"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", appended.occurred_at)
    assert verify(factory, keys).ok


def test_reporter_day_is_the_local_day(factory: sessionmaker[Session],
                                       key_factory: Callable[..., AuditKeys]) -> None:
    # The Pemda's day, not UTC's: 05:00 WIB belongs to 5 March, whose staff start at 07:30.
    keys = replace(key_factory(), zone="Asia/Jakarta")
    moment = datetime(2025, 3, 4, 22, 0, 7, tzinfo=UTC)
    with transaction(factory) as session:
        staged = record(session, keys, actor="reporter", role="reporter", action="x",
                        reporter=True, now=moment)
    assert isinstance(staged, PendingAuditEntry) and staged.day == date(2025, 3, 5)


@pytest.mark.parametrize(
    "bad",
    [
        {"details": {"note": "x" * 201}},
        {"details": {"nested": {"a": 1}}},
        {"details": {"list": [1, 2]}},
        {"details": {"float": 1.5}},
        {"details": {"huge": 2**60}},
        {"reason": "r" * 2001},
        {"action": "Case View"},
        {"action": ""},
        {"action": "a" * 65},
        {"actor": ""},
        {"now": datetime(2025, 1, 1)},  # naive: which zone?
        {"outcome": "maybe"},
    ],
)
def test_caller_bugs_are_refused(
    factory: sessionmaker[Session], keys: AuditKeys, bad: dict[str, Any]
) -> None:
    fill(factory, keys, 2)
    arguments: dict[str, Any] = {"actor": "ani", "role": "verifier", "action": "case.view"}
    with pytest.raises(ValueError), transaction(factory) as session:
        record(session, keys, **(arguments | bad))
    result = verify(factory, keys)
    assert result.ok and result.tree_size == 2


def test_rolled_back_act_leaves_no_entry(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 3)
    with pytest.raises(RuntimeError), transaction(factory) as session:  # noqa: PT012 - act + audit
        entry = record(session, keys, actor="ani", role="verifier", action="case.export")
        assert entry.seq == 4
        raise RuntimeError("the act failed after its audit row was written")
    assert len(rows(engine)) == 3
    with transaction(factory) as session:
        head = session.get_one(AuditHead, 1)
        assert head.tree_size == 3
        assert record(session, keys, actor="ani", role="verifier", action="case.view").seq == 4
    assert verify(factory, keys).tree_size == 4


def test_a_reused_session_rereads_the_head(factory: sessionmaker[Session], keys: AuditKeys) -> None:
    # Sessions keep objects after commit here, so a stale cached head would fork the log.
    first = factory()
    try:
        with first.begin():
            record(first, keys, actor="a", role="verifier", action="case.view")
        fill(factory, keys, 2)
        with first.begin():
            assert record(first, keys, actor="a", role="verifier", action="case.view").seq == 4
    finally:
        first.close()
    assert verify(factory, keys).tree_size == 4


def test_concurrent_appends_are_serialized(factory: sessionmaker[Session], keys: AuditKeys) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with transaction(factory) as session:
                    record(session, keys, actor=f"w{n}", role="verifier", action=f"t.{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below; a thread cannot fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify(factory, keys)
    assert result.ok and result.tree_size == 40, result.problem


def test_first_appends_racing_to_create_the_head(
    factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    first = factory()
    first.begin()
    record(first, keys, actor="a", role="verifier", action="case.view")  # head row not committed
    seqs: list[int] = []

    def second() -> None:
        with transaction(factory) as session:
            seqs.append(record(session, keys, actor="b", role="verifier", action="case.view").seq)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first append, not forking the log
    first.commit()
    first.close()
    thread.join()
    assert seqs == [2]
    assert verify(factory, keys).tree_size == 2


def test_tampered_head_stops_appends_and_checkpoints(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    fill(factory, keys, 5)
    with engine.begin() as conn:
        conn.execute(update(AuditHead).values(frontier=b"\x07" * 64))  # size 5 = two subtrees
    for act in (
        lambda s: record(s, keys, actor="a", role="verifier", action="case.view"),
        lambda s: latest_checkpoint(s, keys),
    ):
        with pytest.raises(AuditIntegrityError), transaction(factory) as session:
            act(session)
    assert verify(factory, keys).problem == "audit head (size 5) does not match entry 5"


def test_keys_must_belong_together(key_factory: Callable[..., AuditKeys]) -> None:
    a, b = key_factory(), key_factory()
    with pytest.raises(ValueError):
        AuditKeys(origin=a.origin, key_name=a.key_name, private=a.private, public=b.public)
    assert "private" not in repr(a) and repr(a.private) not in repr(a)


def test_postgres_refuses_update_delete_truncate(
    engine: Engine, factory: sessionmaker[Session], keys: AuditKeys
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    fill(factory, keys, 3)
    with engine.begin() as conn:
        for statement in PG_APPEND_ONLY_SQL:
            conn.execute(text(statement))
    for statement in (
        "UPDATE audit_entries SET reason = 'x' WHERE seq = 2",
        "DELETE FROM audit_entries WHERE seq = 2",
        "DELETE FROM audit_entries WHERE false",  # refused even when nothing would change
        "TRUNCATE audit_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    fill(factory, keys, 2)  # appending still works, and so does moving the head
    assert verify(factory, keys).tree_size == 5
    with engine.begin() as conn:
        for statement in PG_DROP_APPEND_ONLY_SQL:
            conn.execute(text(statement))
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 5"))
        assert conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one() == 4
