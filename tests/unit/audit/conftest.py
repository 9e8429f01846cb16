"""A fresh audit log per test, on SQLite and (when reachable) on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wbs.audit import AuditKeys
from wbs.db import make_engine, make_sessionmaker
from wbs.models import Base

PG_URL = os.environ.get("WBS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def new_keys(origin: str = "wbs.test/audit") -> AuditKeys:
    private = Ed25519PrivateKey.generate()
    return AuditKeys(
        origin=origin,
        key_name=origin,
        private=private.private_bytes_raw(),
        public=private.public_key().public_bytes_raw(),
    )


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """One throwaway schema for the whole run, so the shared database is left as found."""
    admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {exc}")
        pytest.skip("PostgreSQL unreachable")
    schema = f"audit_test_{secrets.token_hex(6)}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    else:
        schema = request.getfixturevalue("pg_schema")
        eng = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        Base.metadata.drop_all(eng)  # the previous test's log, triggers included
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def keys() -> AuditKeys:
    return new_keys()


@pytest.fixture
def key_factory() -> Callable[..., AuditKeys]:
    """More key pairs: an intruder's, a stolen copy's, another log's."""
    return new_keys
