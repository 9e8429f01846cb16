"""Review of the late merges (speed-fix, rules memo): the memo is dropped after a flush or a
statement that writes to the rules, but a change still pending in the session (added, not yet
flushed) is not read back: the memo answers without a query, so the autoflush that any read of
the tables would do never happens, and the transaction reads rules that differ from its own."""

from __future__ import annotations

from wbs.cases import deadlines
from wbs.context import Context
from wbs.models import DeadlineRuleRow
from wbs.profiles import store


def test_review_late_a_pending_rule_change_is_read_back_by_the_memo(ctx: Context) -> None:
    with ctx.db.begin() as session:
        first = deadlines.load_rules(session)["verification"]
        session.add(DeadlineRuleRow(key="verification", amount=first.amount + 3,
                                    unit=first.unit.value, start=None))
        # No explicit flush: a plain read of the tables autoflushes and sees the change.
        assert store.in_force(session).rules["verification"].amount == first.amount + 3
        session.rollback()
    with ctx.db.begin() as session:
        first = deadlines.load_rules(session)["verification"]
        session.add(DeadlineRuleRow(key="verification", amount=first.amount + 3,
                                    unit=first.unit.value, start=None))
        # The cached path, in the same transaction, with the same pending change:
        assert deadlines.load_rules(session)["verification"].amount == first.amount + 3
        session.rollback()
