"""The public statistics page (`/statistik`, RULES §8): a year's reports by kind, channel,
category and unit against their status, with small counts suppressed so that a small unit's few
reporters cannot be singled out (`wbs.reports.suppression`), the published reports, and the
published SKM results with their method.

Whistleblowing reports are counted with the rest of their kind only: the unit table counts
dispositions, and a whistleblowing report's only unit is APIP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import Case, CaseTask, Unit
from wbs.reports import charts, rollup, statistics, stats_page
from wbs.reports.suppression import DEFAULT_THRESHOLD, Suppressed, suppress
from wbs.reports.tables import CaseCategory, StatCaseDay
from wbs.web.i18n import gettext

GROUPS = tuple(statistics.KAPUAS_GROUPS)
_STATE_GROUP = {s: g for g, states in statistics.KAPUAS_GROUPS.items() for s in states}


@dataclass(frozen=True)
class PublicTable:
    key: str
    title: str
    row_labels: list[str]
    column_labels: list[str]
    grid: Suppressed
    chart: str


@dataclass(frozen=True)
class PublicPage:
    year: int
    years: list[int]
    threshold: int
    tables: list[PublicTable]


def _rollup_crosstabs(session: Session, start: date, end: date,
                      direct: list[tuple[date, date]]) -> dict[str, dict[object, list[int]]]:
    out: dict[str, dict[object, list[int]]] = {d: {} for d in ("kind", "channel", "category",
                                                                "unit")}
    query = (select(StatCaseDay.dim, StatCaseDay.value, StatCaseDay.grp,
                    func.sum(StatCaseDay.received))
             .where(StatCaseDay.dim.in_(list(out)),
                    rollup.outside(StatCaseDay.day, start, end, direct))
             .group_by(StatCaseDay.dim, StatCaseDay.value, StatCaseDay.grp))
    for dim, value, grp, n in session.execute(query):
        if dim == "unit" and value is None:
            continue  # the unit table counts dispositions: a case given to none is not one
        row = out[dim].setdefault(rollup.value_of(dim, value), [0] * len(GROUPS))
        row[GROUPS.index(grp)] += int(n)
    return out


def _crosstab(session: Session, key: Any, scope: ColumnElement[bool] | None,
              start: dict[object, list[int]] | None = None) -> dict[object, list[int]]:
    """Cases by `key` and status group; without a key, dispositions by unit; added to
    `start` (the roll-up's part). No `scope`: the roll-up held every day."""
    out: dict[object, list[int]] = dict(start or {})
    if scope is None:
        return out
    if key is not None:
        query = select(key, Case.state, func.count()).where(scope).group_by(key, Case.state)
    else:
        pairs = select(CaseTask.case_id, CaseTask.unit_id).distinct().subquery()
        query = (select(pairs.c.unit_id, Case.state, func.count())
                 .join(pairs, pairs.c.case_id == Case.id).where(scope)
                 .group_by(pairs.c.unit_id, Case.state))
    for value, state, n in session.execute(query):
        row = out.setdefault(value, [0] * len(GROUPS))
        row[GROUPS.index(_STATE_GROUP.get(state, "in_process"))] += int(n)
    return out


def _table(key: str, title: str, rows: Sequence[tuple[str, list[int]]], threshold: int,
           columns: list[str]) -> PublicTable:
    # Rows with no report are left out; a table with none keeps one row of zeros, so that the
    # grid and its labels always agree.
    rows = [r for r in rows if sum(r[1])] or [(gettext("(none)"), [0] * len(GROUPS))]
    labels = [label for label, _c in rows]
    grid = suppress([cells for _l, cells in rows], threshold)
    chart = charts.bar_chart(f"pub-{key}", title, [
        (label, grid.values[i][-1]) for i, label in enumerate(labels)],
        shown=[grid.shown(i, len(columns)) for i in range(len(labels))])
    return PublicTable(key, title, labels, columns, grid, chart)


def build(ctx: Context, year: int | None = None, lang: str = "id",
          threshold: int = DEFAULT_THRESHOLD) -> PublicPage:
    today = ctx.today()
    with ctx.db() as session:
        first = session.scalar(select(func.min(Case.received_on)))
        years = list(range(first.year if first else today.year, today.year + 1))
        chosen = year if year in years else today.year
        start, end = date(chosen, 1, 1), date(chosen, 12, 31)
        # Received and today's state do not depend on an as-of day: every refreshed day that
        # is not dirty comes from the roll-up, the others from the cases.
        direct = rollup.direct_ranges(session, start, end, None)
        scope = and_(Case.received_on >= start, Case.received_on <= end,
                     rollup.within(Case.received_on, direct)) if direct else None
        from_rollup = _rollup_crosstabs(session, start, end, direct)
        by_kind = _crosstab(session, Case.kind, scope, from_rollup["kind"])
        by_channel = _crosstab(session, Case.channel, scope, from_rollup["channel"])
        by_category = _crosstab(session, Case.category_id, scope, from_rollup["category"])
        by_unit = _crosstab(session, None, scope, from_rollup["unit"])
        categories: dict[object, str] = {c.id: (c.name_id if lang == "id" else c.name_en)
                      for c in session.scalars(select(CaseCategory).order_by(
                          CaseCategory.position))}
        units: dict[object, str] = {}
        units.update(session.execute(select(Unit.id, Unit.name)).all())
    columns = [gettext(stats_page.KAPUAS[g]) for g in GROUPS]
    none = gettext(stats_page.NONE_LABEL)

    def ordered(data: dict[object, list[int]], order: Sequence[object],
                label: dict[object, str]) -> list[tuple[str, list[int]]]:
        keys = [*order, *sorted((k for k in data if k not in order), key=str)]
        return [(label.get(k, none) if k is not None else none, data.get(k, [0] * len(GROUPS)))
                for k in keys if k in data or k in order]

    kind_labels: dict[object, str] = {k: gettext(v) for k, v in stats_page.KINDS.items()}
    channel_labels: dict[object, str] = {k: gettext(v) for k, v in stats_page.CHANNELS.items()}
    tables = [
        _table("kind", gettext("Reports by kind"),
               ordered(by_kind, [k.value for k in ReportKind], kind_labels), threshold, columns),
        _table("channel", gettext("Reports by channel"),
               ordered(by_channel, [c.value for c in Channel if c.value in by_channel],
                       channel_labels), threshold, columns),
        _table("category", gettext("Reports by category"),
               ordered(by_category, [], categories), threshold, columns),
        _table("unit", gettext("Dispositions by unit"),
               ordered(by_unit, [], units), threshold, columns),
    ]
    return PublicPage(chosen, years, threshold, tables)
