"""Reads never queue behind a writer on SQLite (deferred BEGIN for read-only sessions)."""

from __future__ import annotations

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
