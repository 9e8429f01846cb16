"""Issue 12: the rules in force and the holiday calendar are kept per process, and a change
made by the administrator (here or in another process) is seen by the very next read.

Whether the kept rules are still the stored ones is one read of a token that database triggers
change with every change to the calendar overrides, the rule overrides and the profile.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date

import pytest

from tests.sql_capture import captured
from wbs.cases import calendar_admin, deadlines
from wbs.context import Context
from wbs.models import CalendarOverrideRow
from wbs.profiles import store

# A Wednesday that is no national holiday: a working day unless an override says otherwise.
DAY = date(2027, 3, 17)


@pytest.fixture
def statements(ctx: Context) -> Iterator[list[str]]:
    with captured(ctx.engine) as seen:
        yield seen


def _working(ctx: Context) -> bool:
    with ctx.read() as session:
        return deadlines.load_calendar(session).is_working_day(DAY)


def _verification(ctx: Context) -> int:
    with ctx.read() as session:
        return deadlines.load_rules(session)["verification"].amount


def test_kept_rules_cost_one_read_per_transaction(
        ctx: Context, demo: dict[str, dict[str, str]], statements: list[str]) -> None:
    _working(ctx)  # fills the process's cache
    statements.clear()
    with ctx.db.begin() as session:
        deadlines.load_calendar(session)
        deadlines.load_rules(session)
        deadlines.load_profile(session)
    assert len(statements) == 1, statements
    assert "rules_version" in statements[0]
    statements.clear()
    assert store.current(ctx).name
    assert len(statements) == 1, statements


def test_an_administrators_change_is_seen_by_the_next_read(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    assert _working(ctx) and _verification(ctx) == 3
    calendar_admin.set_override(ctx, "admin", "administrator", DAY, False, "Hari Jadi")
    assert not _working(ctx)
    calendar_admin.set_override(ctx, "admin", "administrator", DAY, True, "Hari Jadi")
    assert _working(ctx)
    calendar_admin.remove_override(ctx, "admin", "administrator", DAY)
    assert _working(ctx)
    calendar_admin.set_rule(ctx, "admin", "administrator", "verification", 7, "working_days")
    assert _verification(ctx) == 7
    assert not store.current(ctx).identity_required
    store.set_change(ctx, "admin", "administrator", "identity_required", True)
    assert store.current(ctx).identity_required
    store.choose(ctx, "sanggau", "admin", "administrator")  # drops the rule overrides
    assert _verification(ctx) == 3 and not store.current(ctx).identity_required


def test_a_change_straight_in_the_database_is_seen_too(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    assert _working(ctx)
    with ctx.db.begin() as session:
        session.add(CalendarOverrideRow(day=DAY, working=False, label="Hari Jadi"))
    assert not _working(ctx)


def test_a_change_rolled_back_is_not_kept(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    assert _working(ctx)
    session = ctx.db()
    try:
        session.add(CalendarOverrideRow(day=DAY, working=False, label="Hari Jadi"))
        session.flush()
        # Read inside the changing transaction: it sees its own change, and may keep it...
        assert not deadlines.load_calendar(session).is_working_day(DAY)
        session.rollback()
    finally:
        session.close()
    # ...but the token it kept it under was rolled back with it.
    assert _working(ctx)
    # Another change committed later is seen as that change, not as the rolled-back one.
    calendar_admin.set_override(ctx, "admin", "administrator", DAY, True, "Masuk")
    assert _working(ctx)
    with ctx.read() as session:
        assert deadlines.load_calendar(session).holiday_name(DAY) is None


_READER = textwrap.dedent("""
    import sys
    from datetime import date
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from wbs.cases import deadlines

    factory = sessionmaker(create_engine(sys.argv[1]))
    day = date.fromisoformat(sys.argv[2])
    for _line in sys.stdin:
        with factory.begin() as session:
            working = deadlines.load_calendar(session).is_working_day(day)
            amount = deadlines.load_rules(session)["verification"].amount
        print(f"{working} {amount}", flush=True)
""")


def test_another_process_sees_a_change_at_its_next_read(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    url = ctx.engine.url.render_as_string(hide_password=False)
    reader = subprocess.Popen([sys.executable, "-c", _READER, url, DAY.isoformat()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdin is not None and reader.stdout is not None

    def ask() -> str:
        assert reader.stdin is not None and reader.stdout is not None
        reader.stdin.write("?\n")
        reader.stdin.flush()
        return reader.stdout.readline().strip()

    try:
        assert ask() == "True 3"
        assert ask() == "True 3"  # now from its cache
        calendar_admin.set_override(ctx, "admin", "administrator", DAY, False, "Hari Jadi")
        assert ask() == "False 3"
        calendar_admin.set_rule(ctx, "admin", "administrator", "verification", 5,
                                "working_days")
        assert ask() == "False 5"
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)


# Issue 12's triggers (migrations 0210-0212). On SQLite a later migration that copies one of
# these tables (batch_alter_table recreating it) drops its triggers without a word: the rules
# cache would then keep stale rules and the case list would miss new holdings.
SQLITE_TRIGGERS = {
    "calendar_overrides_insert_rules_version", "calendar_overrides_update_rules_version",
    "calendar_overrides_delete_rules_version", "deadline_rules_insert_rules_version",
    "deadline_rules_update_rules_version", "deadline_rules_delete_rules_version",
    "rule_profile_insert_rules_version", "rule_profile_update_rules_version",
    "rule_profile_delete_rules_version", "case_key_wraps_received_on",
    "case_key_wraps_received_on_update", "cases_received_on", "deadlines_insert_next_due",
    "deadlines_update_next_due", "deadlines_delete_next_due", "case_key_wraps_next_due",
    "case_key_wraps_next_due_update", "case_key_wraps_holding_cleared", "deadlines_moved_next_due"}
POSTGRESQL_TRIGGERS = {
    "calendar_overrides_rules_version", "deadline_rules_rules_version",
    "rule_profile_rules_version", "case_key_wraps_received_on", "cases_received_on",
    "deadlines_next_due"}


def test_the_triggers_are_there_at_the_migration_head(ctx: Context) -> None:
    from sqlalchemy import text

    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "sqlite":
            names = set(conn.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            assert names >= SQLITE_TRIGGERS, SQLITE_TRIGGERS - names
        else:
            names = set(conn.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
            assert names >= POSTGRESQL_TRIGGERS, POSTGRESQL_TRIGGERS - names
