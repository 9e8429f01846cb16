"""Issue 13, done-when 5: /readyz answers 503 when the database is down (PostgreSQL behind a proxy
the test cuts; SQLite with a database file that is not one), when the keys are unsafe or when
the disk is nearly full; a nearly full disk refuses new submissions with a clear message.
A PostgreSQL that hangs instead (the proxy answers nothing) is reported as promptly, and a
request that finds no free connection gets the same 503 (tests/reliability/test_database_hang.py
drives a real server through a hang)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.functional.test_intake import submit_form
from tests.tcp_proxy import TcpProxy
from wbs import instance
from wbs.app import create_app
from wbs.context import Context
from wbs.crypto.passwords import PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.models import Case
from wbs.ops import health
from wbs.settings import Settings

REPORT = {"kind": "complaint", "title": "Jalan rusak", "what": "Jalan desa rusak berat.",
          "identity_mode": "anonymous"}


def _app(settings: Settings) -> tuple[Any, Context]:
    engine = make_engine(settings.database_url)
    ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(settings.argon2))
    return create_app(settings, context=ctx), ctx


def test_ready_when_everything_is_there(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready",
                        "checks": {"database": True, "keys": True, "disk": True}}
    assert r.headers["cache-control"] == "no-store"


def test_not_ready_when_the_database_is_gone(settings: Settings, tmp_path: Path) -> None:
    if settings.database_url.startswith("sqlite"):
        broken = tmp_path / "broken.sqlite3"
        broken.write_bytes(b"this is not a database file" * 200)
        app, ctx = _app(replace(settings, database_url=f"sqlite:///{broken}"))
        with TestClient(app, base_url="https://testserver") as c:
            r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["database"] is False
        assert r.headers["retry-after"] == "30"
        ctx.engine.dispose()
        return
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        via = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app, ctx = _app(replace(settings, database_url=via))
        with TestClient(app, base_url="https://testserver") as c:
            assert c.get("/readyz").status_code == 200
            proxy.cut()
            r = c.get("/readyz")
            assert r.status_code == 503
            assert r.json()["checks"] == {"database": False, "keys": True, "disk": True}
            assert c.get("/healthz").status_code == 503  # liveness needs the database too
            proxy.restore()
            assert c.get("/readyz").status_code == 200  # back without a restart
        ctx.engine.dispose()
    finally:
        proxy.close()


def _via_proxy(settings: Settings, proxy_port: int, **query: str) -> str:
    url = make_url(settings.database_url)
    return url.set(host="127.0.0.1", port=proxy_port).update_query_dict(query).render_as_string(
        hide_password=False)


def test_not_ready_when_the_database_hangs(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("a hang is of a database server reached over the network (PostgreSQL)")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        # connect_timeout=2 in the URL wins over the default; the bound is ten times that.
        app, ctx = _app(replace(settings,
                                database_url=_via_proxy(settings, proxy.port, connect_timeout="2")))
        with TestClient(app, base_url="https://testserver") as c:
            assert c.get("/readyz").status_code == 200  # a pooled connection, then the hang
            proxy.hang()
            started = time.monotonic()
            r = c.get("/readyz")
            assert time.monotonic() - started < 20, "readiness waited with the database"
            assert r.status_code == 503
            assert r.json()["checks"] == {"database": False, "keys": True, "disk": True}
            proxy.restore()
            assert c.get("/readyz").status_code == 200  # back without a restart
        ctx.engine.dispose()
    finally:
        proxy.close()


def test_postgresql_connections_carry_the_timeouts(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("libpq connection parameters (PostgreSQL)")
    engine = make_engine(make_url(settings.database_url).update_query_dict(
        {"keepalives_idle": "42"}).render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            dsn = conn.connection.dbapi_connection.info.dsn  # type: ignore[union-attr]
    finally:
        engine.dispose()
    params = dict(part.split("=", 1) for part in dsn.split())
    assert params["connect_timeout"] == "10" and params["keepalives"] == "1"
    assert params["tcp_user_timeout"] == "20000"
    assert params["keepalives_idle"] == "42"  # the URL's value, not the default


def test_no_free_connection_answers_503_in_bounded_time(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("the bounded pool wait is PostgreSQL's; SQLite keeps SQLAlchemy's pool")
    engine = make_engine(settings.database_url, pool_timeout=0.3)
    ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(settings.argon2))
    held = []
    try:
        while True:  # take every connection the pool will give
            try:
                held.append(engine.connect())
            except PoolTimeout:
                break
        with TestClient(create_app(settings, context=ctx), base_url="https://testserver") as c:
            started = time.monotonic()
            api = c.post("/api/v1/status", json={"code": "0000-0000-0000-0000-0000-0000"})
            assert time.monotonic() - started < 20
            assert api.status_code == 503 and api.headers["retry-after"] == "30"
    finally:
        for conn in held:
            conn.close()
        engine.dispose()


def test_not_ready_when_a_key_file_is_unsafe(client: TestClient, settings: Settings) -> None:
    os.chmod(settings.keys_dir / instance.PEPPER_FILE, 0o644)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"] == {"database": True, "keys": False, "disk": True}
    assert "pepper" not in r.text and str(settings.keys_dir) not in r.text


@pytest.fixture
def nearly_full(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(health, "free_bytes", lambda _path: settings.min_free_bytes - 1)


def test_a_nearly_full_disk_refuses_submissions_clearly(
        client: TestClient, ctx: Context, demo: Any, nearly_full: None) -> None:
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["disk"] is False
    r = submit_form(client, REPORT)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "3600"
    assert "Ruang penyimpanan portal hampir penuh" in r.text
    assert "Tidak ada yang Anda kirim yang disimpan" in r.text
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    api = client.post("/api/v1/reports", json={"kind": "complaint", "title": "x", "what": "y"})
    assert api.status_code == 503 and api.json()["detail"] == "low_disk"


def test_room_again_takes_submissions(client: TestClient, ctx: Context, demo: Any,
                                      monkeypatch: pytest.MonkeyPatch,
                                      settings: Settings) -> None:
    monkeypatch.setattr(health, "free_bytes", lambda _path: settings.min_free_bytes)
    assert client.get("/readyz").status_code == 200
    r = submit_form(client, REPORT)
    assert r.status_code in (200, 303)
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert csrf_from(client, "/lapor")


ONION = "a" * 52 + "2345.onion"


def test_onion_location_on_https_pages_only(settings: Settings, ctx: Context) -> None:
    app = create_app(replace(settings, onion_address=ONION), context=ctx)
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/lapor?bahasa=id")
        assert r.headers["onion-location"] == f"http://{ONION}/lapor?bahasa=id"
        assert "onion-location" not in c.get("/static/wbs.css").headers
    with TestClient(create_app(settings, context=ctx), base_url="https://testserver") as c:
        assert "onion-location" not in c.get("/").headers


@pytest.mark.parametrize("value", ["example.onion", "http://" + "a" * 56 + ".onion/x",
                                   "a" * 56 + ".onion\r\nX-Evil: 1"])
def test_a_bad_onion_address_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="onion"):
        Settings.from_env({"WBS_ONION_ADDRESS": value})
    assert Settings.from_env({"WBS_ONION_ADDRESS": "HTTP://" + ONION.upper() + "/"}
                             ).onion_address == ONION
