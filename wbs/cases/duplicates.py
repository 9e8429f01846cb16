"""Spotting the same matter reported twice, from metadata only (no decryption).

A case list cannot show titles: that would decrypt every case on the page, for a reader who has
stated no purpose, and put content on a screen anyone passing may see. What is in clear is
enough to point at likely duplicates: two reports of the same kind about the same reported unit,
received within a fortnight of each other, are worth comparing; so are two reports naming no
unit that came the same or the next day through the same channel (a reporter who submitted
twice, or a letter also sent by e-mail). The handler then opens both, with a stated purpose, and
decides: nothing is merged or closed automatically.

Only cases the reader may list are counted or shown (`listing.visible`), so the counts reveal
nothing about cases held by other units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.cases.listing import visible as _visible  # the one rule of who may list a case
from wbs.cases.service import record_denial
from wbs.context import Context
from wbs.enums import Role
from wbs.models import Case, Unit

WINDOW_DAYS = 14  # same reported unit
UNNAMED_WINDOW_DAYS = 1  # no reported unit: same channel, same or next day
MAX_SHOWN = 50
_HANDLERS = (Role.VERIFIER, Role.LIAISON, Role.INVESTIGATOR)


@dataclass(frozen=True)
class Facts:
    case_number: str
    kind: str
    state: str
    channel: str
    received_on: date
    reported_unit_id: int | None
    reported_unit: str | None  # the unit's name


def _like(facts: Facts) -> ColumnElement[bool]:
    """Cases that resemble `facts` (itself excluded)."""
    same = and_(Case.kind == facts.kind, Case.case_number != facts.case_number)
    if facts.reported_unit_id is not None:
        window = timedelta(days=WINDOW_DAYS)
        return and_(same, Case.reported_unit_id == facts.reported_unit_id,
                    Case.received_on.between(facts.received_on - window,
                                             facts.received_on + window))
    window = timedelta(days=UNNAMED_WINDOW_DAYS)
    return and_(same, Case.reported_unit_id.is_(None), Case.channel == facts.channel,
                Case.received_on.between(facts.received_on - window,
                                         facts.received_on + window))


def _facts(session: Session, numbers: list[str]) -> list[Facts]:
    rows = session.execute(
        select(Case.case_number, Case.kind, Case.state, Case.channel, Case.received_on,
               Case.reported_unit_id, Unit.name)
        .outerjoin(Unit, Unit.id == Case.reported_unit_id)
        .where(Case.case_number.in_(numbers))).all()
    return [Facts(*row) for row in rows]


def _may_list(staff: StaffIdentity) -> bool:
    return staff.unit_id is not None and staff.role in _HANDLERS


def page_facts(ctx: Context, staff: StaffIdentity,
               numbers: list[str]) -> dict[str, tuple[str | None, int]]:
    """For each case number of a list page: its reported unit's name and how many visible
    cases resemble it. One round trip for the counts, whatever the page size."""
    if not numbers or not _may_list(staff):
        return {}
    visible = _visible(staff)
    with ctx.read() as session:
        found = _facts(session, numbers)
        counts = {f.case_number: 0 for f in found}
        parts = [select(literal(f.case_number).label("number"), func.count(Case.id).label("n"))
                 .where(visible, _like(f)) for f in found]
        if parts:
            for number, n in session.execute(union_all(*parts)):
                counts[number] = n
    return {f.case_number: (f.reported_unit, counts[f.case_number]) for f in found}


def similar_to(ctx: Context, staff: StaffIdentity, number: str) -> tuple[Facts | None,
                                                                         list[Facts]]:
    """The case (if the reader may list it) and the visible cases that resemble it."""
    if not _may_list(staff):
        return None, []
    visible = _visible(staff)
    with ctx.read() as session:
        own = session.scalars(select(Case.case_number).where(
            visible, Case.case_number == number)).first()
        known = own is not None or session.scalars(select(Case.id).where(
            Case.case_number == number)).first() is not None
    if own is None:
        # Not in this reader's list, or no such case: the same answer, and a trace either way
        # (finding 8.10).
        record_denial(ctx, staff, Permission.CASE_LIST, number if known else None,
                      "not_listed" if known else "unknown_case")
        return None, []
    with ctx.read() as session:
        facts = _facts(session, [number])[0]
        numbers = list(session.scalars(
            select(Case.case_number).where(visible, _like(facts))
            .order_by(Case.received_on.desc(), Case.id.desc()).limit(MAX_SHOWN)))
        return facts, sorted(_facts(session, numbers), key=lambda f: f.received_on,
                             reverse=True) if numbers else []
