"""Shared fixtures: an instance (keys, settings, database, clock), the app and a client.

The database is SQLite unless WBS_TEST_DATABASE_URL names another (PostgreSQL in `make pg`).
Each test gets a clean database: on SQLite a copy of a migrated template file, on PostgreSQL a
private schema migrated once per run and truncated before each test.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from wbs import instance, migrate
from wbs.app import create_app
from wbs.context import Context
from wbs.crypto.passwords import TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.models import Base
from wbs.settings import Settings

PG_URL_ENV = "WBS_TEST_DATABASE_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Any test that builds a database is a database test: `make pg` reruns exactly those.
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@dataclass
class Clock:
    """A controllable clock: tests move time instead of sleeping."""

    current: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def _pg_available(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    url = os.environ.get(PG_URL_ENV)
    if url:
        if not _pg_available(url):
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL at {url} is unreachable and CI=true")
            pytest.skip("PostgreSQL unreachable")
        schema = f"wbs_test_{secrets.token_hex(4)}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in url else "?"
        scoped = f"{url}{sep}options=-csearch_path%3D{schema}"
        migrate.upgrade(scoped)
        yield {"kind": "postgresql", "url": scoped, "schema": schema}
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        migrate.upgrade(f"sqlite:///{path}")
        # Fold the WAL into the main file: each test copies that file alone.
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        yield {"kind": "sqlite", "path": path}


@pytest.fixture
def db_url(db_template: dict[str, Any], tmp_path: Path) -> str:
    if db_template["kind"] == "sqlite":
        target = tmp_path / "data" / "wbs.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(db_template["path"], target)
        return f"sqlite:///{target}"
    url: str = db_template["url"]
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # Replica role skips the audit table's append-only trigger: only the test harness does this.
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The one row a migration leaves (issue 12's rules token), with a value of its own.
        conn.execute(text("INSERT INTO rules_version (id, token) VALUES (1, :token)"),
                     {"token": secrets.randbits(62)})
    engine.dispose()
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    keys_dir = tmp_path / "keys"
    instance.create_keys(keys_dir)
    return replace(
        Settings(), env="development", database_url=db_url, data_dir=tmp_path / "data",
        keys_dir=keys_dir, mail_dir=tmp_path / "data" / "mail", argon2=TEST_PARAMS,
        base_url="https://wbs.test", allowed_hosts=("testserver", "wbs.test"),
    )


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    engine = make_engine(settings.database_url)
    context = Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                      db=make_sessionmaker(engine), kdf=PasswordKDF(settings.argon2), clock=clock)
    yield context
    engine.dispose()


@pytest.fixture
def app(settings: Settings, ctx: Context) -> Any:
    application = create_app(settings, context=ctx)
    application.state.failure_floor = 0.0
    return application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture
def demo(ctx: Context) -> dict[str, dict[str, str]]:
    from wbs import demo as demo_module

    return demo_module.load(ctx)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def totp_now(secret: str, clock: Clock, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock() + timedelta(seconds=30 * offset_steps))


def sign_in(client: TestClient, creds: dict[str, str], username: str, clock: Clock) -> Any:
    token = csrf_from(client, "/masuk")
    return client.post("/masuk", data={
        "csrf_token": token, "username": username, "password": creds["password"],
        "totp": totp_now(creds["totp_secret"], clock)})
