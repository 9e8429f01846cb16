"""Periodic statistics (RULES §8): what was received, responded to and completed, how fast, and
which limits were kept, for any period and unit, cut by kind, category, classification, unit,
channel and state; and the counts and targets of Kepbup Kapuas 715/2021 Lamp. III.A.

Clear metadata only (the cases' kind, channel, state, dates and working-day counts, tasks and
deadlines): nothing here opens a key, so the page and its CSV run with no case or unit key.

Conventions, so every figure can be recomputed by hand:
- A case belongs to the period when it was *received* in it (`received_on` in [start, end]).
- Figures are taken *as of* the period's last day, or today if the period has not ended, so a
  published report says the same thing when read later; the state columns too (the state on
  that day, from the case's timeline).
- *Not yet responded to*: no first response by the as-of day; *not yet completed*: no outcome
  (closed, archived, forwarded) by then (`wbs.reports.marks` says what these are).
- Averages are in working days (RULES §5: the day of receipt is not counted), over the cases
  of the period that had been responded to / completed by the as-of day, to two decimals,
  half up.
- A unit's figures are those of the cases dispositioned to it (a case given to two units counts
  once in each, once in the totals); cases not yet dispositioned form their own row.
- Answers with files: the staff answers to the period's cases given by the as-of day that carry
  files (data, photos), and the number of those files; from the attachment rows' clear columns
  (message, day), counted directly (the roll-up does not hold them: a partial index keeps the
  count off the reporters' evidence). A unit's statistics count the answers on its cases.
- Limits kept: the Pemda's own obligations (verification, answers, decisions) that started in
  the period; met on time (on or before the due day), met late, overdue (open past the due day on
  the as-of day) or still running, per unit owing them (verification belongs to no unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, extract, func, or_, select
from sqlalchemy.orm import Session, aliased

from wbs.models import Attachment, Case, CaseEvent, CaseTask, Deadline
from wbs.reports import rollup
from wbs.reports.tables import StatCaseDay, StatLimitDay, StatTarget

DIMENSIONS = ("kind", "category", "classification", "unit", "channel", "state", "profile_kind")
# A case from before profile kinds (issue 10) counts under its kind's national name.
_NATIONAL_KEY = rollup.NATIONAL_KEY
# The Pemda's own obligations; the reporter's windows (missing data, objection) are not.
OBLIGATIONS = rollup.OBLIGATIONS
KAPUAS_GROUPS = rollup.KAPUAS_GROUPS
TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    def as_of(self, today: date) -> date:
        return min(self.end, today)


def average(total: int, count: int) -> Decimal | None:
    if count == 0:
        return None
    return (Decimal(total) / Decimal(count)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """One row: the period's cases in one group."""

    received: int = 0
    not_responded: int = 0
    not_completed: int = 0
    responded: int = 0
    response_wd: int = 0  # sum over the responded cases
    completed: int = 0
    completion_wd: int = 0
    overdue: int = 0  # cases with an obligation open past its day on the as-of day

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def avg_response(self) -> Decimal | None:
        return average(self.response_wd, self.responded)

    @property
    def avg_completion(self) -> Decimal | None:
        return average(self.completion_wd, self.completed)


@dataclass
class LimitFigures:
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    running: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.running


@dataclass(frozen=True)
class TargetRow:
    year: int
    received: int
    completed: int
    target_received: int | None
    target_completed_pct: int | None

    @property
    def completed_pct(self) -> Decimal | None:
        return average(100 * self.completed, self.received)


@dataclass
class Statistics:
    period: Period
    as_of: date
    unit_id: int | None
    total: Figures = field(default_factory=Figures)
    by: dict[str, dict[str | int | None, Figures]] = field(default_factory=dict)
    limits: dict[tuple[str, int | None], LimitFigures] = field(default_factory=dict)
    kapuas: dict[str, int] = field(default_factory=dict)
    targets: list[TargetRow] = field(default_factory=list)
    answers_with_files: int = 0
    answer_files: int = 0


def state_on(as_of: date) -> ColumnElement[str]:
    """The case's state on the as-of day: its timeline's last state change on or before it
    (the later of two the same day by id); a case with no timeline keeps its state column."""
    last = (select(CaseEvent.state).where(CaseEvent.case_id == Case.id, CaseEvent.on <= as_of)
            .order_by(CaseEvent.on.desc(), CaseEvent.id.desc()).limit(1)
            .correlate(Case).scalar_subquery())
    return func.coalesce(last, Case.state)


def _in_period(period: Period, unit_id: int | None) -> ColumnElement[bool]:
    cond = and_(Case.received_on >= period.start, Case.received_on <= period.end)
    if unit_id is not None:
        # An alias: the limits query joins case_tasks itself, which would swallow the table.
        task = aliased(CaseTask)
        cond = and_(cond, exists().where(task.case_id == Case.id, task.unit_id == unit_id)
                    .correlate(Case))
    return cond


