"""Work notices to staff: created with the act that causes them, delivered by the jobs.

A notice carries a case number, a kind and a due date: never content, identity or reporter data.

A notice caused by a reporter (a new report, supplied data, an objection) would, if it appeared
at once in a staff inbox or mailbox, tell its reader when the reporter acted. It is held until
the next batch time of the day (`WBS_NOTICE_BATCH_TIMES`, by default 08:00, 12:00 and 15:00
local): the inbox shows it from then, and the e-mail goes out with that time as its date. Rows
keep dates only (`created_on`, `done_on`); `batch_at` is the batch time, which the e-mail
shows its reader anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import Session

from wbs import row_ids
from wbs.context import Context
from wbs.models import Case, Conflict, Notice, User
from wbs.paging import make_key, parse_key

KINDS = ("new_task", "returned", "reminder", "overdue", "escalation", "info_supplied",
         "objection", "identity_request", "reporter_message", "response")


def next_batch(now: datetime, zone: str, times: tuple[time, ...]) -> datetime:
    """The first batch time of day strictly after `now`, in the local zone (aware)."""
    local = now.astimezone(ZoneInfo(zone))
    for days in range(2):
        day = local.date() + timedelta(days=days)
        for at in sorted(times):
            # fold=0 and ZoneInfo give the wall-clock instant; Indonesia keeps no summer time.
            moment = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
            if moment > local:
                return moment
    raise ValueError("no notice batch times configured")


def released(now: datetime) -> ColumnElement[bool]:
    """Notices that may be shown and sent now: not held, or their batch time has come."""
    return or_(Notice.batch_at.is_(None), Notice.batch_at <= now)


def notify_unit(session: Session, ctx: Context, case: Case, unit_id: int, kind: str,
                due_on: date | None, *, reporter: bool = False) -> int:
    """One notice per active member of the unit; returns how many were created.

    `reporter=True` for a notice a reporter's act causes: it is held until the next batch time.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind}")
    conflicted = select(Conflict.user_id).where(Conflict.case_id == case.id)
    members = session.scalars(select(User.id).where(
        User.unit_id == unit_id, User.active.is_(True), User.id.not_in(conflicted))).all()
    today = ctx.today()
    # Stored in UTC: SQLite keeps datetimes as text without their offset.
    batch_at = (next_batch(ctx.now(), ctx.settings.timezone, ctx.settings.notice_batch_times)
                .astimezone(UTC) if reporter else None)
    created = 0
    # A case made in this session has no notices yet (intake): nothing to look up.
    fresh = row_ids.is_new_case(session, case.id)
    for user_id in members:
        same = [] if fresh else session.scalars(select(Notice).where(
            Notice.user_id == user_id, Notice.case_id == case.id, Notice.kind == kind,
            Notice.due_on == due_on if due_on else Notice.due_on.is_(None))).all()
        pending = [n for n in same if n.done_on is None]
        if pending:
            if not reporter:
                # A staff act needs the notice now; releasing a held one early says nothing
                # about the reporter (it happens at the staff member's time).
                for notice in pending:
                    notice.batch_at = None
            continue  # still pending: one notice is enough
        if same:
            # Dealt with before and needed again (a second return, new data): reopen it, so
            # the (user, case, kind, due) row stays unique.
            notice = same[0]
            notice.done_on, notice.emailed_at, notice.created_on = None, None, today
            notice.batch_at = batch_at
        else:
            session.add(Notice(user_id=user_id, case_id=case.id, kind=kind, due_on=due_on,
                               created_on=today, batch_at=batch_at))
        created += 1
    return created


def resolve_for_case(session: Session, ctx: Context, case: Case,
                     unit_id: int | None = None) -> None:
    """Mark a case's open notices done (for one unit's members, or all)."""
    query = select(Notice).where(Notice.case_id == case.id, Notice.done_on.is_(None))
    if unit_id is not None:
        query = query.where(Notice.user_id.in_(select(User.id).where(User.unit_id == unit_id)))
    for notice in session.scalars(query):
        notice.done_on = ctx.today()


@dataclass(frozen=True)
class InboxItem:
    case_number: str
    kind: str
    due_on: date | None
    overdue: bool


# The inbox, one page at a time (issue 12): ordered by due date (the ones without one last),
# then row id, and the next page found by the key of the last item shown, a date and a row id.
# A notice with no due date sorts as if due on the last day there is.
PER_PAGE = 50
_NO_DUE = date(9999, 12, 31)


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_key: str  # "" on the last page
    prev_key: str  # "" on the first page


def _make_key(due_on: date | None, notice_id: int) -> str:
    return make_key(due_on or _NO_DUE, notice_id)


def inbox_page(ctx: Context, user_id: int, *, after: str = "", before: str = "",
               per_page: int = PER_PAGE) -> InboxPage:
    """One page of pending work for one user: overdue first, then by due date."""
    today = ctx.today()
    due = func.coalesce(Notice.due_on, _NO_DUE)
    position = tuple_(due, Notice.id)
    query = (select(Case.case_number, Notice.kind, Notice.due_on, Notice.id)
             .join(Case, Case.id == Notice.case_id)
             .where(Notice.user_id == user_id, Notice.done_on.is_(None), released(ctx.now())))
    start, end = parse_key(after), parse_key(before)
    if start is not None:
        query = query.where(position > tuple_(*start)).order_by(due, Notice.id)
    elif end is not None:
        # The page before: walk back from its first item, then turn the rows round.
        query = query.where(position < tuple_(*end)).order_by(due.desc(), Notice.id.desc())
    else:
        query = query.order_by(due, Notice.id)
    with ctx.read() as session:
        fetched = session.execute(query.limit(per_page + 1)).all()
    more = len(fetched) > per_page
    rows = list(fetched[:per_page])
    if end is not None:
        rows.reverse()
    items = [InboxItem(number, kind, due_on, due_on is not None and due_on < today)
             for number, kind, due_on, _id in rows]
    has_next = more if end is None else True
    has_prev = (start is not None) if end is None else more
    return InboxPage(items,
                     _make_key(rows[-1][2], rows[-1][3]) if rows and has_next else "",
                     _make_key(rows[0][2], rows[0][3]) if rows and has_prev else "")


def inbox(ctx: Context, user_id: int, limit: int = PER_PAGE) -> list[InboxItem]:
    """The first page of pending work for one user: overdue first, then by due date."""
    return inbox_page(ctx, user_id, per_page=limit).items
