"""Adversarial review of the statistics roll-up (stats2): a reader mixes two snapshots.

`statistics.compute` decides which days the roll-up holds for the as-of day
(`rollup.direct_ranges`, reading `stat_days`) and only then, in further statements, sums
`stat_case_days`. On PostgreSQL (READ COMMITTED) a refresh committing in between replaces the
day's rows with figures taken on another day, whose span no longer contains the as-of day: the
reader adds them anyway. An ended period (a monthly recap, a semester report being generated and
stored) then shows figures of today instead of the period's end.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import pytest

from tests.functional.stats_history import unit
from wbs.context import Context
from wbs.models import Case
from wbs.reports import rollup, statistics
from wbs.reports.statistics import Period

DAY = date(2026, 1, 5)


def test_review_stats_refresh_between_the_span_check_and_the_sums(
        ctx: Context, monkeypatch: Any) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("one SQLite transaction reads one snapshot")
    with ctx.db.begin() as s:
        receiving = unit(s, "read-race-v", "verifier_team")
        s.add(Case(case_number="WBS-RR", lookup_hash=secrets.token_bytes(32),
                   reporter_salt=secrets.token_bytes(16), kind="complaint", channel="web",
                   state="answered", received_on=DAY, receiving_unit_id=receiving,
                   first_response_on=DAY + timedelta(days=10), response_wd=7,
                   report_sealed=b"s", report_digest=b"d" * 32))
    with ctx.db.begin() as s:  # a job pass on day 5: the day holds for as-of days up to day 9
        rollup.refresh(s, DAY + timedelta(days=5))
    period, today = Period(DAY, DAY + timedelta(days=7)), DAY + timedelta(days=20)
    with ctx.db() as s:
        expected = statistics.compute(s, period, today, use_rollup=False)
    assert (expected.total.received, expected.total.responded) == (1, 0)

    original = rollup.direct_ranges
    fired: list[int] = []

    def job_pass_commits_meanwhile(*args: Any, **kwargs: Any) -> list[tuple[date, date]]:
        ranges = original(*args, **kwargs)
        if not fired:  # today's job pass: the day's span ended, it is taken again as of today
            with ctx.db.begin() as job:
                fired.append(rollup.refresh(job, today))
        return ranges

    monkeypatch.setattr(rollup, "direct_ranges", job_pass_commits_meanwhile)
    with ctx.db() as s:  # the recap of the ended period, read while the job runs
        got = statistics.compute(s, period, today)
    assert fired == [1]
    assert got == expected, (
        f"responded as of {period.end}: {got.total.responded} (roll-up taken on {today}), "
        f"cases say {expected.total.responded}")