def _overdue(period: Period, as_of: date) -> ColumnElement[bool]:
    """Whether a case had an obligation open past its day on the as-of day. An uncorrelated
    IN: the database computes the (few) overdue cases once and hashes them, instead of probing
    the deadlines once per case, which took 40 s on a million cases."""
    late = select(Deadline.case_id).where(
        Deadline.kind.in_(OBLIGATIONS), Deadline.due_on >= period.start, Deadline.due_on < as_of,
        or_(Deadline.met_on.is_(None), Deadline.met_on > as_of))
    return Case.id.in_(late)


def _aggregates(as_of: date) -> list[ColumnElement[int]]:
    responded = and_(Case.first_response_on.is_not(None), Case.first_response_on <= as_of)
    completed = and_(Case.completed_on.is_not(None), Case.completed_on <= as_of)

    def count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    def sum_if(cond: ColumnElement[bool], value: Any) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    return [func.count(), count_if(responded), sum_if(responded, Case.response_wd),
            count_if(completed), sum_if(completed, Case.completion_wd)]


def _figures(row: Sequence[int], overdue: bool) -> Figures:
    received, responded, response_wd, completed, completion_wd = (int(v) for v in row)
    return Figures(received=received, not_responded=received - responded,
                   not_completed=received - completed, responded=responded,
                   response_wd=response_wd, completed=completed, completion_wd=completion_wd,
                   overdue=received if overdue else 0)


def compute(session: Session, period: Period, today: date,
            unit_id: int | None = None, *, use_rollup: bool = True) -> Statistics:
    """The statistics of the period. The days the roll-up holds for the as-of day are added up
    from it (`wbs.reports.rollup`), the other days counted from the cases: the same figures
    either way (`use_rollup=False` counts every day from the cases). A unit's own statistics
    are always counted from the cases (the roll-up is not kept per unit)."""
    if not use_rollup or unit_id is not None:
        return _compute(session, period, today, unit_id, None)
    # Added up from the roll-up in several statements: a job pass committing in between could
    # hand over a day taken for another as-of day. Checked again afterwards, and counted once
    # more if anything moved (then from the cases alone, should the job keep moving it).
    year_start = date(period.start.year, 1, 1)
    for _attempt in range(3):
        seen = rollup.fingerprint(session, year_start, period.end)
        stats = _compute(session, period, today, unit_id, rollup.direct_ranges(
            session, year_start, period.end, period.as_of(today)))
        if rollup.fingerprint(session, year_start, period.end) == seen:
            return stats
    return _compute(session, period, today, unit_id, None)


def _compute(session: Session, period: Period, today: date, unit_id: int | None,
             direct: list[tuple[date, date]] | None) -> Statistics:
    as_of = period.as_of(today)
    stats = Statistics(period=period, as_of=as_of, unit_id=unit_id,
                       by={d: {} for d in DIMENSIONS})
    if direct is not None:
        _from_rollup(session, stats, direct)
    scope = _in_period(period, unit_id)
    deadline_scope = None
    count_cases = count_limits = True
    if direct is not None:
        in_period = rollup.clip(direct, period.start, period.end)
        limit_days = rollup.clip(direct, period.start, min(period.end, as_of))
        scope = and_(scope, rollup.within(Case.received_on, in_period))
        deadline_scope = rollup.within(Deadline.start_on, limit_days)
        # The roll-up held every day: no query over the cases at all.
        count_cases, count_limits = bool(in_period), bool(limit_days)
    if count_cases:
        _from_cases(session, stats, scope)
    if count_limits:
        _limits(session, stats, deadline_scope, as_of)
    _kapuas(stats)
    stats.targets = targets(session, period, as_of, direct)
    stats.answers_with_files, stats.answer_files = answer_files(session, period, as_of,
                                                                unit_id)
    return stats


def answer_files(session: Session, period: Period, as_of: date,
                 unit_id: int | None = None) -> tuple[int, int]:
    """(answers with files, files) for the period's cases, answers given by the as-of day.

    An attachment has a message only when it was sent with a staff answer (`routing.answer` is
    the one writer of `message_id`; the reporter's evidence has none), on the answer's day: so
    the partial index `ix_attachments_answer` holds every column read here."""
    query = (select(func.count(func.distinct(Attachment.message_id)), func.count())
             .select_from(Attachment)
             .join(Case, Case.id == Attachment.case_id)
             # An answer is never older than its case: only the files of the days from the
             # period's start to the as-of day are read, whatever the table holds.
             .where(Attachment.message_id.is_not(None), Attachment.created_on >= period.start,
                    Attachment.created_on <= as_of,
                    _in_period(period, unit_id)))
    answers, files = session.execute(query).one()
    return int(answers), int(files)


