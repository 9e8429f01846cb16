"""A generated case history for the statistics tests, written as rows (metadata only: the
statistics never read content, so the sealed columns hold placeholders).

March 2026 holds Nyepi and Idul Fitri with their cuti bersama: 18 to 24 March are not working
days. Every working-day figure below was counted by hand on that calendar and is written in
the tests as a literal.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from wbs.models import Case, CaseTask, Deadline, Unit
from wbs.reports import marks


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@dataclass(frozen=True)
class Spec:
    name: str
    received: date
    kind: str
    channel: str
    state: str
    classification: str | None
    category: int | None
    units: tuple[str, ...]
    responded: date | None
    completed: date | None


def unit(session: Session, slug: str, kind: str = "agency") -> int:
    row = Unit(slug=slug, name=slug.replace("-", " ").title(), kind=kind, public_key=b"k" * 32,
               created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(row)
    session.flush()
    return row.id


def add_case(session: Session, spec: Spec, receiving: int, units: dict[str, int],
             number: int) -> tuple[Case, dict[str, int]]:
    case = Case(case_number=f"WBS-{number:05d}", lookup_hash=secrets.token_bytes(32),
                reporter_salt=secrets.token_bytes(16), kind=spec.kind, channel=spec.channel,
                state=spec.state, received_on=spec.received, receiving_unit_id=receiving,
                classification=spec.classification, category_id=spec.category,
                report_sealed=b"sealed", report_digest=b"d" * 32)
    session.add(case)
    session.flush()
    # The same hooks the workflow calls set the dates and their working days.
    if spec.responded is not None:
        marks.mark_response(session, case, spec.responded)
    if spec.completed is not None:
        marks.mark_state(session, case, "closed", spec.completed)
    tasks = {}
    for slug in spec.units:
        task = CaseTask(case_id=case.id, unit_id=units[slug], state="open",
                        assigned_on=spec.received)
        session.add(task)
        session.flush()
        tasks[slug] = task.id
    return case, tasks


def deadline(session: Session, case: Case, kind: str, rule_key: str, start: date, due: date,
             met: date | None, task: int | None = None) -> None:
    session.add(Deadline(case_id=case.id, task_id=task, kind=kind, rule_key=rule_key,
                         start_on=start, due_on=due, met_on=met))
