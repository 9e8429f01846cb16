"""Reporter records wait for their day to end, then join the log in random order."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wbs.audit import AuditKeys, pending, verify_log
from wbs.db import transaction
from wbs.models import AuditEntry, PendingAuditEntry

DAY = date(2026, 3, 3)


def _stage(factory: sessionmaker[Session], day: date, n: int, prefix: str = "r") -> None:
    with transaction(factory) as session:
        for i in range(n):
            pending.stage(session, day=day, actor="reporter", role="reporter",
                          action="message.reporter", case_number=f"{prefix}-{i:04d}")


def _logged(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with transaction(factory) as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_a_day_is_appended_whole_in_random_order_after_it_ends(
        factory: sessionmaker[Session], keys: AuditKeys) -> None:
    _stage(factory, DAY, 60)
    _stage(factory, date(2026, 3, 2), 3, prefix="q")
    _stage(factory, date(2026, 3, 4), 2, prefix="s")
    with transaction(factory) as session:
        assert pending.append_due(session, keys, date(2026, 3, 4)) == 63
    entries = _logged(factory)
    # Earlier days first, each entry with its day and no time.
    assert [e.case_number[0] for e in entries[:3]] == ["q", "q", "q"]
    assert {e.occurred_at for e in entries[:3]} == {"2026-03-02"}
    staged_order = [f"r-{i:04d}" for i in range(60)]
    appended = [e.case_number for e in entries[3:]]
    assert sorted(appended) == staged_order
    assert appended != staged_order  # 1 in 60! to happen by chance
    assert {e.occurred_at for e in entries[3:]} == {"2026-03-03"}
    with transaction(factory) as session:
        left = [p.case_number for p in session.scalars(select(PendingAuditEntry))]
        assert sorted(left) == ["s-0000", "s-0001"]  # today's stay
        assert verify_log(session, keys.public, keys.origin, keys.key_name).ok
        assert pending.append_due(session, keys, date(2026, 3, 4)) == 0  # nothing twice


def test_a_failed_append_leaves_the_day_staged(factory: sessionmaker[Session],
                                               keys: AuditKeys,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _stage(factory, DAY, 5)
    calls = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        original(*args, **kwargs)

    original = pending.log.append_dated
    monkeypatch.setattr(pending.log, "append_dated", broken)
    with pytest.raises(RuntimeError), transaction(factory) as session:
        pending.append_due(session, keys, date(2026, 3, 4))
    monkeypatch.undo()
    assert _logged(factory) == []
    with transaction(factory) as session:
        assert len(session.scalars(select(PendingAuditEntry)).all()) == 5
        assert pending.append_due(session, keys, date(2026, 3, 4)) == 5


def test_staged_rows_hold_a_random_key_and_the_day_only(factory: sessionmaker[Session]) -> None:
    _stage(factory, DAY, 3)
    with transaction(factory) as session:
        rows = session.scalars(select(PendingAuditEntry)).all()
    assert len({r.id for r in rows}) == 3 and all(len(r.id) == 16 for r in rows)
    columns = set(PendingAuditEntry.__table__.columns.keys())
    assert columns == {"id", "day", "actor", "role", "action", "case_number", "outcome",
                       "reason", "details"}
