"""Adversarial review of the statistics roll-up (stats2): a dirty mark can be lost.

`rollup.refresh` reads `top = max(stat_dirty_days.id)`, recomputes the dirty days from the
cases, then deletes the marks `id <= top AND day IN chunk`. On PostgreSQL (READ COMMITTED, the
engine's default) each statement has its own snapshot: a writer whose mark got a smaller id than
a mark committed before `top` was read, but which itself commits only after the refresh read the
cases, has its mark deleted by the refresh's DELETE (which now sees the committed row) although
the recomputed figures never saw its change. The day is then 'clean' with stale figures, and
`compute` (roll-up) differs from `compute(use_rollup=False)` for as long as the span holds
(here: forever).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.functional.stats_history import unit
from wbs.context import Context
from wbs.models import Case
from wbs.reports import rollup, statistics
from wbs.reports.statistics import Period
from wbs.reports.tables import StatDirtyDay

DAY = date(2026, 1, 5)
TODAY = DAY + timedelta(days=20)


def _case(number: str, receiving: int) -> Case:
    return Case(case_number=number, lookup_hash=secrets.token_bytes(32),
                reporter_salt=secrets.token_bytes(16), kind="complaint", channel="web",
                state="received", received_on=DAY, receiving_unit_id=receiving,
                report_sealed=b"s", report_digest=b"d" * 32)


def test_review_stats_refresh_racing_a_writer_loses_its_dirty_mark(
        ctx: Context, monkeypatch: Any) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; READ COMMITTED is PG's")
    with ctx.db.begin() as s:
        receiving = unit(s, "race-v", "verifier_team")
        x, y = _case("WBS-RACE-X", receiving), _case("WBS-RACE-Y", receiving)
        s.add_all([x, y])
        s.flush()
        x_id, y_id = x.id, y.id
    with ctx.db.begin() as s:  # the day is rolled up, nothing dirty
        rollup.refresh(s, TODAY)
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(StatDirtyDay)) == 0

    # Writer 1 (a staff request completing case X) writes: its mark takes id n, uncommitted.
    w1 = ctx.db()
    w1.begin()
    w1.execute(update(Case).where(Case.id == x_id).values(
        state="closed", completed_on=DAY + timedelta(days=3), completion_wd=3))
    # Writer 2 (another request on a case of the same day) writes and commits: id n+1.
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.id == y_id).values(classification="other"))

    original = rollup._refresh_days

    def refresh_days_then_writer_1_commits(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)  # reads the cases: X still open in this snapshot
        w1.commit()               # writer 1 commits before the refresh deletes the marks

    monkeypatch.setattr(rollup, "_refresh_days", refresh_days_then_writer_1_commits)
    with ctx.db.begin() as s:  # the job pass
        rollup.refresh(s, TODAY)
    monkeypatch.setattr(rollup, "_refresh_days", original)
    w1.close()

    period = Period(DAY, DAY + timedelta(days=30))
    with ctx.db() as s:
        marks = s.scalar(select(func.count()).select_from(StatDirtyDay))
        expected = statistics.compute(s, period, TODAY, use_rollup=False)
        got = statistics.compute(s, period, TODAY)
    assert expected.total.completed == 1
    # Either the day stayed dirty (read from the cases) or the figures agree: neither holds.
    assert marks > 0 or got == expected, (
        f"dirty mark lost: roll-up completed={got.total.completed}, "
        f"cases completed={expected.total.completed}")
