"""An administrator's calendar days and deadline rules: each change is one audited row, a day can
be changed again or removed (removing nothing records nothing), a rule returns to the
regulation's value by being set to it, and values the rules cannot take are refused unrecorded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from wbs.cases import calendar_admin as admin
from wbs.context import Context
from wbs.models import AuditEntry, CalendarOverrideRow, DeadlineRuleRow

DAY = date(2026, 8, 18)


def _audited(ctx: Context, action: str) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count(AuditEntry.seq))
                              .where(AuditEntry.action == action)) or 0


def _view(ctx: Context, key: str) -> admin.RuleView:
    return next(v for v in admin.rules(ctx) if v.key == key)


def test_a_day_is_changed_again_and_removed_once(ctx: Context, demo: Any) -> None:
    with pytest.raises(admin.InvalidSetting, match="label_required"):
        admin.set_override(ctx, "admin", "administrator", DAY, False, "  \n ")
    admin.set_override(ctx, "admin", "administrator", DAY, False, "Cuti  bersama")
    admin.set_override(ctx, "admin", "administrator", DAY, True, "Hari kerja pengganti")
    [row] = admin.overrides(ctx)
    assert (row.day, row.working, row.label) == (DAY, True, "Hari kerja pengganti")
    assert _audited(ctx, "config.calendar") == 2
    assert admin.remove_override(ctx, "admin", "administrator", DAY) is True
    assert admin.remove_override(ctx, "admin", "administrator", DAY) is False
    assert _audited(ctx, "config.calendar_remove") == 1
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(CalendarOverrideRow)) == 0


def test_a_rule_is_changed_again_and_set_back_to_the_regulation(ctx: Context, demo: Any) -> None:
    default = _view(ctx, "answer_14")
    admin.set_rule(ctx, "admin", "administrator", "answer_14", default.amount + 5,
                   default.unit, "receipt")
    admin.set_rule(ctx, "admin", "administrator", "answer_14", default.amount + 6,
                   default.unit)  # the start stays as it was set
    view = _view(ctx, "answer_14")
    assert (view.amount, view.start, view.overridden) == (default.amount + 6, "receipt", True)
    # Naming the default start is the same as naming none.
    admin.set_rule(ctx, "admin", "administrator", "answer_14", default.amount, default.unit,
                   default.default_start)
    assert _view(ctx, "answer_14") == default
    with ctx.read() as session:
        assert session.get(DeadlineRuleRow, "answer_14") is None
    assert _audited(ctx, "config.rule") == 3


@pytest.mark.parametrize(("key", "amount", "unit", "start", "code"), [
    ("answer_14", 14, "fortnights", None, "unknown_unit"),
    ("answer_14", 14, "working_days", "answer", "unknown_start"),
    ("verification", 3, "working_days", "disposition", "unknown_start"),
    ("answer_14", 0, "working_days", None, "amount_out_of_range"),
    ("answer_14", 366, "working_days", None, "amount_out_of_range"),
    ("no_such_rule", 5, "working_days", None, "unknown_rule"),
])
def test_values_a_rule_cannot_take_are_refused_unrecorded(ctx: Context, demo: Any, key: str,
                                                          amount: int, unit: str,
                                                          start: str | None, code: str) -> None:
    with pytest.raises(admin.InvalidSetting) as refused:
        admin.set_rule(ctx, "admin", "administrator", key, amount, unit, start)
    assert refused.value.code == code
    assert _audited(ctx, "config.rule") == 0
