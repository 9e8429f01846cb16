"""The statistics roll-up (issue 11, done-when 6): the figures of each day, stored, so that a
period's statistics add up a few rows a day instead of reading every case.

- `stat_case_days`: the cases received on a day, per dimension value and status group (Kapuas,
  of today's state, for the public page), with the sums `statistics` reports (the `state`
  dimension is the state on the snapshot's day, from the case's timeline); `stat_limit_days`:
  the obligations started on a day, by limit, owing unit and status.
- Both are a snapshot taken on the refresh day `r`, and `stat_days` says for which as-of days it
  holds: from the last day on or before `r` on which one of the day's figures could change (a
  response, completion or met date, or the day after a due date) to the day before the next one.
  Read at an as-of day outside that span, or while the day is dirty, the day is counted from the
  cases themselves (`statistics`), so every figure is the same whether or not the job has run.
- Dirty days are written by triggers (migration 0200) in the same transaction as the change;
  `refresh` (a periodic job) recomputes them, and the days whose span has ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, false, insert, not_, or_, select
from sqlalchemy.orm import Session

from wbs.models import Case, CaseEvent, CaseTask, Deadline
from wbs.reports.tables import StatCaseDay, StatDay, StatDirtyDay, StatLimitDay

_T = TypeVar("_T")

OBLIGATIONS = ("verification", "answer", "decision", "decision_delivery")
KAPUAS_GROUPS = {
    "completed": ("closed", "forwarded"),
    "in_process": ("verified", "in_process", "answered"),
    "pending": ("received", "needs_info"),
    "archived": ("archived",),
}
STATE_GROUP = {s: g for g, states in KAPUAS_GROUPS.items() for s in states}
CASE_DIMS = ("kind", "category", "classification", "channel", "state", "profile_kind")
# The regulation's kind of a case (issue 10); a case from before it counts under its kind's
# national name.
NATIONAL_KEY = {"complaint": "pengaduan", "information_request": "permintaan_informasi",
                "aspiration": "aspirasi"}
INT_DIMS = ("category", "unit")
NEVER_FROM, NEVER_TO = date(9999, 12, 31), date(1, 1, 1)  # an empty span: never used
FIRST, LAST = date(1, 1, 1), date(9999, 12, 31)
CHUNK = 60  # days per refresh query
JOB_LIMIT = 120  # days per pass of the jobs
ONE = timedelta(days=1)


def group_of(state: str) -> str:
    return STATE_GROUP.get(state, "in_process")


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def refresh(session: Session, today: date, limit: int | None = None) -> int:
    """Recompute the dirty days and those whose span ended before `today` (at most `limit`
    of them, oldest first, so a job pass after the migration's "everything dirty" stays
    short); returns how many. The dirty marks read for those days are removed in the same
    transaction (marks written meanwhile stay)."""
    # Exactly the marks read here are removed afterwards, never "every mark up to the highest
    # id seen": a writer that took a lower id but commits after this read (ids are handed out
    # in insert order, transactions commit in any order) keeps its mark, so a change the
    # recount below did not see is counted on the next pass (review of stats2, finding 1).
    marks: dict[date, list[int]] = defaultdict(list)
    for mark_id, day in session.execute(select(StatDirtyDay.id, StatDirtyDay.day)):
        marks[day].append(mark_id)
    days = set(session.scalars(select(StatDay.day).where(StatDay.valid_to < today)))
    days.update(marks)
    ordered = sorted(days)[:limit]
    for chunk in _chunks(ordered, CHUNK):
        for table in (StatCaseDay, StatLimitDay, StatDay):
            session.execute(delete(table).where(table.day.in_(chunk)))
        _refresh_days(session, chunk, today)
        read = [mark_id for day in chunk for mark_id in marks.get(day, ())]
        for ids in _chunks(read, 1000):
            session.execute(delete(StatDirtyDay).where(StatDirtyDay.id.in_(ids)))
    return len(ordered)


def fingerprint(session: Session, start: date, end: date) -> tuple[tuple[object, ...], ...]:
    """What a reader checks again after adding up the roll-up: the days' spans. Unchanged, every
    day it took from the roll-up held for its as-of day throughout (a day re-taken with the same
    span holds the same figures for it); changed, a refresh came in between and the reader
    counts again (review of stats2, finding 2). A write meanwhile only marks its day dirty: the
    reader saw the day as it was just before, as it sees every other statement's rows."""
    return tuple(tuple(row) for row in session.execute(
        select(StatDay.day, StatDay.valid_from, StatDay.valid_to)
        .where(StatDay.day >= start, StatDay.day <= end).order_by(StatDay.day)))


