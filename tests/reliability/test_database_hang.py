"""A database that hangs instead of refusing: a real `wbs serve` reaches PostgreSQL through a
local proxy that, once hung, accepts connections and keeps the open ones, but answers nothing.
Every request must still end promptly in the calm 503 page with Retry-After (or, for
`/readyz`, `database: false`), nothing may be half stored, and after the database answers again
the same server process serves again.

The server is given `connect_timeout=2` in its database URL (a value in the URL wins over the
portal's defaults); the bound below is ten times that, so only a hang breaks it, not a slow
machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.live_server import LiveServer, live_server
from tests.tcp_proxy import TcpProxy
from wbs.context import Context
from wbs.models import AuditEntry, Case, PendingAuditEntry
from wbs.settings import Settings

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

BOUND = 20.0  # seconds for one request to finish at all, against a configured 2 s
REPORT = {"kind": "complaint", "title": "Jalan rusak", "what": "Jalan desa rusak berat.",
          "identity_mode": "anonymous"}
CODE = "0000-0000-0000-0000-0000-0000"  # well formed; answered 404 while the database answers


def _timed(method: str, url: str, **kwargs: Any) -> httpx.Response:
    started = time.monotonic()
    try:
        response = httpx.request(method, url, timeout=BOUND, **kwargs)
    except httpx.TimeoutException:
        pytest.fail(f"{method} {url}: no answer within {BOUND:.0f} s (the request hangs with "
                    "the database)")
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"{method} {url} took {elapsed:.1f} s"
    return response


def _stored(ctx: Context) -> tuple[int, int]:
    with ctx.read() as session:
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        audit = ((session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
                 + (session.scalar(select(func.count()).select_from(PendingAuditEntry)) or 0))
    return cases, audit


def _submit(server: LiveServer, cookie: str, token: str) -> httpx.Response:
    return _timed("POST", server.base + "/lapor", data={"csrf_token": token, **REPORT},
                  files=[("files", ("", b"", "application/octet-stream"))],
                  headers={"Cookie": cookie})


def test_a_hanging_database_answers_503_promptly_and_recovers(
        settings: Settings, tmp_path: Path, ctx: Context, demo: Any) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("a hang is of a database server reached over the network (PostgreSQL); "
                    "SQLite is a file")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via = url.set(host="127.0.0.1", port=proxy.port).update_query_dict(
        {"connect_timeout": "2"}).render_as_string(hide_password=False)
    try:
        with live_server(settings, tmp_path, WBS_DATABASE_URL=via) as server:
            pid = server.process.pid
            assert _timed("GET", server.base + "/readyz").status_code == 200
            cookie, token = server.form_token()
            before = _stored(ctx)
            proxy.hang()
            try:
                ready = _timed("GET", server.base + "/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"] == {"database": False, "keys": True, "disk": True}
                assert ready.headers["retry-after"] == "30"
                # Liveness answers too, instead of waiting with the database (it checks the
                # database, as with a refused one: 503).
                assert _timed("GET", server.base + "/healthz").status_code == 503
                api = _timed("POST", server.base + "/api/v1/status", json={"code": CODE})
                assert api.status_code == 503 and api.headers["retry-after"] == "30"
                assert api.json()["error"] == "unavailable"
                form = _submit(server, cookie, token)
                assert form.status_code == 503 and form.headers["retry-after"] == "30"
                assert "text/html" in form.headers["content-type"]
            finally:
                proxy.restore()
            assert _stored(ctx) == before, "a report refused with a 503 left rows behind"
            # The same process serves again: the pool dropped the connections that hung.
            assert _timed("GET", server.base + "/readyz").status_code == 200
            api = _timed("POST", server.base + "/api/v1/status", json={"code": CODE})
            assert api.status_code == 404
            cookie, token = server.form_token()
            assert _submit(server, cookie, token).status_code == 303
            assert _stored(ctx)[0] == before[0] + 1
            assert server.process.pid == pid and server.process.poll() is None
    finally:
        proxy.close()
