"""Review of issue 12 (speed2): migrations 0211/0212 on a populated database. The holdings
copy (received_on, next_due) is backfilled for existing wraps; a list walked after migrating
down to 0221 and up again must equal the one before."""

from __future__ import annotations

from typing import Any

from alembic import command

from tests.conftest import Clock
from tests.functional import workflow_helpers as wh
from wbs import demo as demo_module
from wbs import migrate
from wbs.cases import listing
from wbs.context import Context

HANDLERS = ("verifikator", "penghubung.pendidikan", "penghubung.kesehatan", "investigator")


def _lists(ctx: Context, staff: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, who in staff.items():
        for flt in ({}, {"overdue": True}, {"due_within": 3}):
            rows: list[tuple[str, Any]] = []
            page = listing.list_cases(ctx, who, listing.CaseFilter(per_page=13, **flt))
            rows += [(r.case_number, r.next_due) for r in page.rows]
            while page.next_key:
                page = listing.list_cases(ctx, who, listing.CaseFilter(
                    per_page=13, after=page.next_key, **flt))
                rows += [(r.case_number, r.next_due) for r in page.rows]
            out[f"{name}{sorted(flt)}"] = rows
    return out


def test_lists_survive_a_migration_round_trip_on_a_populated_database(
        ctx: Context, demo: dict[str, dict[str, str]], clock: Clock, db_url: str) -> None:
    demo_module.bulk(ctx.engine, 120, today=ctx.today(), seed=5)
    staff = {}
    for name in HANDLERS:
        staff[name] = wh.sign_in(ctx, demo, clock, name)
        clock.advance(seconds=31)
    before = _lists(ctx, staff)
    assert sum(len(v) for v in before.values()) > 50
    ctx.engine.dispose()
    command.downgrade(migrate.config(db_url), "0221")
    migrate.upgrade(db_url)
    ctx.engine.dispose()
    assert _lists(ctx, staff) == before
