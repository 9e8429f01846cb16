"""Review of issue 12 (speed2): the holdings copy (received_on, next_due) must follow a wrap that
*becomes* a unit wrap of the content key by UPDATE. On PostgreSQL the BEFORE trigger
(wbs_wrap_received_on, UPDATE OF case_id, purpose, recipient_kind) sets both columns; on SQLite
the UPDATE trigger of 0211 copies received_on only and 0212 added no UPDATE trigger for
next_due, so such a holding is missing from the overdue / due-within filters on SQLite only.
Equally, a deadline moved to another case (UPDATE OF case_id) refreshes the new case's holdings
but never the old one's, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from wbs import demo as demo_module
from wbs.context import Context
from wbs.models import CaseKeyWrap, Deadline


def _open_min(session: Any, case_id: int) -> Any:
    return session.scalar(select(Deadline.due_on).where(
        Deadline.case_id == case_id, Deadline.met_on.is_(None)).order_by(Deadline.due_on)
        .limit(1))


def test_a_wrap_updated_into_a_unit_content_wrap_takes_the_next_deadline(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    demo_module.bulk(ctx.engine, 20, today=ctx.today(), seed=2)
    with ctx.db.begin() as session:
        wrap = session.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.purpose == "content", CaseKeyWrap.recipient_kind == "unit")
            .order_by(CaseKeyWrap.id)).first()
        assert wrap is not None
        case_id, wrap_id = wrap.case_id, wrap.id
        # Becomes a wrap of another kind; the case's deadlines change meanwhile; then it is a
        # unit wrap again (an UPDATE, not an INSERT).
        session.execute(update(CaseKeyWrap).where(CaseKeyWrap.id == wrap_id).values(
            recipient_kind="user"))
        session.execute(update(Deadline).where(Deadline.case_id == case_id).values(
            met_on=None, due_on=ctx.today() - timedelta(days=3)))
        session.execute(update(CaseKeyWrap).where(CaseKeyWrap.id == wrap_id).values(
            recipient_kind="unit"))
    with ctx.db() as session:
        row = session.get_one(CaseKeyWrap, wrap_id)
        assert row.received_on is not None
        assert row.next_due == _open_min(session, case_id)


def test_a_deadline_moved_to_another_case_leaves_no_stale_next_due(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    demo_module.bulk(ctx.engine, 20, today=ctx.today(), seed=2)
    with ctx.db.begin() as session:
        held = sorted({c for (c,) in session.execute(select(CaseKeyWrap.case_id).where(
            CaseKeyWrap.purpose == "content", CaseKeyWrap.recipient_kind == "unit"))})
        a, b = held[0], held[1]
        session.execute(update(Deadline).where(Deadline.case_id == a).values(
            met_on=None, due_on=ctx.today() - timedelta(days=3)))
        session.execute(update(Deadline).where(Deadline.case_id == a).values(case_id=b))
    with ctx.db() as session:
        for case_id in (a, b):
            for due in session.scalars(select(CaseKeyWrap.next_due).where(
                    CaseKeyWrap.case_id == case_id, CaseKeyWrap.purpose == "content",
                    CaseKeyWrap.recipient_kind == "unit")):
                assert due == _open_min(session, case_id), case_id
