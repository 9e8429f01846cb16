"""Issue 14, load and faults: concurrent reporters (JSON API and the form with a photo) while
staff act and the jobs run, against `wbs serve --workers 2`, on SQLite and on PostgreSQL; then
the same with the server killed mid-load and restarted, and (PostgreSQL) with the database cut
off for a few seconds through a local proxy. Every acknowledged submission must be stored,
open for its unit and its reporter, and be audited; every other answer must be a 429 or 503
with Retry-After. `make test` runs a short load; `make soak` (WBS_SOAK=1) a long one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Clock, totp_now
from tests.reliability.harness import Load, Server, check, sign_in, staff_loop
from tests.tcp_proxy import TcpProxy
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.settings import Settings

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


@pytest.fixture
def world(clock: Clock, ctx: Context, request: pytest.FixtureRequest) -> dict[str, Any]:
    # The server runs on the wall clock: the staff acting in this process must too, or the
    # audit log would interleave two calendars.
    clock.current = datetime.now(UTC)
    demo: dict[str, dict[str, str]] = request.getfixturevalue("demo")
    staff: dict[str, StaffIdentity] = {
        "complaint": sign_in(ctx, demo, "verifikator",
                             totp_now(demo["verifikator"]["totp_secret"], clock)),
        "whistleblowing": sign_in(ctx, demo, "investigator",
                                  totp_now(demo["investigator"]["totp_secret"], clock))}
    return {"staff": staff}


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    srv = Server(settings, tmp_path)
    yield srv
    srv.stop()


def _report(name: str, settings: Settings, load: Load,
            record_property: Any) -> None:
    db = "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"
    line = load.figures.line(f"{db}/{name}")
    record_property("figures", line)
    print(line)


def _wait_for(load: Load, acks: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while len(load.acks) < acks and time.monotonic() < deadline:
        time.sleep(0.05)


def test_concurrent_load_loses_nothing(server: Server, ctx: Context, settings: Settings,
                                       world: dict[str, Any], record_property: Any) -> None:
    server.start()
    load = Load(server)
    load.run(staff=staff_loop(ctx, world["staff"]["complaint"], load))
    figures = check(ctx, load, world["staff"])
    assert figures.acknowledged > 0 and figures.staff_acts > 0
    _report("steady", settings, load, record_property)


def test_server_killed_mid_load_loses_nothing(server: Server, ctx: Context, settings: Settings,
                                              world: dict[str, Any],
                                              record_property: Any) -> None:
    server.start()
    load = Load(server)
    first: list[int] = []

    def crash() -> None:
        _wait_for(load, 3)
        server.kill()  # SIGKILL to the whole group: master and both workers, mid-request
        first.append(len(load.acks))
        time.sleep(0.5)
        server.start()

    load.run(during=crash, staff=staff_loop(ctx, world["staff"]["complaint"], load))
    figures = check(ctx, load, world["staff"])
    assert first and figures.acknowledged > first[0], "nothing acknowledged after the restart"
    _report("killed", settings, load, record_property)


def test_database_outage_mid_load_recovers_without_restart(
        settings: Settings, tmp_path: Path, ctx: Context, world: dict[str, Any],
        record_property: Any) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the outage is of a database server (PostgreSQL)")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = Server(settings, tmp_path, WBS_DATABASE_URL=via)
    try:
        server.start()
        pid = server.process.pid if server.process else None
        load = Load(server)
        marks: dict[str, int] = {}

        def outage() -> None:
            _wait_for(load, 3)
            proxy.cut()
            marks["cut"] = len(load.acks)
            time.sleep(3)
            proxy.restore()
            marks["restored"] = len(load.acks)

        load.run(during=outage, staff=staff_loop(ctx, world["staff"]["complaint"], load))
        # The clients may have spent their attempts on 503s while the database was away: a
        # second wave, on the same server process, shows the recovery.
        load.run(staff=staff_loop(ctx, world["staff"]["complaint"], load))
        figures = check(ctx, load, world["staff"])
        assert server.process is not None and server.process.pid == pid
        assert server.process.poll() is None, "the server must ride out the outage"
        assert figures.acknowledged > marks["restored"], "no recovery after the outage"
        assert figures.refused.get(503, 0) + figures.unreachable > 0, "the cut was not seen"
        _report("outage", settings, load, record_property)
    finally:
        server.stop()
        proxy.close()
