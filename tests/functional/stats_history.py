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

from wbs.context import Context
from wbs.models import Case, CaseTask, Deadline, Unit
from wbs.reports import marks
from wbs.reports.tables import CaseCategory, StatTarget


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


def build_history(ctx: Context) -> dict[str, int]:
    """The history of the module docstring of tests/functional/test_statistics.py."""
    with ctx.db.begin() as s:
        ids = {slug: unit(s, "st-" + slug) for slug in ("dinas-a", "dinas-b")}
        ids["apip"] = unit(s, "st-apip", "apip")
        ids["verifier"] = unit(s, "st-verifier", "verifier_team")
        # Own categories: the PostgreSQL harness empties every table, the seeded list too.
        rows = [CaseCategory(slug=f"test-{x}", name_id=x, name_en=x, active=True, position=0)
                for x in ("a", "b")]
        s.add_all(rows)
        s.flush()
        cat_a, cat_b = rows[0].id, rows[1].id
        ids["cat_a"], ids["cat_b"] = cat_a, cat_b
        v = ids["verifier"]
        specs = [
            Spec("C1", d(3, 2), "complaint", "web", "closed", "no_oversight", cat_a,
                 ("dinas-a",), d(3, 5), d(3, 17)),
            Spec("C2", d(3, 16), "complaint", "letter", "closed", "no_oversight", cat_a,
                 ("dinas-a", "dinas-b"), d(3, 25), d(3, 30)),
            Spec("C3", d(3, 17), "information_request", "web", "answered", "other", cat_b,
                 ("dinas-b",), d(3, 26), None),
            Spec("C4", d(3, 10), "aspiration", "web", "archived", None, None, (), d(3, 13),
                 d(3, 13)),
            Spec("C5", d(3, 25), "complaint", "web", "in_process", "no_oversight", cat_b,
                 ("dinas-a",), None, None),
            Spec("C6", d(3, 27), "complaint", "sms", "received", None, None, (), None, None),
            Spec("C7", d(3, 30), "complaint", "web", "closed", None, None, (), d(4, 2), d(4, 8)),
            Spec("C8", d(4, 1), "complaint", "web", "received", None, None, (), None, None),
            Spec("C9", d(3, 5), "whistleblowing", "web", "in_process", "needs_oversight", None,
                 ("apip",), d(3, 11), None),
            Spec("C10", d(2, 27), "complaint", "web", "closed", None, None, (), d(3, 3),
                 d(3, 3)),
        ]
        cases = {}
        for n, spec in enumerate(specs, 1):
            cases[spec.name] = add_case(s, spec, v, ids, n)
        c = {k: v[0] for k, v in cases.items()}
        t = {k: v[1] for k, v in cases.items()}
        deadline(s, c["C1"], "verification", "verification", d(3, 2), d(3, 5), d(3, 4))
        deadline(s, c["C1"], "answer", "answer_14", d(3, 4), d(3, 31), d(3, 5), t["C1"]["dinas-a"])
        deadline(s, c["C2"], "answer", "answer_14", d(3, 17), d(4, 10), d(3, 25),
                 t["C2"]["dinas-a"])
        deadline(s, c["C2"], "answer", "answer_14", d(3, 17), d(4, 10), None, t["C2"]["dinas-b"])
        deadline(s, c["C3"], "answer", "answer_5", d(3, 17), d(3, 25), d(3, 26),
                 t["C3"]["dinas-b"])
        # The reporter's own window is not a limit of the Pemda: never counted.
        deadline(s, c["C4"], "missing_data", "missing_data", d(3, 10), d(3, 24), None)
        deadline(s, c["C5"], "answer", "answer_14", d(3, 25), d(3, 27), None, t["C5"]["dinas-a"])
        deadline(s, c["C6"], "verification", "verification", d(3, 27), d(4, 1), None)
        deadline(s, c["C7"], "verification", "verification", d(3, 30), d(4, 2), d(4, 2))
        deadline(s, c["C9"], "answer", "answer_60", d(3, 5), d(6, 1), None, t["C9"]["apip"])
        s.add(StatTarget(year=2026, received=76, completed_pct=100))
    return ids