def _from_cases(session: Session, stats: Statistics, scope: ColumnElement[bool]) -> None:
    """Count the cases in `scope` (the period's, or its days the roll-up does not hold)."""
    period, as_of = stats.period, stats.as_of
    overdue = _overdue(period, as_of)
    # One pass over the period's cases, grouped by every case-level dimension at once; the
    # groups are few (kinds × channels × states × …) and are summed up per dimension here.
    keys = (Case.kind, Case.category_id, Case.classification, Case.channel,
            state_on(as_of).label("state"), Case.profile_kind)
    query = (select(*keys, overdue.label("overdue"), *_aggregates(as_of))
             .where(scope).group_by(*keys, overdue))
    for row in session.execute(query):
        kind, category, classification, channel, state, profile_kind, late = row[:7]
        figures = _figures(row[7:], bool(late))
        stats.total.add(figures)
        for dim, value in (("kind", kind), ("category", category),
                           ("classification", classification), ("channel", channel),
                           ("state", state),
                           ("profile_kind", profile_kind or _NATIONAL_KEY.get(kind, kind))):
            stats.by[dim].setdefault(value, Figures()).add(figures)
    _by_unit(session, stats, scope, overdue, as_of)


def _from_rollup(session: Session, stats: Statistics, direct: list[tuple[date, date]]) -> None:
    """Add the days of the period the roll-up holds for the as-of day."""
    period, as_of = stats.period, stats.as_of
    sums = [func.sum(c) for c in (StatCaseDay.received, StatCaseDay.responded,
                                  StatCaseDay.response_wd, StatCaseDay.completed,
                                  StatCaseDay.completion_wd, StatCaseDay.overdue)]
    query = (select(StatCaseDay.dim, StatCaseDay.value, *sums)
             .where(rollup.outside(StatCaseDay.day, period.start, period.end, direct))
             .group_by(StatCaseDay.dim, StatCaseDay.value))
    for dim, value, *agg in session.execute(query):
        received, responded, response_wd, completed, completion_wd, late = (int(v) for v in agg)
        figures = Figures(received=received, not_responded=received - responded,
                          not_completed=received - completed, responded=responded,
                          response_wd=response_wd, completed=completed,
                          completion_wd=completion_wd, overdue=late)
        stats.by[dim].setdefault(rollup.value_of(dim, value), Figures()).add(figures)
        if dim == "kind":
            stats.total.add(figures)
    limit_end = min(period.end, as_of)
    limits = (select(StatLimitDay.kind, StatLimitDay.rule_key, StatLimitDay.unit_id,
                     func.sum(StatLimitDay.on_time), func.sum(StatLimitDay.late),
                     func.sum(StatLimitDay.overdue), func.sum(StatLimitDay.running))
              .where(rollup.outside(StatLimitDay.day, period.start, limit_end, direct))
              .group_by(StatLimitDay.kind, StatLimitDay.rule_key, StatLimitDay.unit_id))
    for kind, rule_key, unit_id, on_time, late, overdue, running in session.execute(limits):
        row = stats.limits.setdefault((limit_name(kind, rule_key), unit_id), LimitFigures())
        row.on_time += int(on_time)
        row.late += int(late)
        row.overdue += int(overdue)
        row.running += int(running)


def _by_unit(session: Session, stats: Statistics, scope: ColumnElement[bool],
             overdue: ColumnElement[bool], as_of: date) -> None:
    """One pass: each case joined to the units it was given to (once per unit); a case given
    to none keeps a NULL unit, which is the "not yet dispositioned" row."""
    pairs = select(CaseTask.case_id, CaseTask.unit_id).distinct().subquery()
    query = (select(pairs.c.unit_id, overdue, *_aggregates(as_of))
             .outerjoin(pairs, pairs.c.case_id == Case.id).where(scope)
             .group_by(pairs.c.unit_id, overdue))
    rows = stats.by["unit"]
    for unit, late, *agg in session.execute(query):
        rows.setdefault(unit, Figures()).add(_figures(agg, bool(late)))


def limit_name(kind: str, rule_key: str) -> str:
    return rule_key if kind == "answer" else kind


