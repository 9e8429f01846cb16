"""What a reporter's message sets in motion (RULES §5, §6; issue 10).

Every message reaches the unit holding the case: on a case waiting for data it supplies the
data; on an answered case it is a response, which stops the automatic closing and sends the
case back to the units that answered; otherwise it is a plain message, and the units working
on the case (the verifier team before a disposition, APIP for a case at APIP) are told. The
notices are reporter-caused, so they wait for the next batch time (`wbs.notices`): their time
never says when the reporter wrote.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import notices
from wbs.cases import routing
from wbs.context import Context
from wbs.enums import CaseState, UnitKind
from wbs.models import Case, CaseKeyWrap, CaseTask, Unit


def kind_of_message(case: Case) -> str:
    """The kind a reporter's message is stored as: a response after an answer."""
    return "response" if case.state == CaseState.ANSWERED.value else "message"


def holders(session: Session, case: Case) -> list[int]:
    """The units that hold the case now: APIP for a case at APIP; else the units whose tasks
    are open and who still hold the key; else, before a disposition, the receiving team."""
    if case.at_apip:
        return list(session.scalars(select(Unit.id).where(Unit.kind == UnitKind.APIP.value)
                                    .order_by(Unit.id)))
    keyed = select(CaseKeyWrap.recipient_id).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit")
    working = sorted(set(session.scalars(select(CaseTask.unit_id).where(
        CaseTask.case_id == case.id, CaseTask.state.in_(routing.OPEN_TASK),
        CaseTask.unit_id.in_(keyed)))))
    return working or [case.receiving_unit_id]


def after_message(session: Session, ctx: Context, case: Case) -> None:
    """Called in the transaction that stored the message, with the case row locked."""
    if routing.reporter_supplied_info(session, ctx, case):
        return  # the holder is told the data came ("info_supplied")
    if routing.reporter_responded(session, ctx, case):
        return  # the answering units are told ("response")
    for unit_id in holders(session, case):
        notices.notify_unit(session, ctx, case, unit_id, "reporter_message", None,
                            reporter=True)
