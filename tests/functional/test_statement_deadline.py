"""The statement deadline of web requests (wbs/db.py `statement_deadline`, set by the app around
each request from WBS_DB_STATEMENT_DEADLINE_SECONDS): a statement or COMMIT of a request that
PostgreSQL does not answer in time ends in the 503 with Retry-After and the pool serves again;
the same statement outside a request (jobs, migrations, the CLI) is not cut."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.tcp_proxy import TcpProxy
from wbs.app import create_app
from wbs.context import Context
from wbs.db import STATEMENT_DEADLINE, make_engine, statement_deadline
from wbs.settings import Settings
from wbs.web.guard import public

SLOW = 2.0  # seconds the slow statement takes; the deadline below is a quarter of it


def _pg_only(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite is a file: a statement has no server to wait for")


def test_the_deadline_is_a_setting() -> None:
    assert Settings().db_statement_deadline == STATEMENT_DEADLINE == 30.0
    assert Settings.from_env(
        {"WBS_DB_STATEMENT_DEADLINE_SECONDS": "12"}).db_statement_deadline == 12.0


def test_a_request_statement_past_its_deadline_answers_503_and_the_pool_serves_again(
        settings: Settings, ctx: Context) -> None:
    _pg_only(settings)

    @public
    def slow(request: Request) -> Response:  # sync: run in the thread pool, as the app's are
        with request.app.state.ctx.db() as session:
            session.execute(text(f"SELECT pg_sleep({SLOW})"))
        return PlainTextResponse("done")

    app = create_app(replace(settings, db_statement_deadline=SLOW / 4), context=ctx,
                     extra_routes=[Route("/api/v1/slow", slow, methods=["GET"])])
    with TestClient(app, base_url="https://testserver") as c:
        started = time.monotonic()
        cut = c.get("/api/v1/slow")
        elapsed = time.monotonic() - started
        assert cut.status_code == 503 and cut.headers["retry-after"] == "30"
        assert elapsed < SLOW, f"the request waited {elapsed:.1f} s for a {SLOW / 4} s deadline"
        assert c.get("/readyz").status_code == 200  # a fresh connection: no restart needed
    # Outside a request, the same statement runs to its end.
    with ctx.db() as session:
        session.execute(text(f"SELECT pg_sleep({SLOW})"))


@pytest.mark.parametrize("hung_at", ["statement", "commit"])
def test_a_statement_or_commit_that_hangs_is_cut(settings: Settings, hung_at: str) -> None:
    _pg_only(settings)
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    engine = make_engine(via)
    direct = make_engine(settings.database_url)
    try:
        with direct.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS wbs_deadline_probe (a int)"))
            conn.execute(text("DELETE FROM wbs_deadline_probe"))
        with statement_deadline(1.0), engine.connect() as conn:
            conn.execute(text("INSERT INTO wbs_deadline_probe VALUES (1)"))
            if hung_at == "statement":
                proxy.hang()

            def finish() -> None:  # the schema is this test run's own (tests/conftest.py)
                conn.execute(text("INSERT INTO wbs_deadline_probe VALUES (2)"))
                proxy.hang()
                conn.commit()

            started = time.monotonic()
            with pytest.raises(OperationalError):
                finish()
            assert time.monotonic() - started < 10
        proxy.restore()  # what the proxy held reaches the server now, and then the end
        with engine.connect() as conn:  # the engine serves again, without a new engine
            stored = conn.scalar(text("SELECT count(*) FROM wbs_deadline_probe"))
        # Cut before its COMMIT was sent, the transaction is rolled back: nothing stored. A
        # COMMIT cut on its way may still reach the server (a frozen one that resumes): the
        # request got its 503 either way, and the transaction is whole or absent, never half.
        assert stored == 0 if hung_at == "statement" else stored in (0, 2)
    finally:
        proxy.restore()
        proxy.close()
        with direct.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS wbs_deadline_probe"))
        engine.dispose()
        direct.dispose()


def test_work_outside_a_request_waits_for_a_hung_server(settings: Settings) -> None:
    _pg_only(settings)
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    engine = make_engine(via)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            proxy.hang()
            done: list[Any] = []
            worker = threading.Thread(
                target=lambda: done.append(conn.scalar(text("SELECT 2"))), daemon=True)
            worker.start()
            worker.join(3)  # past any deadline a request would have had here
            assert not done and worker.is_alive(), "work outside a request was cut"
            proxy.restore()
            worker.join(10)
            assert done == [2]
    finally:
        proxy.restore()
        proxy.close()
        engine.dispose()