def _refresh_days(session: Session, days: Sequence[date], r: date) -> None:
    cases = session.execute(select(
        Case.id, Case.received_on, Case.kind, Case.category_id, Case.classification,
        Case.channel, Case.state, Case.first_response_on, Case.response_wd, Case.completed_on,
        Case.completion_wd, Case.profile_kind).where(Case.received_on.in_(days))).all()
    in_days = select(Case.id).where(Case.received_on.in_(days))
    dues: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for case_id, due, met in session.execute(
            select(Deadline.case_id, Deadline.due_on, Deadline.met_on).where(
                Deadline.case_id.in_(in_days), Deadline.kind.in_(OBLIGATIONS))):
        dues[case_id].append((due, met))
    timeline: dict[int, list[tuple[date, int, str]]] = defaultdict(list)
    for case_id, on, event_id, state in session.execute(
            select(CaseEvent.case_id, CaseEvent.on, CaseEvent.id, CaseEvent.state)
            .where(CaseEvent.case_id.in_(in_days))):
        timeline[case_id].append((on, event_id, state))
    units: dict[int, set[int]] = defaultdict(set)
    for case_id, unit_id in session.execute(
            select(CaseTask.case_id, CaseTask.unit_id).where(CaseTask.case_id.in_(in_days))):
        units[case_id].add(unit_id)
    limits = session.execute(
        select(Deadline.start_on, Deadline.kind, Deadline.rule_key, CaseTask.unit_id,
               Deadline.due_on, Deadline.met_on)
        .outerjoin(CaseTask, CaseTask.id == Deadline.task_id)
        .where(Deadline.start_on.in_(days), Deadline.kind.in_(OBLIGATIONS))).all()

    points: dict[date, set[date]] = defaultdict(set)  # where a figure of the day may change
    broken: set[date] = set()
    case_rows: dict[tuple[date, str, str | None, str], list[int]] = {}
    for c in cases:
        day = c.received_on
        for when in (c.first_response_on, c.completed_on):
            if when is not None:
                points[day].add(when)
        overdue = False
        for due, met in dues.get(c.id, ()):
            points[day].add(due + ONE)
            if met is not None:
                points[day].add(met)
            if due < day:  # the overdue test's `due_on >= period start` would then matter
                broken.add(day)
            overdue = overdue or (due < r and (met is None or met > r))
        events = sorted(timeline.get(c.id, ()))
        points[day].update(on for on, _i, _s in events)
        state_then = next((st for on, _i, st in reversed(events) if on <= r), c.state)
        responded = c.first_response_on is not None and c.first_response_on <= r
        completed = c.completed_on is not None and c.completed_on <= r
        year_end = min(date(day.year, 12, 31), r)
        sums = (1, int(responded), (c.response_wd or 0) if responded else 0, int(completed),
                (c.completion_wd or 0) if completed else 0, int(overdue),
                int(c.completed_on is not None and c.completed_on <= year_end))
        grp = group_of(c.state)
        values: list[tuple[str, str | None]] = [
            ("kind", c.kind), ("category", _str(c.category_id)),
            ("classification", c.classification), ("channel", c.channel),
            ("state", state_then),
            ("profile_kind", c.profile_kind or NATIONAL_KEY.get(c.kind, c.kind))]
        values += [("unit", str(u)) for u in sorted(units.get(c.id, ()))] or [("unit", None)]
        for dim, value in values:
            row = case_rows.setdefault((day, dim, value, grp), [0] * 7)
            for i, v in enumerate(sums):
                row[i] += v

    limit_rows: dict[tuple[date, str, str, int | None], list[int]] = {}
    for start, kind, rule_key, unit_id, due, met in limits:
        points[start].add(due + ONE)
        if met is not None:
            points[start].add(met)
        met_by_r = met if met is not None and met <= r else None
        status = (2 if due < r else 3) if met_by_r is None else (0 if met_by_r <= due else 1)
        row = limit_rows.setdefault((start, kind, rule_key, unit_id), [0] * 4)
        row[status] += 1

    if case_rows:
        session.execute(insert(StatCaseDay), [
            {"day": day, "dim": dim, "value": value, "grp": grp, **dict(zip(
                ("received", "responded", "response_wd", "completed", "completion_wd",
                 "overdue", "completed_year"), sums, strict=True))}
            for (day, dim, value, grp), sums in case_rows.items()])
    if limit_rows:
        session.execute(insert(StatLimitDay), [
            {"day": day, "kind": kind, "rule_key": rule_key, "unit_id": unit_id,
             **dict(zip(("on_time", "late", "overdue", "running"), sums, strict=True))}
            for (day, kind, rule_key, unit_id), sums in limit_rows.items()])
    spans = []
    for day in days:
        if day in broken:
            spans.append({"day": day, "valid_from": NEVER_FROM, "valid_to": NEVER_TO})
            continue
        before = [p for p in points[day] if p <= r]
        after = [p for p in points[day] if p > r]
        spans.append({"day": day, "valid_from": max(before, default=FIRST),
                      "valid_to": min(after) - ONE if after else LAST})
    session.execute(insert(StatDay), spans)


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