def _limits(session: Session, stats: Statistics, scope: ColumnElement[bool] | None,
            as_of: date) -> None:
    """The obligations that started in the period, by limit and the unit that owed them (a
    case-level limit, i.e. verification, belongs to no unit: `None`). Read from the deadlines
    and tasks alone, without the cases, so it stays one scan of the deadlines. `scope` narrows
    the deadlines' start days (to those the roll-up does not hold)."""
    period = stats.period
    met = and_(Deadline.met_on.is_not(None), Deadline.met_on <= as_of)
    status = case(
        (and_(met, Deadline.met_on <= Deadline.due_on), "on_time"),
        (met, "late"),
        (Deadline.due_on < as_of, "overdue"),
        else_="running")
    query = (select(Deadline.kind, Deadline.rule_key, CaseTask.unit_id, status, func.count())
             .outerjoin(CaseTask, CaseTask.id == Deadline.task_id)
             .where(Deadline.kind.in_(OBLIGATIONS), Deadline.start_on >= period.start,
                    Deadline.start_on <= min(period.end, as_of))
             .group_by(Deadline.kind, Deadline.rule_key, CaseTask.unit_id, status))
    if stats.unit_id is not None:
        query = query.where(CaseTask.unit_id == stats.unit_id)
    if scope is not None:
        query = query.where(scope)
    for kind, rule_key, unit_id, state, n in session.execute(query):
        row = stats.limits.setdefault((limit_name(kind, rule_key), unit_id), LimitFigures())
        setattr(row, state, getattr(row, state) + int(n))


def _kapuas(stats: Statistics) -> None:
    by_state = stats.by["state"]
    stats.kapuas = {group: sum(by_state[s].received for s in states if s in by_state)
                    for group, states in KAPUAS_GROUPS.items()}


def targets(session: Session, period: Period, as_of: date,
            direct: list[tuple[date, date]] | None = None) -> list[TargetRow]:
    """Each year the period touches: complaints received in the whole year (to the as-of day)
    and completed by then, against the administrator's targets. With `direct` (the days the
    roll-up does not hold for the as-of day), the other days come from the roll-up."""
    rows = []
    held = _rollup_years(session, period, as_of, direct) if direct is not None else {}
    for year in range(period.start.year, period.end.year + 1):
        start, end = date(year, 1, 1), min(date(year, 12, 31), as_of)
        if end < start:
            continue
        scope = and_(Case.received_on >= start, Case.received_on <= end)
        received, completed = 0, 0
        if direct is not None:
            r, c_year, c_as_of = held.get(year, (0, 0, 0))
            # Completed by the year's end for a year that has ended, else by the as-of day.
            received, completed = r, (c_as_of if end == as_of else c_year)
            days = rollup.clip(direct, start, end)
            if not days:  # the roll-up held the whole year
                rows.append(_target_row(session, year, received, completed))
                continue
            scope = and_(scope, rollup.within(Case.received_on, days))
        more_received, more_completed = session.execute(select(
            func.count(), func.coalesce(func.sum(case(
                (and_(Case.completed_on.is_not(None), Case.completed_on <= end), 1),
                else_=0)), 0)).where(scope)).one()
        received += int(more_received)
        completed += int(more_completed)
        rows.append(_target_row(session, year, received, completed))
    return rows


def _rollup_years(session: Session, period: Period, as_of: date,
                  direct: list[tuple[date, date]]) -> dict[int, tuple[int, int, int]]:
    """The roll-up's days of the years of the period, to the as-of day, in one pass: by year,
    received, completed by the year's end, completed by the as-of day."""
    first = date(period.start.year, 1, 1)
    year = extract("year", StatCaseDay.day)
    query = (select(year, func.sum(StatCaseDay.received), func.sum(StatCaseDay.completed_year),
                    func.sum(StatCaseDay.completed))
             .where(StatCaseDay.dim == "kind",
                    rollup.outside(StatCaseDay.day, first, min(period.end, as_of), direct))
             .group_by(year))
    return {int(y): (int(r), int(cy), int(ca)) for y, r, cy, ca in session.execute(query)}


def _target_row(session: Session, year: int, received: int, completed: int) -> TargetRow:
    target = session.get(StatTarget, year)
    return TargetRow(year, received, completed, target.received if target else None,
                     target.completed_pct if target else None)


def set_target(session: Session, year: int, received: int, completed_pct: int) -> None:
    if not (2000 <= year <= 2100 and 0 <= received <= 10_000_000 and 0 <= completed_pct <= 100):
        raise ValueError("target_invalid")
    row = session.get(StatTarget, year)
    if row is None:
        session.add(StatTarget(year=year, received=received, completed_pct=completed_pct))
    else:
        row.received, row.completed_pct = received, completed_pct


def rows_of(stats: Statistics, dim: str,
            order: Iterable[str | int | None] = ()) -> list[tuple[str | int | None, Figures]]:
    """A dimension's rows: the known values in `order` first (zero rows included), then any
    other value met in the data, sorted."""
    seen = stats.by.get(dim, {})
    ordered = list(order)
    rest = sorted((k for k in seen if k not in ordered), key=lambda k: (k is None, str(k)))
    return [(k, seen.get(k, Figures())) for k in [*ordered, *rest]]
