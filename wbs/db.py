"""Engine and session scope.

SQLite runs with WAL (readers never block the single writer) and foreign keys on; PostgreSQL is
the production database. The app keeps no state in memory between requests: everything lives here.

A PostgreSQL that hangs (a firewall dropping packets, a frozen server, a half-dead proxy in
front of it) must cost a request seconds, not minutes: libpq gets a connect timeout and TCP
keepalives, the pool's checkout ping a deadline, every statement, COMMIT and ROLLBACK of a web
request a generous one (`statement_deadline`, set by the app around each request), and a
request waits a bounded time for a free connection. Each failure is an OperationalError or the
pool's TimeoutError, which the web layer answers with its 503 and Retry-After (wbs/app.py).
Work outside a request (jobs, migrations, backups, the CLI) has no statement deadline: it may
run long.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker

from wbs.db_deadline import DEADLINES

# libpq's own parameters, added for each one the URL's query does not set: a value given in
# WBS_DATABASE_URL (`...?connect_timeout=10`) wins, as does PGCONNECT_TIMEOUT in the environment.
# - connect_timeout: seconds for a new connection, the server's first answer included; a path
#   that accepts TCP and then says nothing would otherwise hold it for psycopg's 130 s.
# - keepalives: a connection idle in the pool whose server vanished is noticed after about
#   idle + interval x count = 25 s, instead of the kernel's two hours.
# - tcp_user_timeout (ms, Linux): data sent and not acknowledged for 20 s ends the connection,
#   instead of the kernel's ~15 minutes of retransmissions. A long query is not affected: the
#   server's TCP stack acknowledges it at once, however long the server then works.
PG_CONNECTION_DEFAULTS: dict[str, str] = {
    # 10, not 5: in a loaded CI run (two test suites, a browser and pg_dump on 2 cores) a
    # healthy server once took longer than 5 s to accept a connection, and the report failed.
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "20000",
}
_LIBPQ_ENVIRONMENT = {"connect_timeout": "PGCONNECT_TIMEOUT"}
# Seconds a request waits for a free pooled connection before its 503 (SQLAlchemy's default: 30).
POOL_TIMEOUT = 10.0
# Seconds one statement, COMMIT or ROLLBACK of a web request may wait for PostgreSQL.
STATEMENT_DEADLINE = 30.0

_statement_seconds: ContextVar[float | None] = ContextVar("wbs_db_statement_deadline",
                                                          default=None)
_T = TypeVar("_T")


@contextmanager
def statement_deadline(seconds: float | None) -> Iterator[None]:
    """Bound each statement, COMMIT and ROLLBACK made within the block (in this context: the
    thread-pool calls of a request copy it) to `seconds` (None or 0: no bound). The app sets it
    around each web request; a PostgreSQL that stops answering after the request took its
    connection then costs the request that long and a 503, not as long as the server is frozen."""
    token = _statement_seconds.set(seconds if seconds and seconds > 0 else None)
    try:
        yield
    finally:
        _statement_seconds.reset(token)


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the web layer answers 503."""


