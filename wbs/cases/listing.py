"""The staff case list, one page at a time, in time that does not grow with the database.

A page is found by its key, not by its number: the list is ordered by `(received_on, id)`
newest first, and the next page is "the 50 cases before the last one shown" (keyset
pagination), which the index `ix_cases_received_id` answers by walking 51 entries. OFFSET would
sort and skip every case in front of the page (issue 12: 2.6 s for page 10,000 of a million).
The links carry only that key, a date and a row id, never anything of the report.

The overdue and due-within filters ask whether a case has an open deadline before a date (a
semi-join the partial index `ix_deadlines_open_due` answers), instead of computing every case's
next deadline and comparing it. The next deadline is computed for the 50 rows of the page only,
after the LIMIT. The number of matching cases is counted up to `COUNT_CAP` and shown as "more
than 1,000" beyond: an exact count of a million rows on every view cost 0.75 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import exists, func, literal, select, tuple_

from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.enums import ReportKind, Role
from wbs.models import Case, CaseKeyWrap, CaseTask, Conflict, Deadline, Unit
from wbs.paging import make_key, parse_key

COUNT_CAP = 1000
PER_PAGE = 50


@dataclass(frozen=True)
class CaseRow:
    case_number: str
    kind: str
    state: str
    received_on: date
    channel: str
    next_due: date | None
    key: str  # where this row stands in the list: the value of a page link


@dataclass(frozen=True)
class CaseFilter:
    state: str = ""
    kind: str = ""
    unit: str = ""  # slug: cases dispositioned to this unit
    overdue: bool = False
    due_within: int | None = None  # days
    after: str = ""  # the key of the last row of the previous page: the page after it
    before: str = ""  # the key of the first row of the next page: the page before it
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    # Matching cases, at most COUNT_CAP + 1; counted on the first page of a filter only (the
    # pages after it would count the same cases again), None on the others.
    count: int | None
    next_key: str  # "" when this is the last page
    prev_key: str  # "" when this is the first page

    @property
    def count_capped(self) -> bool:
        return self.count is not None and self.count > COUNT_CAP


def _holds(staff: StaffIdentity) -> tuple[Any, ...]:
    # The two constants as literals, not parameters: a plan prepared for any parameter could
    # not use the partial index of the unit wraps of the content key (ix_case_key_wraps_unit_list).
    return (CaseKeyWrap.purpose == literal("content", literal_execute=True),
            CaseKeyWrap.recipient_kind == literal("unit", literal_execute=True),
            CaseKeyWrap.recipient_id == staff.unit_id,
            # Every holder holds epoch 0 (issue 13): one row per case, so counts stay exact.
            CaseKeyWrap.epoch == 0)


def visible(staff: StaffIdentity, *, held: bool = True) -> Any:
    """The cases a staff member's unit holds a content key for, minus conflicts and the
    reported unit, and (for verifiers) minus anything at APIP. Metadata only.

    A page is written as a correlated EXISTS, so that it walks the list's index and probes the
    wraps' index per case. A count (`held=False`: the caller joins the unit's wraps itself)
    has no order to keep and walks the unit's own wraps (`ix_case_key_wraps_holder`) until
    the cap, which for a unit holding few of the cases is far fewer rows than the list."""
    # The reported unit is kept out as access.reported_unit_excluded says (RULES §6): a plain
    # complaint goes to the unit it names, and that unit lists it once it holds it.
    excluded = ((Case.kind == ReportKind.WHISTLEBLOWING.value) | Case.at_apip.is_(True)
                | Case.shield_reported_unit.is_(True))
    condition: Any = (Case.reported_unit_id.is_(None) | (Case.reported_unit_id != staff.unit_id)
                      | ~excluded)
    if held:
        condition = condition & exists().where(CaseKeyWrap.case_id == Case.id, *_holds(staff))
    conflicted = exists().where(Conflict.case_id == Case.id, Conflict.user_id == staff.user_id)
    condition = condition & ~conflicted
    if staff.role is Role.VERIFIER:
        condition = condition & (Case.kind != ReportKind.WHISTLEBLOWING.value) & (
            Case.at_apip.is_(False))
    return condition


def _condition(staff: StaffIdentity, f: CaseFilter, today: date, *, held: bool = True) -> Any:
    condition = visible(staff, held=held)
    if f.state:
        condition = condition & (Case.state == f.state)
    if f.kind:
        condition = condition & (Case.kind == f.kind)
    if f.unit:
        condition = condition & exists().where(
            CaseTask.case_id == Case.id, CaseTask.unit_id == Unit.id, Unit.slug == f.unit)
    if f.overdue:
        condition = condition & (_next_due(held) < today)
    if f.due_within is not None:
        condition = condition & (_next_due(held) <= today + timedelta(days=f.due_within))
    return condition


def _next_due(held: bool) -> Any:
    """The case's next open deadline: read from the holding's index entry when the query
    walks the unit's holdings (`held=False`: the caller joins them), else from the case's
    open deadlines."""
    if not held:
        return CaseKeyWrap.next_due
    return (select(func.min(Deadline.due_on))
            .where(Deadline.case_id == Case.id, Deadline.met_on.is_(None)).scalar_subquery())


def list_cases(ctx: Context, staff: StaffIdentity, filters: CaseFilter | None = None) -> CasePage:
    """One page of the cases this user may see, newest first."""
    f = filters or CaseFilter()
    if staff.unit_id is None or staff.role not in (Role.VERIFIER, Role.LIAISON,
                                                   Role.INVESTIGATOR):
        return CasePage([], 0, "", "")
    today = ctx.today()
    # Walked from the unit's wraps in list order (ix_case_key_wraps_unit_list): the cases the
    # unit holds, newest first, each checked against the rest of the condition by its key.
    condition = _condition(staff, f, today, held=False)
    after, before = parse_key(f.after), parse_key(f.before)
    held_on, held_id = CaseKeyWrap.received_on, CaseKeyWrap.case_id
    position = tuple_(held_on, held_id)
    base = (select(held_id.label("id"), held_on.label("received_on"))
            .join(Case, Case.id == held_id).where(*_holds(staff), condition))
    if after is not None:
        ids = base.where(position < tuple_(*after)).order_by(held_on.desc(), held_id.desc())
    elif before is not None:
        # The page before: walk the other way from its first row, then turn the rows round.
        ids = base.where(position > tuple_(*before)).order_by(held_on.asc(), held_id.asc())
    else:
        ids = base.order_by(held_on.desc(), held_id.desc())
    # One more than the page shows: whether there is a page beyond it.
    page = ids.limit(f.per_page + 1).subquery("page")
    next_due = (select(func.min(Deadline.due_on))
                .where(Deadline.case_id == page.c.id, Deadline.met_on.is_(None))
                .scalar_subquery())
    query = (select(Case.case_number, Case.kind, Case.state, Case.received_on, Case.channel,
                    next_due, Case.id)
             .join(page, page.c.id == Case.id))
    with ctx.read() as session:
        fetched = list(session.execute(query))
        count = None
        if after is None and before is None:
            counted = (select(Case.id).select_from(CaseKeyWrap)
                       .join(Case, Case.id == CaseKeyWrap.case_id)
                       .where(*_holds(staff), _condition(staff, f, today, held=False))
                       .limit(COUNT_CAP + 1).subquery())
            count = session.scalar(select(func.count()).select_from(counted)) or 0
    fetched.sort(key=lambda r: (r.received_on, r.id), reverse=True)
    more = len(fetched) > f.per_page
    if before is not None:
        fetched = fetched[-f.per_page:] if more else fetched
    else:
        fetched = fetched[:f.per_page]
    rows = [CaseRow(r.case_number, r.kind, r.state, r.received_on, r.channel, r[5],
                    make_key(r.received_on, r.id)) for r in fetched]
    has_next = more if before is None else True
    has_prev = (after is not None) if before is None else more
    return CasePage(rows, count,
                    rows[-1].key if rows and has_next else "",
                    rows[0].key if rows and has_prev else "")

