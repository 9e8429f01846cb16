"""The engine's guards against a database that hangs (wbs/db.py): libpq gets timeouts and TCP
keepalives unless the operator's URL says otherwise, the pool's ping gets the same deadline as
a new connection, and a request waits a bounded time for a free connection."""

from __future__ import annotations

import pytest

from wbs.db import PG_CONNECTION_DEFAULTS, POOL_TIMEOUT, _pg_connect_args, make_engine
from wbs.settings import Settings

PG = "postgresql+psycopg://wbs@db.example:5432/wbs"


@pytest.fixture(autouse=True)
def _no_libpq_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)


def test_postgresql_gets_every_default() -> None:
    args, ping = _pg_connect_args(PG)
    assert args == PG_CONNECTION_DEFAULTS
    assert args["connect_timeout"] == "10" and args["keepalives"] == "1"
    assert args["tcp_user_timeout"] == "20000"  # milliseconds
    assert ping == 10.0


def test_a_value_in_the_url_wins_over_the_default() -> None:
    args, ping = _pg_connect_args(
        PG + "?connect_timeout=12&keepalives_idle=60&options=-csearch_path%3Dx&sslmode=require")
    assert "connect_timeout" not in args and "keepalives_idle" not in args
    assert args["keepalives_interval"] == PG_CONNECTION_DEFAULTS["keepalives_interval"]
    assert "options" not in args and "sslmode" not in args  # left to the URL, as given
    assert ping == 12.0  # the ping waits as long as a new connection may


def test_pgconnect_timeout_in_the_environment_wins_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "8")
    args, ping = _pg_connect_args(PG)
    assert "connect_timeout" not in args and ping == 8.0
    args, ping = _pg_connect_args(PG + "?connect_timeout=3")
    assert ping == 3.0  # the URL before the environment, as in libpq


@pytest.mark.parametrize(("given", "ping"), [("0", None), ("-1", None), ("1", 2.0), ("2.5", 2.5)])
def test_the_ping_deadline_follows_libpq_rules(given: str, ping: float | None) -> None:
    # libpq: zero or less waits forever, and anything under two seconds counts as two.
    assert _pg_connect_args(f"{PG}?connect_timeout={given}")[1] == ping


def test_a_bad_timeout_is_refused_at_start() -> None:
    with pytest.raises(ValueError):
        _pg_connect_args(PG + "?connect_timeout=soon")


def test_sqlite_gets_none_of_it() -> None:
    assert _pg_connect_args("sqlite:///var/wbs.sqlite3") == ({}, None)


def test_the_pool_waits_a_bounded_time_for_a_connection() -> None:
    # Building an engine connects to nothing: the host below is never reached.
    assert make_engine(PG).pool.timeout() == POOL_TIMEOUT == 10.0
    assert make_engine(PG, pool_timeout=2.5).pool.timeout() == 2.5
    make_engine("sqlite://", pool_timeout=2.5)  # SQLite keeps its own pool, and no error


def test_the_pool_timeout_is_a_setting() -> None:
    assert Settings().db_pool_timeout == POOL_TIMEOUT
    assert Settings.from_env({"WBS_DB_POOL_TIMEOUT": "4"}).db_pool_timeout == 4.0