def make_engine(url: str, *, pool_timeout: float = POOL_TIMEOUT) -> Engine:
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
    connect_args, ping_seconds = _pg_connect_args(url)
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                           pool_timeout=pool_timeout, connect_args=connect_args,
                           hide_parameters=True)
    if engine.dialect.name == "postgresql":
        if ping_seconds is not None:
            # The pre-ping is where a request first meets a server that stopped answering: on
            # a pooled connection, whose TCP peer may still acknowledge everything. Past the
            # deadline the ping fails, the pool drops its connections and opens a new one,
            # which connect_timeout bounds. SQLAlchemy has no hook around the ping, so this
            # engine's own dialect object (one per engine) gets a wrapped one; mypy sees a
            # method replaced, which is the point.
            engine.dialect.do_ping = _bounded(  # type: ignore[method-assign, assignment]
                engine.dialect.do_ping, ping_seconds)
        # After the ping, within a request: a server that froze while the request held its
        # connection. Every statement goes through one of the dialect's do_execute*, and the
        # transaction's end (the pool's reset on return too) through do_commit/do_rollback;
        # wrapped here, not bracketed by events, so no path can leave a watch behind.
        dialect: Any = engine.dialect
        dialect.do_execute = _in_request(dialect.do_execute, _cursor_fileno)
        dialect.do_execute_no_params = _in_request(dialect.do_execute_no_params,
                                                   _cursor_fileno)
        dialect.do_executemany = _in_request(dialect.do_executemany, _cursor_fileno)
        dialect.do_commit = _in_request(dialect.do_commit, _connection_fileno)
        dialect.do_rollback = _in_request(dialect.do_rollback, _connection_fileno)

        @event.listens_for(engine, "connect")
        def _settings(dbapi_conn: Any, _record: Any) -> None:
            # JIT compilation pays off for long analytic queries; for the short ones of a web
            # request it only adds time (issue 12: 1.1 s added to one list query at 1M cases).
            with _request_watch(_connection_fileno, dbapi_conn):
                cur = dbapi_conn.cursor()
                cur.execute("SET jit = off")
                cur.close()
                dbapi_conn.commit()

    return engine


def _pg_connect_args(url: str) -> tuple[dict[str, str], float | None]:
    """The libpq defaults the URL does not set, and the seconds allowed to the pool's ping: as
    long as a new connection may take (libpq: 0 waits forever, and under 2 s counts as 2)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}, None
    given = {key: str(value) for key, value in parsed.query.items()}
    for key, variable in _LIBPQ_ENVIRONMENT.items():
        if key not in given and os.environ.get(variable):
            given[key] = os.environ[variable]
    defaults = {k: v for k, v in PG_CONNECTION_DEFAULTS.items() if k not in given}
    timeout = float({**PG_CONNECTION_DEFAULTS, **given}["connect_timeout"])
    return defaults, (max(timeout, 2.0) if timeout > 0 else None)


def _bounded(ping: Callable[[DBAPIConnection], bool],
             seconds: float) -> Callable[[DBAPIConnection], bool]:
    def do_ping(dbapi_conn: DBAPIConnection) -> bool:
        try:
            fileno = dbapi_conn.fileno()
        except Exception:  # noqa: BLE001 - a closed connection: the ping itself says so
            return ping(dbapi_conn)
        with DEADLINES.watch(fileno, seconds) as watch:
            alive = ping(dbapi_conn)
        # An answer that came as the deadline passed came on a socket now shut down.
        return alive and not watch.expired

    return do_ping


def _cursor_fileno(cursor: Any, *_args: Any) -> int:
    return int(cursor.connection.fileno())


def _connection_fileno(dbapi_conn: Any, *_args: Any) -> int:
    return int(dbapi_conn.fileno())


@contextmanager
def _request_watch(fileno_of: Callable[..., int], *args: Any) -> Iterator[None]:
    seconds = _statement_seconds.get()
    if seconds is None:
        yield
        return
    try:
        fileno = fileno_of(*args)
    except Exception:  # noqa: BLE001 - a closed connection: the call itself says so
        yield
        return
    with DEADLINES.watch(fileno, seconds):
        yield


def _in_request(call: Callable[..., _T], fileno_of: Callable[..., int]) -> Callable[..., _T]:
    """`call` (a dialect method whose first argument is a cursor or a DBAPI connection), under
    the request's statement deadline when there is one. Past it the socket is shut down, the
    call fails with an OperationalError and SQLAlchemy drops the connection; nothing of the
    transaction is committed (a COMMIT cut after the server had committed is the one case of a
    503 for work that was stored: the server cannot have said so in time)."""
    def bounded(*args: Any, **kwargs: Any) -> _T:
        with _request_watch(fileno_of, *args):
            return call(*args, **kwargs)

    return bounded


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
