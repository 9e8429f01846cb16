"""The staff statistics page and its CSV (RULES §8), for leadership and coordinators.

Builds labelled tables out of `wbs.reports.statistics`; viewing and exporting are recorded like
the overview. No key is opened: the tables hold counts, days and the names of units and
categories, which are public.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.enums import CaseState, Channel, Classification, ReportKind
from wbs.models import Unit
from wbs.profiles import kinds as profile_kinds
from wbs.profiles import store
from wbs.reports import statistics
from wbs.reports.statistics import Figures, LimitFigures, Period, Statistics, TargetRow
from wbs.reports.tables import CaseCategory
from wbs.web.i18n import N_, gettext
from wbs.web.labels import RULES, STATES

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG = re.compile(r"[a-z0-9-]{1,64}")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): a
# leading quote makes it text, as in the audit export.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_DAYS = 3660

KINDS = {"whistleblowing": N_("Whistleblowing"), "complaint": N_("Complaint"),
         "information_request": N_("Information request"), "aspiration": N_("Aspiration")}
CHANNELS = {"web": N_("Web form"), "api": N_("Integrated application (API)"),
            "letter": N_("Letter"), "face_to_face": N_("Face to face"),
            "telephone": N_("Telephone"), "sms": N_("SMS"), "whatsapp": N_("WhatsApp"),
            "social_media": N_("Social media"), "complaint_box": N_("Complaint box"),
            "radio": N_("Radio")}
CLASSIFICATIONS = {"needs_oversight": N_("Needs oversight (berkadar pengawasan)"),
                   "no_oversight": N_("No oversight needed (tidak berkadar pengawasan)"),
                   "other": N_("Other (lain-lain)")}
DIMENSION_TITLES = {"kind": N_("By kind"), "category": N_("By category"),
                    "classification": N_("By result of examination"),
                    "unit": N_("By unit (dispositions)"), "channel": N_("By channel"),
                    "state": N_("By status at the end of the period"),
                    "profile_kind": N_("By kind, as the regulation names it")}
KAPUAS = {"completed": N_("Completed"), "in_process": N_("In process"),
          "pending": N_("Pending"), "archived": N_("Archived")}
NONE_LABEL = N_("(not set)")
NO_UNIT = N_("(not yet dispositioned)")


@dataclass(frozen=True)
class Query:
    period: Period
    unit_slug: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


def parse(params: Mapping[str, str], today: date) -> Query:
    """The period (default: this month so far) and an optional unit, from the query string."""
    errors: dict[str, str] = {}
    start = _day(params.get("dari", ""), "dari", errors) or today.replace(day=1)
    end = _day(params.get("sampai", ""), "sampai", errors) or today
    slug = params.get("unit", "")
    if slug and not _SLUG.fullmatch(slug):
        errors["unit"] = "unknown_unit"
        slug = ""
    if end < start or (end - start).days > MAX_DAYS:
        errors["sampai"] = "period_invalid"
        start, end = today.replace(day=1), today
    return Query(Period(start, end), slug, errors)


def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    if _DAY.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors[name] = "invalid_day"
    return None


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class Table:
    dimension: str
    title: str
    rows: list[Row]


@dataclass(frozen=True)
class LimitRow:
    limit: str
    unit: str
    figures: LimitFigures


@dataclass(frozen=True)
class Page:
    stats: Statistics
    unit_name: str
    tables: list[Table]
    limits: list[LimitRow]
    kapuas: list[tuple[str, int]]
    targets: list[TargetRow]
    units: list[tuple[str, str]]  # every unit (slug, name) for the filter


def _label(mapping: Mapping[str, str], key: object) -> str:
    if key is None:
        return gettext(NONE_LABEL)
    text = mapping.get(str(key))
    return gettext(text) if text else str(key)


def build(ctx: Context, query: Query, lang: str) -> Page:
    with ctx.db() as session:
        units = list(session.execute(select(Unit.id, Unit.slug, Unit.name).order_by(Unit.name)))
        unit_id = next((u.id for u in units if u.slug == query.unit_slug), None)
        if query.unit_slug and unit_id is None:
            raise LookupError("unknown_unit")
        categories = {c.id: (c.name_id if lang == "id" else c.name_en)
                      for c in session.scalars(select(CaseCategory))}
        stats = statistics.compute(session, query.period, ctx.today(), unit_id)
        profile = store.in_force(session)
    unit_names = {u.id: u.name for u in units}
    # The profile's kinds (issue 10), whistleblowing first, in the regulation's order.
    kind_choices = profile_kinds.choices(profile.kinds)
    kind_names = {c.key: gettext(KINDS[c.handled_as.value]) if c.national else c.label(lang)
                  for c in kind_choices}
    orders: dict[str, list[str | int | None]] = {
        "kind": [k.value for k in ReportKind], "channel": [c.value for c in Channel],
        "classification": [c.value for c in Classification],
        "state": [s.value for s in CaseState],
        "profile_kind": [c.key for c in kind_choices]}
    tables = []
    for dim in statistics.DIMENSIONS:
        rows = []
        for key, figures in statistics.rows_of(stats, dim, orders.get(dim, ())):
            if dim == "category":
                label = categories.get(key, gettext(NONE_LABEL)) if isinstance(key, int) \
                    else gettext(NONE_LABEL)
            elif dim == "unit":
                label = unit_names.get(key, "") if isinstance(key, int) else gettext(NO_UNIT)
            elif dim == "profile_kind":
                label = kind_names.get(str(key)) or profile_kinds.name_of(
                    str(key), profile.kinds, lang)
            else:
                label = _label({"kind": KINDS, "channel": CHANNELS, "state": STATES,
                                "classification": CLASSIFICATIONS}[dim], key)
            rows.append(Row("" if key is None else str(key), label, figures))
        tables.append(Table(dim, gettext(DIMENSION_TITLES[dim]), rows))
    limits = [LimitRow(gettext(RULES.get(limit, limit)),
                       unit_names.get(unit, "") if unit is not None else "", figures)
              for (limit, unit), figures in sorted(stats.limits.items(),
                                                   key=lambda kv: (kv[0][0], str(kv[0][1])))]
    kapuas = [(gettext(KAPUAS[k]), stats.kapuas.get(k, 0)) for k in KAPUAS]
    return Page(stats, unit_names.get(unit_id, "") if unit_id else "", tables, limits, kapuas,
                stats.targets, [(u.slug, u.name) for u in units])


def record(ctx: Context, staff: StaffIdentity, query: Query, action: str, rows: int) -> None:
    with ctx.db.begin() as session:
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action=action, details={
                         "from": query.period.start.isoformat(),
                         "to": query.period.end.isoformat(),
                         "unit": query.unit_slug or None, "cases": rows}, now=ctx.now())


def view(ctx: Context, staff: StaffIdentity, query: Query, lang: str,
         action: str = "stats.view") -> Page:
    page = build(ctx, query, lang)
    record(ctx, staff, query, action, page.stats.total.received)
    return page


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _num(value: Decimal | None) -> str:
    return "" if value is None else str(value)


CSV_HEADER = ("section", "group", "received", "not_yet_responded", "not_yet_completed",
              "avg_working_days_to_first_response", "avg_working_days_to_completion",
              "overdue")


def to_csv(page: Page) -> str:
    buffer = io.StringIO()
    # A byte order mark makes spreadsheet programs read the file as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    s = page.stats
    writer.writerow(["period", s.period.start.isoformat(), s.period.end.isoformat(),
                     "as_of", s.as_of.isoformat(), "unit", cell(page.unit_name)])
    writer.writerow(CSV_HEADER)

    def line(section: str, group: str, f: Figures) -> None:
        writer.writerow([section, cell(group), f.received, f.not_responded, f.not_completed,
                         _num(f.avg_response), _num(f.avg_completion), f.overdue])

    line("total", "", s.total)
    for table in page.tables:
        for row in table.rows:
            line(table.dimension, row.label, row.figures)
    writer.writerow([])
    writer.writerow(["answers_with_files", "files_with_answers"])
    writer.writerow([s.answers_with_files, s.answer_files])
    writer.writerow([])
    writer.writerow(["limit", "unit", "on_time", "late", "overdue", "running"])
    for lim in page.limits:
        f = lim.figures
        writer.writerow([cell(lim.limit), cell(lim.unit), f.on_time, f.late, f.overdue,
                         f.running])
    writer.writerow([])
    writer.writerow(["kapuas_group", "cases"])
    for label, n in page.kapuas:
        writer.writerow([cell(label), n])
    writer.writerow([])
    writer.writerow(["year", "received", "target_received", "completed", "completed_pct",
                     "target_completed_pct"])
    for t in page.targets:
        writer.writerow([t.year, t.received, "" if t.target_received is None else
                         t.target_received, t.completed, _num(t.completed_pct),
                         "" if t.target_completed_pct is None else t.target_completed_pct])
    return buffer.getvalue()
