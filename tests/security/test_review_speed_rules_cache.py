"""Review of issue 12 (speed2): the per-process rules cache and its per-transaction memo.

`deadlines.rules_snapshot` memoises the snapshot on the session for the whole (root)
transaction. A change to the rules made in that transaction after a first read, or a change
read inside a savepoint that is then rolled back, leaves the memo out of step with what the
transaction itself sees in the tables.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from wbs.cases import deadlines
from wbs.context import Context
from wbs.models import CalendarOverrideRow, DeadlineRuleRow


def test_a_rule_changed_in_the_same_transaction_is_seen_by_the_next_read(ctx: Context) -> None:
    with ctx.db.begin() as session:
        first = deadlines.load_rules(session)["verification"]
        session.add(DeadlineRuleRow(key="verification", amount=first.amount + 3,
                                    unit=first.unit.value, start=None))
        session.flush()
        # What the tables say now, built without the cache:
        from wbs.profiles import store
        assert store.in_force(session).rules["verification"].amount == first.amount + 3
        # What the cached path says in the same transaction:
        assert deadlines.load_rules(session)["verification"].amount == first.amount + 3


def test_a_rolled_back_savepoint_does_not_leave_its_calendar_in_the_transaction(
        ctx: Context) -> None:
    day = date(2031, 3, 4)  # a Tuesday
    with ctx.db.begin() as session:
        session.execute(select(1))
        nested = session.begin_nested()
        session.add(CalendarOverrideRow(day=day, working=False, label="savepoint"))
        session.flush()
        assert not deadlines.load_calendar(session).is_working_day(day)
        nested.rollback()
        assert session.get(CalendarOverrideRow, day) is None
        assert deadlines.load_calendar(session).is_working_day(day)
