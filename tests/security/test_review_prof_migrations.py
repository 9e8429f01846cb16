"""Adversarial review of branch profiles2: migrations 0220/0221 on a populated database, and
the statistics roll-up triggers of 0200 across them.

On SQLite, 0220's downgrade drops `cases.profile_kind` with `batch_alter_table`, which rebuilds
`cases` (create _alembic_tmp_cases, copy, DROP cases, RENAME): the RENAME fails with "error in
trigger stat_case_tasks_insert: no such table: main.cases", because 0200's triggers on
case_tasks/case_events/deadlines name `cases`. 0221 is already downgraded by then (its table and
every consent dropped), the database is left at 0220, and no release before profiles2 can be
gone back to. Expected to FAIL on f9fadc7 with SQLite; passes on PostgreSQL (plain DROP COLUMN).
"""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import create_engine, text

from tests.functional.test_profiles2_lapor_consent import _decide, _file, _mailbox
from wbs import migrate
from wbs.context import Context

CASE_TRIGGERS = {"stat_cases_insert", "stat_cases_update", "stat_cases_delete"}


def _triggers(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'cases'")).scalars().all()
        else:
            rows = conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid = 'cases'::regclass")).scalars().all()
    engine.dispose()
    return set(rows)


def _dirty_after_update(url: str) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM stat_dirty_days"))
        conn.execute(text("UPDATE cases SET state = state"))
        n = conn.execute(text("SELECT count(*) FROM stat_dirty_days")).scalar_one()
    engine.dispose()
    return int(n)


def test_0220_downgrade_and_upgrade_keep_the_rollup_triggers_on_a_populated_database(
        app: Any, ctx: Context, demo: Any, db_url: str) -> None:
    for _ in range(3):
        _number, code = _file(ctx)
    _decide(_mailbox(app, code), "give")
    ctx.engine.dispose()
    assert _triggers(db_url) >= CASE_TRIGGERS
    cfg = migrate.config(db_url)
    command.downgrade(cfg, "0200")
    # 0200 is in force again: its triggers must be there (its own downgrade drops them by
    # name and fails otherwise), or every later write to a case leaves the roll-up stale.
    assert _triggers(db_url) >= CASE_TRIGGERS, "0220's downgrade dropped the roll-up triggers"
    command.upgrade(cfg, "head")
    assert _triggers(db_url) >= CASE_TRIGGERS
    assert _dirty_after_update(db_url) > 0


def _all_triggers(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            rows = conn.execute(text("SELECT name, tbl_name FROM sqlite_master "
                                     "WHERE type = 'trigger'")).all()
        else:
            rows = conn.execute(text(  # this test's schema only
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
                "AND c.relnamespace = current_schema()::regnamespace")).all()
    engine.dispose()
    return {str(name): str(table) for name, table in rows}


def test_downgrade_to_0185_and_back_to_head_on_a_populated_database(
        app: Any, ctx: Context, demo: Any, db_url: str) -> None:
    """Every migration after 0185 goes down and comes back up on a database with cases,
    consents and deadlines in it, and ends with the same triggers (the roll-up's and the
    holdings') as a fresh head: none lost in a SQLite batch rebuild."""
    for _ in range(3):
        _number, code = _file(ctx)
    _decide(_mailbox(app, code), "give")
    ctx.engine.dispose()
    before = _all_triggers(db_url)
    assert set(before) >= CASE_TRIGGERS
    cfg = migrate.config(db_url)
    command.downgrade(cfg, "0185")
    assert not CASE_TRIGGERS & set(_all_triggers(db_url))
    command.upgrade(cfg, "head")
    assert _all_triggers(db_url) == before
    assert _dirty_after_update(db_url) > 0