def value_of(dim: str, value: str | None) -> str | int | None:
    return int(value) if value is not None and dim in INT_DIMS else value


# --- reading --------------------------------------------------------------------------------


def direct_ranges(session: Session, start: date, end: date,
                  as_of: date | None) -> list[tuple[date, date]]:
    """The runs of days in [start, end] that must be counted from the cases: dirty, never
    refreshed, or (given an as-of day) refreshed for other as-of days."""
    if end < start:
        return []
    query = select(StatDay.day).where(StatDay.day >= start, StatDay.day <= end)
    if as_of is not None:
        query = query.where(StatDay.valid_from <= as_of, StatDay.valid_to >= as_of)
    good = set(session.scalars(query))
    good -= set(session.scalars(select(StatDirtyDay.day).where(
        StatDirtyDay.day >= start, StatDirtyDay.day <= end).distinct()))
    runs: list[tuple[date, date]] = []
    day = start
    while day <= end:
        if day in good:
            day += ONE
            continue
        first = day
        while day <= end and day not in good:
            day += ONE
        runs.append((first, day - ONE))
    return runs


def clip(ranges: Iterable[tuple[date, date]], start: date,
         end: date) -> list[tuple[date, date]]:
    """The parts of the runs that fall in [start, end]."""
    return [(max(lo, start), min(hi, end)) for lo, hi in ranges if lo <= end and hi >= start]


def within(column: Any, ranges: Iterable[tuple[date, date]]) -> ColumnElement[bool]:
    parts = [column.between(lo, hi) for lo, hi in ranges]
    return or_(*parts) if parts else false()


def outside(column: Any, start: date, end: date,
            ranges: Sequence[tuple[date, date]]) -> ColumnElement[bool]:
    cond = and_(column >= start, column <= end)
    return and_(cond, not_(within(column, ranges))) if ranges else cond
