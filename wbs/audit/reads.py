"""Reporter reads are counted, not logged (DESIGN §4).

A status lookup, a look at the mailbox or a download changes nothing, so it is no act for the
audit log; an entry per read also let one anonymous client grow the log at 173 entries a second.
What is kept is how many reads of each kind a day saw, in all: no case, no time.

The counts live in the serving process and reach the database only for days that have ended
(and when the process stops), so even the moment a count is written says nothing about when a
read happened, and a status lookup writes nothing at all.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from wbs.models import ReporterReadCount

KINDS = ("status", "mailbox_open", "mailbox_view", "download")


class ReadCounts:
    """Per-process counters of reporter reads by (local day, kind); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[date, str]] = Counter()

    def add(self, day: date, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown read kind {kind}")
        with self._lock:
            self._counts[(day, kind)] += 1

    def pending(self) -> dict[tuple[date, str], int]:
        with self._lock:
            return dict(self._counts)

    def _take(self, before: date | None) -> Counter[tuple[date, str]]:
        with self._lock:
            taken = Counter({key: n for key, n in self._counts.items()
                             if before is None or key[0] < before})
            for key in taken:
                del self._counts[key]
        return taken

    def _give_back(self, counts: Counter[tuple[date, str]]) -> None:
        with self._lock:
            self._counts.update(counts)

    def flush(self, factory: sessionmaker[Session], before: date | None) -> int:
        """Add the counts of days before `before` (all days if None) to the database.

        Returns how many reads were written. On a database error the counts are kept for the
        next flush and the error propagates.
        """
        taken = self._take(before)
        if not taken:
            return 0
        try:
            with factory.begin() as session:
                insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                          else sqlite.insert)
                for (day, kind), n in sorted(taken.items()):
                    statement = insert(ReporterReadCount).values(day=day, kind=kind, count=n)
                    session.execute(statement.on_conflict_do_update(
                        index_elements=["day", "kind"],
                        set_={"count": ReporterReadCount.count + n}))
        except BaseException:
            self._give_back(taken)
            raise
        return sum(taken.values())
