"""The two dates the statistics measure, set by the acts that cause them (RULES §8).

A case's *first response* is the first thing a person on the Pemda's side tells the reporter (a
question, a message or an answer) or, failing that, its outcome: archiving or forwarding is what
the reporter is told then. It is *completed* when it reaches an outcome (closed, archived or
forwarded). Both are stored with the working days they took, counted by the calendar in force
that day (RULES §5, `wbs.cases.sla`), so a figure, like a deadline, does not change when the
calendar is corrected afterwards, and the statistics stay one pass over the cases table.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from wbs.cases import deadlines
from wbs.models import Case

OUTCOME_STATES = frozenset({"closed", "archived", "forwarded"})


def mark_response(session: Session, case: Case, today: date) -> None:
    if case.first_response_on is None:
        case.first_response_on = today
        case.response_wd = deadlines.load_calendar(session).working_days_between(
            case.received_on, today)


def mark_state(session: Session, case: Case, state: str, today: date) -> None:
    """Called with every state change: an outcome completes the case (once)."""
    if state in OUTCOME_STATES and case.completed_on is None:
        mark_response(session, case, today)
        case.completed_on = today
        case.completion_wd = deadlines.load_calendar(session).working_days_between(
            case.received_on, today)
