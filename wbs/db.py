"""Engine and session scope.

SQLite runs with WAL (readers never block the single writer) and foreign keys on; PostgreSQL is
the production database. The app keeps no state in memory between requests: everything lives here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the web layer answers 503."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # hide_parameters: an SQL error must never print the values it was given.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily; we take the write lock ourselves with
            # BEGIN IMMEDIATE (below) so two writers never deadlock on a lock upgrade.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # Deleted pages are overwritten, so removed sessions and wraps leave no residue.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Read-only work (lists, lookups) must not queue behind writers for the write lock.
            read_only = conn.get_execution_options().get("wbs_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                           hide_parameters=True)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _settings(dbapi_conn: Any, _record: Any) -> None:
            # JIT compilation pays off for long analytic queries; for the short ones of a web
            # request it only adds time (issue 12: 1.1 s added to one list query at 1M cases).
            cur = dbapi_conn.cursor()
            cur.execute("SET jit = off")
            cur.close()
            dbapi_conn.commit()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from wbs import row_ids  # models import nothing of ours; keep db.py free of them

    factory = sessionmaker(engine, expire_on_commit=False)
    row_ids.install(factory)  # per-case ids that do not tell the order of events (row_ids.py)
    return factory


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite a deferred BEGIN, so they never take the write lock."""
    return sessionmaker(engine.execution_options(wbs_read_only=True), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
