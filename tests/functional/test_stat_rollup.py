"""The statistics roll-up (issue 11, done-when 6) gives exactly the figures counted from the
cases: on generated histories, for many periods and as-of days, before and after the refresh
job, and after writes the job has not seen yet (the triggers' dirty days), on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update

from tests.functional.stats_history import unit
from wbs.context import Context
from wbs.models import Case, CaseTask, Deadline
from wbs.reports import public_stats, rollup, statistics
from wbs.reports.statistics import Period
from wbs.reports.tables import CaseCategory, StatCaseDay, StatDay, StatDirtyDay, StatTarget

KINDS = ("complaint", "aspiration", "information_request", "whistleblowing")
CHANNELS = ("web", "letter", "sms")
STATES = ("received", "needs_info", "verified", "in_process", "answered", "closed", "archived",
          "forwarded")
BASE = date(2025, 11, 1)


def _day(n: int) -> date:
    return BASE + timedelta(days=n)


def _generate(ctx: Context, seed: int, n: int) -> dict[str, list[int]]:
    rng = random.Random(seed)
    with ctx.db.begin() as s:
        units = [unit(s, f"ru-{seed}-{k}") for k in range(3)]
        receiving = unit(s, f"ru-{seed}-v", "verifier_team")
        cats = [CaseCategory(slug=f"ru-{seed}-{x}", name_id=x, name_en=x, active=True,
                             position=0) for x in "ab"]
        s.add_all(cats)
        s.add(StatTarget(year=2026, received=50, completed_pct=80))
        s.flush()
        for k in range(n):
            received = _day(rng.randint(0, 150))
            responded = (received + timedelta(days=rng.randint(0, 40))
                         if rng.random() < 0.7 else None)
            completed = (responded + timedelta(days=rng.randint(0, 40))
                         if responded and rng.random() < 0.6 else None)
            case = Case(case_number=f"WBS-R{seed}-{k:05d}", lookup_hash=secrets.token_bytes(32),
                        reporter_salt=secrets.token_bytes(16), kind=rng.choice(KINDS),
                        channel=rng.choice(CHANNELS), state=rng.choice(STATES),
                        received_on=received, receiving_unit_id=receiving,
                        classification=rng.choice((None, "other", "no_oversight")),
                        category_id=rng.choice((None, cats[0].id, cats[1].id)),
                        first_response_on=responded,
                        response_wd=rng.randint(0, 20) if responded else None,
                        completed_on=completed,
                        completion_wd=rng.randint(0, 30) if completed else None,
                        report_sealed=b"s", report_digest=b"d" * 32)
            s.add(case)
            s.flush()
            due = received + timedelta(days=rng.randint(1, 7))
            met = received + timedelta(days=rng.randint(0, 12)) if rng.random() < 0.6 else None
            s.add(Deadline(case_id=case.id, kind="verification", rule_key="verification",
                           start_on=received, due_on=due, met_on=met))
            for u in rng.sample(units, rng.choice((0, 1, 1, 2))):
                task = CaseTask(case_id=case.id, unit_id=u, state="open", assigned_on=received)
                s.add(task)
                s.flush()
                start = received + timedelta(days=rng.randint(0, 5))
                rule = rng.choice((5, 14, 60))
                met = (start + timedelta(days=rng.randint(0, rule + 10))
                       if rng.random() < 0.5 else None)
                s.add(Deadline(case_id=case.id, task_id=task.id, kind="answer",
                               rule_key=f"answer_{rule}", start_on=start,
                               due_on=start + timedelta(days=rule), met_on=met))
            if rng.random() < 0.1:  # the reporter's own window: never a limit of the Pemda
                s.add(Deadline(case_id=case.id, kind="missing_data", rule_key="missing_data",
                               start_on=received, due_on=received + timedelta(days=10)))
    return {"units": units}


PERIODS = [Period(_day(0), _day(150)), Period(date(2026, 1, 1), date(2026, 3, 31)),
           Period(date(2025, 12, 1), date(2025, 12, 31)), Period(_day(30), _day(30)),
           Period(date(2026, 3, 1), date(2026, 12, 31))]
TODAYS = [_day(20), date(2025, 12, 31), _day(100), _day(150), _day(175), date(2027, 2, 1)]


def _same(ctx: Context, units: list[int]) -> int:
    """Every period × as-of day: roll-up and cases agree; returns how many days the roll-up
    served (so a test can tell it was used)."""
    served = 0
    with ctx.db() as s:
        for period in PERIODS:
            for today in TODAYS:
                if today < period.start:
                    continue
                expected = statistics.compute(s, period, today, use_rollup=False)
                got = statistics.compute(s, period, today)
                assert got == expected, (period, today)
                ranges = rollup.direct_ranges(s, period.start, period.end, got.as_of)
                served += (period.end - period.start).days + 1 - sum(
                    (hi - lo).days + 1 for lo, hi in ranges)
            mine = statistics.compute(s, period, _day(150), unit_id=units[0])
            assert mine == statistics.compute(s, period, _day(150), unit_id=units[0],
                                              use_rollup=False)
    return served


def _refresh(ctx: Context, today: date) -> int:
    with ctx.db.begin() as s:
        return rollup.refresh(s, today)


def test_the_rollup_gives_the_figures_of_the_cases(ctx: Context) -> None:
    ids = _generate(ctx, 7, 400)
    with ctx.db() as s:  # the triggers marked every written day
        dirty = set(s.scalars(select(StatDirtyDay.day)))
        assert dirty == set(s.scalars(select(Case.received_on))) | set(
            s.scalars(select(Deadline.start_on)))
    public_before = public_stats.build(ctx, 2026)
    assert _same(ctx, ids["units"]) == 0  # nothing refreshed: every day from the cases
    # A job pass refreshes a bounded number of days, oldest first; the rest stay dirty.
    with ctx.db.begin() as s:
        assert rollup.refresh(s, _day(150), limit=10) == 10
    with ctx.db() as s:
        assert len(set(s.scalars(select(StatDirtyDay.day)))) == len(dirty) - 10
    assert _same(ctx, ids["units"]) > 0
    assert public_stats.build(ctx, 2026) == public_before
    refreshed = _refresh(ctx, _day(150))
    assert refreshed == len(dirty) - 10
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(StatDirtyDay)) == 0
        assert s.scalar(select(func.count()).select_from(StatCaseDay)) > 0
    assert _same(ctx, ids["units"]) > 0
    assert public_stats.build(ctx, 2026) == public_before

    # Writes the job has not seen: state, category, a new unit, a deadline met, a new case.
    with ctx.db.begin() as s:
        some = s.scalars(select(Case).order_by(Case.id).limit(40)).all()
        for case in some[:10]:
            case.state = "closed"
            case.completed_on, case.completion_wd = _day(149), 9
        for case in some[10:20]:
            s.add(CaseTask(case_id=case.id, unit_id=ids["units"][2], state="open",
                           assigned_on=case.received_on))
        s.execute(update(Deadline).where(Deadline.case_id.in_([c.id for c in some[20:40]]),
                                         Deadline.met_on.is_(None)).values(met_on=_day(148)))
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(StatDirtyDay)) > 0
    assert _same(ctx, ids["units"]) > 0
    _refresh(ctx, _day(150))
    assert _same(ctx, ids["units"]) > 0
    # Time passes: the days whose span ended are refreshed again, the figures stay equal.
    assert _refresh(ctx, _day(175)) > 0
    assert _same(ctx, ids["units"]) > 0
    with ctx.db() as s:
        s.execute(text("DELETE FROM cases WHERE 1 = 0"))  # a no-op statement: no error


def test_the_triggers_are_in_place_on_every_table_they_watch(ctx: Context) -> None:
    """A later migration that rebuilt one of these tables (SQLite batch mode) would drop them
    silently: this says so."""
    with ctx.db() as s:
        if s.get_bind().dialect.name == "postgresql":
            names = set(s.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'stat_%'"
                " AND tgrelid::regclass::text IN ('cases', 'case_tasks', 'case_events',"
                " 'deadlines')")))
        else:
            names = set(s.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'stat_%'")))
    assert names == {f"stat_{t}_{e}" for t in ("cases", "case_tasks", "case_events", "deadlines")
                     for e in ("insert", "update", "delete")}


def test_a_day_is_counted_from_the_cases_outside_its_span(ctx: Context) -> None:
    """One case, responded on day 10: a snapshot taken on day 20 holds from day 10 on; read as
    of day 5 the day comes from the cases, which do not yet count the response."""
    with ctx.db.begin() as s:
        receiving = unit(s, "span-v", "verifier_team")
        s.add(Case(case_number="WBS-SPAN", lookup_hash=secrets.token_bytes(32),
                   reporter_salt=secrets.token_bytes(16), kind="complaint", channel="web",
                   state="answered", received_on=_day(1), receiving_unit_id=receiving,
                   first_response_on=_day(10), response_wd=7, report_sealed=b"s",
                   report_digest=b"d" * 32))
    _refresh(ctx, _day(20))
    with ctx.db() as s:
        span = s.get(StatDay, _day(1))
        assert span is not None
        assert (span.valid_from, span.valid_to) == (_day(10), date(9999, 12, 31))
        early = statistics.compute(s, Period(_day(0), _day(30)), _day(5))
        late = statistics.compute(s, Period(_day(0), _day(30)), _day(25))
    assert (early.total.received, early.total.responded) == (1, 0)
    assert (late.total.received, late.total.responded, late.total.response_wd) == (1, 1, 7)


@pytest.mark.parametrize("seed", [3, 11])
def test_other_histories_agree_too(ctx: Context, seed: int) -> None:
    ids = _generate(ctx, seed, 150)
    _refresh(ctx, _day(100))
    assert _same(ctx, ids["units"]) > 0


def test_the_triggers_work_whatever_the_sessions_search_path(ctx: Context) -> None:
    """pg_dump's restore script empties the search_path before loading data: the triggers
    must still find their tables (they did not, before: the restore failed)."""
    with ctx.db.begin() as s:
        receiving = unit(s, "path-v", "verifier_team")
    with ctx.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("the search_path is PostgreSQL's")
        schema = conn.scalar(text("SELECT current_schema()"))
        conn.execute(text("SELECT pg_catalog.set_config('search_path', '', true)"))
        conn.execute(text(
            f'INSERT INTO "{schema}".cases (case_number, lookup_hash, reporter_salt, kind, '  # noqa: S608 -- current_schema()
            "channel, state, received_on, receiving_unit_id, report_sealed, report_digest, "
            "at_apip, identity_provided, code_needs_replacing, key_epoch) VALUES ('WBS-PATH', "
            "'\\x01', '\\x02', 'complaint', 'web', 'received', DATE '2026-01-05', :u, '\\x03', "
            "'\\x04', false, false, false, 0)"), {"u": receiving})
    with ctx.db() as s:
        assert date(2026, 1, 5) in set(s.scalars(select(StatDirtyDay.day)))
