"""Issue 12, every list that can grow: the staff activity summary (`/staf/aktivitas`) groups
a period's audit entries by actor. Its rows are one per staff member, so paging them bounds
nothing; what grew with the log was the read: with no index on the entries' time, every view
scanned the whole audit log. The period is now read through `ix_audit_entries_occurred_at`
(migration 0240)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect

from tests.sql_capture import captured
from wbs.audit import activity
from wbs.context import Context


def _summary_sql(ctx: Context, since: datetime, until: datetime) -> tuple[str, Any]:
    parameters: list[Any] = []
    with captured(ctx.engine, parameters) as statements, ctx.db() as session:
        activity.activity_summary(session, since, until)
    return next((s, p) for s, p in zip(statements, parameters, strict=True) if "GROUP BY" in s)


def test_the_audit_log_is_indexed_by_time(ctx: Context) -> None:
    indexes = inspect(ctx.engine).get_indexes("audit_entries")
    assert {"name": "ix_audit_entries_occurred_at", "columns": ["occurred_at"]} in [
        {"name": i["name"], "columns": i["column_names"]} for i in indexes]


def test_on_postgresql_the_activity_summary_reads_the_period_through_the_index(
        ctx: Context, demo: Any) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the plan pinned here is PostgreSQL's")
    until = datetime(2026, 3, 3, tzinfo=UTC)
    query, params = _summary_sql(ctx, until - timedelta(days=30), until)
    with ctx.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + query, params))
    assert "ix_audit_entries_occurred_at" in plan, plan
    assert "Seq Scan on audit_entries" not in plan, plan
