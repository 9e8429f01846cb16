"""Bench entry of issue 11: the statistics page's figures over every case in the database.

Uses whatever cases the bench database holds (the bench's own rows, or `wbs demo --cases N`):
no generator here. Printed, never asserted; the target is 500 ms for 1,000,000 cases on
PostgreSQL (done-when 6), which `make bench` measures with WBS_BENCH_MILLION=1 (`run_pg` over
the case list's database `wbs_bench_1000000`).

Every query the bench sends to PostgreSQL runs under `statement_timeout` (60 s), so a slow plan
cannot run on for an hour; the bench's engine is disposed and its temporary directory removed
when it ends, whatever happens.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from wbs import instance, migrate
from wbs.context import Context
from wbs.crypto.passwords import TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.models import Case
from wbs.reports import public_stats, rollup, statistics
from wbs.settings import Settings

STATEMENT_TIMEOUT = "60s"


def bench_statistics(ctx: Context, timed: Callable[[str, int, Callable[[], object]], Any],
                     *, runs: int = 5, before: bool = False) -> None:
    with ctx.db() as session:
        n = session.scalar(select(func.count(Case.id))) or 0
        first = session.scalar(select(func.min(Case.received_on))) or date.today()
        last = session.scalar(select(func.max(Case.received_on))) or date.today()
    everything = statistics.Period(first, last)
    year = statistics.Period(date(last.year, 1, 1), last)
    # The refresh job's work (the roll-up of every dirty day): once, timed, before reading.
    started = time.perf_counter()
    with ctx.db.begin() as session:
        days = rollup.refresh(session, last)
    print(f"  roll-up refresh: {days:,} days in {time.perf_counter() - started:.1f} s",
          flush=True)

    def run(period: statistics.Period, use_rollup: bool = True) -> None:
        with ctx.db() as session:
            statistics.compute(session, period, last, use_rollup=use_rollup)

    if before:  # the figures counted from the cases alone, as before the roll-up
        timed(f"statistics.compute from the cases, all {n:,}", 1,
              lambda: run(everything, False))
        timed(f"statistics.compute from the cases, year {last.year} of {n:,}", 1,
              lambda: run(year, False))
    timed(f"statistics.compute, all {n:,} cases", runs, lambda: run(everything))
    timed(f"statistics.compute, year {last.year} of {n:,} cases", runs, lambda: run(year))
    timed(f"public /statistik tables, year {last.year} of {n:,}", runs,
          lambda: public_stats.build(ctx, last.year))


def run_pg(url: str, timed: Callable[[str, int, Callable[[], object]], Any], *,
           runs: int = 20, before: bool = False) -> None:
    """The statistics over the cases of the PostgreSQL database at `url` (migrated here)."""
    tmp = Path(tempfile.mkdtemp(prefix="wbs-bench-stats-"))
    engine = None
    try:
        settings = replace(Settings(), env="development", database_url=url, data_dir=tmp,
                           keys_dir=tmp / "keys", argon2=TEST_PARAMS)
        instance.create_keys(settings.keys_dir)
        migrate.upgrade(url)
        engine = make_engine(url)

        @event.listens_for(engine, "connect")
        def _timeout(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
            cur.close()
            dbapi_conn.commit()

        ctx = Context(settings=settings, keys=instance.load_keys(settings.keys_dir),
                      engine=engine, db=make_sessionmaker(engine), kdf=PasswordKDF(TEST_PARAMS))
        print(f"statistics on {engine.dialect.name} (statement_timeout {STATEMENT_TIMEOUT}):",
              flush=True)
        bench_statistics(ctx, timed, runs=runs, before=before)
    finally:
        if engine is not None:
            engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # one database: python -m tests.bench.statistics URL [--before]
    import sys

    from tests.bench.caselist import timed as timed_pct

    run_pg(sys.argv[1], lambda label, n, f: timed_pct(label, n, f),
           before="--before" in sys.argv[2:])
