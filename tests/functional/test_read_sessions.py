"""Reads never queue behind a writer on SQLite (deferred BEGIN for read-only sessions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from wbs.notices import inbox


def test_reads_proceed_while_a_writer_holds_the_lock(ctx: Any, demo: Any) -> None:
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    with ctx.db.begin() as writer:
        writer.execute(text("UPDATE users SET display_name = display_name"))
        # The write lock is held now. A read through ctx.read must still answer (with
        # BEGIN IMMEDIATE it would wait for busy_timeout and then fail "database is locked").
        assert inbox(ctx, 1) == []
        with ctx.read() as reader:
            assert reader.execute(text("SELECT count(*) FROM users")).scalar_one() == 9


def test_a_staff_page_loads_its_session_while_a_writer_holds_the_lock(
        ctx: Any, demo: Any, clock: Any) -> None:
    """Issue 12: `accounts.load_session` ran in BEGIN IMMEDIATE, so every staff page queued
    behind each submission on SQLite. It reads now, and writes only when it must."""
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    import threading

    from tests.conftest import totp_now
    from wbs import accounts

    creds = demo["verifikator"]
    token = accounts.sign_in(ctx, "verifikator", creds["password"],
                             totp_now(creds["totp_secret"], clock), "test-client").token
    loaded: list[Any] = []
    with ctx.db.begin() as writer:
        writer.execute(text("UPDATE users SET display_name = display_name"))
        reader = threading.Thread(target=lambda: loaded.append(
            accounts.load_session(ctx, token)), daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert loaded and loaded[0] is not None and loaded[0].username == "verifikator"


def test_an_idle_session_is_still_ended_and_a_live_one_refreshed(
        ctx: Any, demo: Any, clock: Any) -> None:
    from sqlalchemy import select

    from tests.conftest import totp_now
    from wbs import accounts
    from wbs.models import StaffSession

    creds = demo["verifikator"]
    token = accounts.sign_in(ctx, "verifikator", creds["password"],
                             totp_now(creds["totp_secret"], clock), "test-client").token
    clock.advance(seconds=120)
    assert accounts.load_session(ctx, token) is not None
    with ctx.db() as session:
        seen = session.scalars(select(StaffSession.last_seen_at)).one()
    assert seen.replace(tzinfo=None) >= (clock() - timedelta(seconds=1)).replace(tzinfo=None)
    clock.advance(seconds=ctx.settings.session_idle_seconds + 1)
    assert accounts.load_session(ctx, token) is None
    with ctx.db() as session:
        assert session.scalars(select(StaffSession)).first() is None
