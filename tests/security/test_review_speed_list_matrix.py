"""Review of issue 12 (speed2): the staff case list walked from the holdings index must show
exactly the cases access.hidden_from lets each handler see (epoch-0 holders), and its overdue /
due-within filters must agree with the cases' open deadlines after changes of every kind."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from tests.conftest import Clock
from tests.functional import workflow_helpers as wh
from wbs import demo as demo_module
from wbs.access import hidden_from
from wbs.cases import listing
from wbs.cases.service import actor_of, scope_of
from wbs.context import Context
from wbs.models import Case, CaseKeyWrap, Conflict, Deadline, Unit

HANDLERS = ("verifikator", "penghubung.pendidikan", "penghubung.kesehatan", "investigator")


def _walk(ctx: Context, staff: Any, **kw: Any) -> list[str]:
    out: list[str] = []
    page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=17, **kw))
    out += [r.case_number for r in page.rows]
    while page.next_key:
        page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=17, after=page.next_key,
                                                                 **kw))
        out += [r.case_number for r in page.rows]
    return out


def test_list_equals_hidden_from_and_deadline_filters_follow_changes(
        ctx: Context, demo: dict[str, dict[str, str]], clock: Clock) -> None:
    demo_module.bulk(ctx.engine, 160, today=ctx.today(), seed=7)
    staff = {}
    for name in HANDLERS:
        staff[name] = wh.sign_in(ctx, demo, clock, name)
        clock.advance(seconds=31)
    rng = random.Random(3)
    today = ctx.today()
    with ctx.db.begin() as session:
        units = [u for (u,) in session.execute(select(Unit.id))]
        ids = [c for (c,) in session.execute(select(Case.id))]
        for cid in rng.sample(ids, 60):
            session.execute(update(Case).where(Case.id == cid).values(
                reported_unit_id=rng.choice(units), shield_reported_unit=rng.random() < 0.5,
                at_apip=rng.random() < 0.2))
        for cid in rng.sample(ids, 20):  # changed day of receipt
            session.execute(update(Case).where(Case.id == cid).values(
                received_on=today - timedelta(days=rng.randrange(0, 400))))
        for cid in rng.sample(ids, 10):
            session.add(Conflict(case_id=cid, user_id=staff["penghubung.pendidikan"].user_id,
                                 declared_at=ctx.now(), reason="x"))
        dl = [d for (d,) in session.execute(select(Deadline.id))]
        for did in rng.sample(dl, 80):
            choice = rng.random()
            if choice < 0.3:
                session.execute(update(Deadline).where(Deadline.id == did).values(met_on=today))
            elif choice < 0.6:
                session.execute(update(Deadline).where(Deadline.id == did).values(
                    met_on=None, due_on=today + timedelta(days=rng.randrange(-20, 20))))
            else:
                session.execute(delete(Deadline).where(Deadline.id == did))
    seen: dict[str, int] = {}
    for name, who in staff.items():
        with ctx.db() as session:
            expected_all = []
            for case in session.scalars(select(Case)):
                held0 = session.scalar(select(CaseKeyWrap.id).where(
                    CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
                    CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == who.unit_id,
                    CaseKeyWrap.epoch == 0))
                if held0 is None or hidden_from(actor_of(who), scope_of(session, case)):
                    continue
                due = session.scalar(select(Deadline.due_on).where(
                    Deadline.case_id == case.id, Deadline.met_on.is_(None))
                    .order_by(Deadline.due_on).limit(1))
                expected_all.append((case.case_number, due))
        assert sorted(_walk(ctx, who)) == sorted(n for n, _ in expected_all), name
        seen[name] = len(expected_all)
        assert sorted(_walk(ctx, who, overdue=True)) == sorted(
            n for n, d in expected_all if d is not None and d < today), name
        assert sorted(_walk(ctx, who, due_within=5)) == sorted(
            n for n, d in expected_all if d is not None and d <= today + timedelta(days=5)), name
    assert all(seen.values()), seen
