"""Reporter acts wait here for the day's batch append to the audit log (DESIGN §4).

The log's order is public in effect (sequence numbers, checkpoints every few minutes, entries
next to timed staff entries), so an entry appended at the moment of a reporter's act would place
that act within the day, even with a bare date on it. A reporter's act therefore writes its
record here, in its own transaction (no trace, no act, as for staff), and `append_due`, run by
`wbs jobs run` once the day has ended, appends the whole day at once in random order.

A staged row has a random key and the day alone: no counter, no time. The day is the Pemda's
local day (the one its staff and reporters live by), not the UTC day, whose boundary would split
an Indonesian day at 07:00, 08:00 or 09:00 and so tell mornings from the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wbs.audit import log
from wbs.audit.leaf import Scalar, canonical_json, check_details, check_entry
from wbs.enums import AuditOutcome
from wbs.models import PendingAuditEntry

# The shuffle must not be predictable from anything an observer knows (Python's default
# generator is seeded from the clock at start-up when the OS offers no entropy).
_SHUFFLE = secrets.SystemRandom()


def local_day(moment: datetime, zone: str) -> date:
    if moment.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    return moment.astimezone(ZoneInfo(zone)).date()


def stage(
    session: Session,
    *,
    day: date,
    actor: str,
    role: str,
    action: str,
    outcome: AuditOutcome = AuditOutcome.ALLOWED,
    case_number: str | None = None,
    reason: str = "",
    details: Mapping[str, Scalar] | None = None,
) -> PendingAuditEntry:
    """Write a reporter's record in the act's transaction (flushed, not committed)."""
    check_entry(actor=actor, role=role, action=action, case_number=case_number, reason=reason)
    row = PendingAuditEntry(
        id=secrets.token_bytes(16), day=day, actor=actor, role=role, action=action,
        case_number=case_number, outcome=AuditOutcome(outcome).value, reason=reason,
        details=canonical_json(check_details(details)).decode())
    session.add(row)
    session.flush()  # as for a log entry: constraint errors surface inside the act
    return row


def pending_count(session: Session) -> int:
    return len(session.scalars(select(PendingAuditEntry.id)).all())


def append_due(session: Session, keys: log.AuditKeys, today: date) -> int:
    """Append every staged record of a day before `today` to the log; return how many.

    Days go in order, the records of one day in random order, each entry dated with its day.
    Runs in the caller's transaction, which also deletes the staged rows: a crash appends a day
    entirely or not at all, and a second runner (which waits on the log's head lock) finds
    nothing left to append.
    """
    rows = list(session.scalars(select(PendingAuditEntry).where(PendingAuditEntry.day < today)
                                .with_for_update()))
    by_day: dict[date, list[PendingAuditEntry]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    for day in sorted(by_day):
        batch = by_day[day]
        _SHUFFLE.shuffle(batch)
        for row in batch:
            log.append_dated(session, keys, day=day, actor=row.actor, role=row.role,
                             action=row.action, outcome=AuditOutcome(row.outcome),
                             case_number=row.case_number, reason=row.reason,
                             details_json=row.details)
    # By key, not by day: a row staged for an earlier day after the select (a node whose clock
    # lags at midnight) stays for the next run instead of vanishing unlogged.
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        session.execute(delete(PendingAuditEntry).where(
            PendingAuditEntry.id.in_(ids[start:start + 500])))
    return len(rows)
