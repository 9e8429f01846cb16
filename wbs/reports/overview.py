"""The leadership's overview: how many cases of each kind are in each state, and how many are
overdue (RULES §8: received, not yet responded to, not yet completed).

Counts over clear metadata only. Leadership never reads content (RULES §1): nothing here opens a
key, and the numbers cannot be narrowed to a single case (no case number, no unit, no date
finer than the whole record). Viewing it is recorded, like the staff activity summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.enums import CaseState, ReportKind
from wbs.models import Case, Deadline

KINDS = tuple(k.value for k in ReportKind)
STATES = tuple(s.value for s in CaseState)
FINISHED = frozenset({CaseState.CLOSED.value, CaseState.ARCHIVED.value,
                      CaseState.FORWARDED.value})


@dataclass(frozen=True)
class Overview:
    as_of: date
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) → n
    overdue: dict[str, int] = field(default_factory=dict)  # kind → cases past a deadline

    def cell(self, kind: str, state: str) -> int:
        return self.counts.get((kind, state), 0)

    def kind_total(self, kind: str) -> int:
        return sum(n for (k, _s), n in self.counts.items() if k == kind)

    def state_total(self, state: str) -> int:
        return sum(n for (_k, s), n in self.counts.items() if s == state)

    def open_total(self, kind: str | None = None) -> int:
        """Not yet completed: every state but closed, archived and forwarded."""
        return sum(n for (k, s), n in self.counts.items()
                   if s not in FINISHED and (kind is None or k == kind))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())


def compute(session: Session, today: date) -> Overview:
    counts = {(kind, state): n for kind, state, n in session.execute(
        select(Case.kind, Case.state, func.count(Case.id)).group_by(Case.kind, Case.state))}
    # A case is overdue when one of its open obligations is past its day; counted once
    # however many deadlines it has missed.
    overdue: dict[str, int] = {}
    for kind, n in session.execute(
            select(Case.kind, func.count(distinct(Case.id)))
            .join(Deadline, Deadline.case_id == Case.id)
            .where(Deadline.met_on.is_(None), Deadline.due_on < today)
            .group_by(Case.kind)):
        overdue[kind] = n
    return Overview(as_of=today, counts=counts, overdue=overdue)


def view(ctx: Context, staff: StaffIdentity) -> Overview:
    """The overview, recorded as viewed by `staff` in the same transaction."""
    today = ctx.today()
    with ctx.db.begin() as session:
        result = compute(session, today)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="stats.overview_view",
                     details={"as_of": today.isoformat(), "cases": result.total},
                     now=ctx.now())
    return result
