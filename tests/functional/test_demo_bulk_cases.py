"""`wbs demo --cases N` (wbs.demo.bulk): it needs the demo units, a second run continues where
the first ended, and progress is reported per batch."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text

from wbs import demo as demo_module
from wbs.context import Context
from wbs.models import Case, CaseKeyWrap, Deadline

TODAY = date(2026, 3, 2)


def _cases(ctx: Context) -> list[tuple[int, str]]:
    with ctx.db() as s:
        return [(cid, number) for cid, number in
                s.execute(select(Case.id, Case.case_number).order_by(Case.id))]


def test_bulk_cases_need_the_demo_units(ctx: Context) -> None:
    with pytest.raises(LookupError, match="load the demo units first"):
        demo_module.bulk(ctx.engine, 5, today=TODAY)
    assert _cases(ctx) == []


def test_a_second_run_continues_and_progress_is_told_per_batch(
        ctx: Context, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "BULK_BATCH", 7)
    seen: list[tuple[int, int]] = []
    assert demo_module.bulk(ctx.engine, 20, today=TODAY,
                            progress=lambda done, total: seen.append((done, total))) == 20
    assert seen == [(7, 20), (14, 20), (20, 20)]
    assert demo_module.bulk(ctx.engine, 3, today=TODAY) == 3
    cases = _cases(ctx)
    assert [cid for cid, _ in cases] == list(range(1, 24))
    assert len({number for _, number in cases}) == 23
    with ctx.db() as s:
        without_wraps = s.scalar(select(func.count()).select_from(Case).where(
            ~select(CaseKeyWrap.id).where(CaseKeyWrap.case_id == Case.id).exists()))
        assert without_wraps == 0  # every case is sealed to someone, as the real flow leaves it
        assert set(s.scalars(select(Case.report_sealed))) == {demo_module.BULK_SEALED}


@pytest.mark.db
def test_bulk_holdings_carry_each_cases_received_day_and_next_open_deadline(
        ctx: Context, demo: dict[str, Any]) -> None:
    """The case list reads a unit's cases from its wraps (received_on, next_due): bulk data
    must leave them exactly as the deadlines say, whatever order the rows go in."""
    demo_module.bulk(ctx.engine, 300, today=TODAY)
    open_due = (select(func.min(Deadline.due_on))
                .where(Deadline.case_id == CaseKeyWrap.case_id, Deadline.met_on.is_(None))
                .scalar_subquery())
    received = select(Case.received_on).where(Case.id == CaseKeyWrap.case_id).scalar_subquery()
    holdings = (CaseKeyWrap.purpose == "content") & (CaseKeyWrap.recipient_kind == "unit")
    with ctx.db() as s:
        rows = s.execute(select(CaseKeyWrap.next_due, open_due, CaseKeyWrap.received_on,
                                received).where(holdings)).all()
    assert len(rows) >= 300
    assert sum(1 for next_due, *_ in rows if next_due is not None) > 50  # open deadlines seen
    assert [r for r in rows if (r[0], r[2]) != (r[1], r[3])] == []


@pytest.mark.db
def test_bulk_on_postgresql_refreshes_statistics_each_time_the_data_doubles(
        ctx: Context, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The triggers' plans are made once per connection; on tables with no statistics they
    scan the whole table for every row, so the build must analyze as the tables grow."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the statistics are PostgreSQL's")
    monkeypatch.setattr(demo_module, "BULK_BATCH", 10)
    count = text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'deadlines'")
    with ctx.engine.connect() as conn:
        before = conn.scalar(count)
    demo_module.bulk(ctx.engine, 75, today=TODAY)
    with ctx.engine.connect() as conn:
        after = conn.scalar(count)
    # At 10, 20 and 40 cases (the data doubled each time), and the whole database at the end.
    assert after - before == 4
