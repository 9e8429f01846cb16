"""Work notices to staff: created with the act that causes them, delivered by the jobs.

A notice carries a case number, a kind and a due date: never content, identity or reporter data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs.context import Context
from wbs.models import Case, Conflict, Notice, User

KINDS = ("new_task", "returned", "reminder", "overdue", "escalation", "info_supplied",
         "objection", "identity_request")


def notify_unit(session: Session, ctx: Context, case: Case, unit_id: int, kind: str,
                due_on: date | None) -> int:
    """One notice per active member of the unit; returns how many were created."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind}")
    conflicted = select(Conflict.user_id).where(Conflict.case_id == case.id)
    members = session.scalars(select(User.id).where(
        User.unit_id == unit_id, User.active.is_(True), User.id.not_in(conflicted))).all()
    # Day precision: a notice caused by a reporter's act must not record when they acted.
    stamp = ctx.now().replace(hour=0, minute=0, second=0, microsecond=0)
    created = 0
    for user_id in members:
        same = session.scalars(select(Notice).where(
            Notice.user_id == user_id, Notice.case_id == case.id, Notice.kind == kind,
            Notice.due_on == due_on if due_on else Notice.due_on.is_(None))).all()
        if any(n.done_at is None for n in same):
            continue  # still pending: one notice is enough
        if same:
            # Dealt with before and needed again (a second return, new data): reopen it, so
            # the (user, case, kind, due) row stays unique.
            same[0].done_at, same[0].emailed_at, same[0].created_at = None, None, stamp
        else:
            session.add(Notice(user_id=user_id, case_id=case.id, kind=kind, due_on=due_on,
                               created_at=stamp))
        created += 1
    return created


def resolve_for_case(session: Session, ctx: Context, case: Case,
                     unit_id: int | None = None) -> None:
    """Mark a case's open notices done (for one unit's members, or all)."""
    query = select(Notice).where(Notice.case_id == case.id, Notice.done_at.is_(None))
    if unit_id is not None:
        query = query.where(Notice.user_id.in_(select(User.id).where(User.unit_id == unit_id)))
    for notice in session.scalars(query):
        notice.done_at = ctx.now()


@dataclass(frozen=True)
class InboxItem:
    case_number: str
    kind: str
    due_on: date | None
    overdue: bool


def inbox(ctx: Context, user_id: int, limit: int = 100) -> list[InboxItem]:
    """Pending work for one user: overdue first, then by due date."""
    today = ctx.today()
    with ctx.read() as session:
        rows = session.execute(
            select(Case.case_number, Notice.kind, Notice.due_on)
            .join(Case, Case.id == Notice.case_id)
            .where(Notice.user_id == user_id, Notice.done_at.is_(None))
            .order_by(Notice.due_on.is_(None), Notice.due_on, Notice.id).limit(limit)).all()
    items = [InboxItem(number, kind, due, due is not None and due < today)
             for number, kind, due in rows]
    return sorted(items, key=lambda i: (not i.overdue, i.due_on is None, i.due_on or today))
