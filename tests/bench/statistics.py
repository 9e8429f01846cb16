"""Bench entry of issue 11: the statistics page's figures over every case in the database.

Uses whatever cases the bench database holds (the bench's own rows, or `wbs demo --cases N`):
no generator here. Printed, never asserted; the target is 500 ms for 1,000,000 cases on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from wbs.context import Context
from wbs.models import Case
from wbs.reports import public_stats, statistics


def bench_statistics(ctx: Context, timed: Callable[[str, int, Callable[[], object]], None]
                     ) -> None:
    with ctx.db() as session:
        n = session.scalar(select(func.count(Case.id))) or 0
        first = session.scalar(select(func.min(Case.received_on))) or date.today()
        last = session.scalar(select(func.max(Case.received_on))) or date.today()
    everything = statistics.Period(first, last)
    year = statistics.Period(date(last.year, 1, 1), last)

    def run(period: statistics.Period) -> None:
        with ctx.db() as session:
            statistics.compute(session, period, last)

    timed(f"statistics.compute, all {n:,} cases", 5, lambda: run(everything))
    timed(f"statistics.compute, year {last.year} of {n:,} cases", 5, lambda: run(year))
    timed(f"public /statistik tables, year {last.year} of {n:,}", 5,
          lambda: public_stats.build(ctx, last.year))
