"""Administrator settings for deadlines: calendar overrides and a Pemda's own rules (RULES §5).

Regional holidays and changed cuti bersama are not in the `holidays` package; a Pemda may also
set its own limits (Jayapura: missing data within 30 calendar days). Every change is audited.
Changes apply to deadlines opened afterwards; open deadlines keep the date they were given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from wbs import audit
from wbs.cases.sla import (
    DEFAULT_RULES,
    DEFAULT_START,
    START_CHOICES,
    DayUnit,
    DeadlineRule,
    meets_floor,
)
from wbs.context import Context
from wbs.models import CalendarOverrideRow, DeadlineRuleRow


class InvalidSetting(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RuleView:
    key: str
    amount: int
    unit: str
    default_amount: int
    default_unit: str
    overridden: bool


def set_override(ctx: Context, actor: str, role: str, day: date, working: bool,
                 label: str) -> None:
    text = " ".join(label.split())[:200]
    if not text:
        raise InvalidSetting("label_required")
    with ctx.db.begin() as session:
        row = session.get(CalendarOverrideRow, day)
        if row is None:
            session.add(CalendarOverrideRow(day=day, working=working, label=text))
        else:
            row.working, row.label = working, text
        audit.record(session, ctx.audit_keys, actor=actor, role=role, action="config.calendar",
                     details={"day": day.isoformat(), "working": working, "label": text},
                     now=ctx.now())


def remove_override(ctx: Context, actor: str, role: str, day: date) -> bool:
    with ctx.db.begin() as session:
        row = session.get(CalendarOverrideRow, day)
        if row is None:
            return False
        session.delete(row)
        audit.record(session, ctx.audit_keys, actor=actor, role=role,
                     action="config.calendar_remove", details={"day": day.isoformat()},
                     now=ctx.now())
        return True


def overrides(ctx: Context) -> list[CalendarOverrideRow]:
    with ctx.db() as session:
        return list(session.scalars(select(CalendarOverrideRow).order_by(CalendarOverrideRow.day)))


def set_rule(ctx: Context, actor: str, role: str, key: str, amount: int, unit: str,
             start: str | None = None) -> None:
    """Store a Pemda's own value of one rule: amount, unit and (where the regulations differ)
    the event it counts from. `start` None keeps the rule's current start event."""
    if key not in DEFAULT_RULES:
        raise InvalidSetting("unknown_rule")
    if unit not in {u.value for u in DayUnit}:
        raise InvalidSetting("unknown_unit")
    if not 1 <= amount <= 365:
        raise InvalidSetting("amount_out_of_range")
    if start is not None and start not in {e.value for e in START_CHOICES[key]}:
        raise InvalidSetting("unknown_start")
    if not meets_floor(DeadlineRule(key, amount, DayUnit(unit))):
        # Finding 12: the reporter's windows have the regulations' values as floors.
        raise InvalidSetting("below_floor")
    with ctx.db.begin() as session:
        row = session.get(DeadlineRuleRow, key)
        if start is None:
            start = row.start if row is not None else None
        default = DEFAULT_RULES[key]
        if start == DEFAULT_START[key].value:
            start = None
        if amount == default.amount and unit == default.unit.value and start is None:
            if row is not None:
                session.delete(row)  # back to the regulation's default
        elif row is None:
            session.add(DeadlineRuleRow(key=key, amount=amount, unit=unit, start=start))
        else:
            row.amount, row.unit, row.start = amount, unit, start
        audit.record(session, ctx.audit_keys, actor=actor, role=role, action="config.rule",
                     details={"rule": key, "amount": amount, "unit": unit,
                              "start": start or DEFAULT_START[key].value}, now=ctx.now())


def rules(ctx: Context) -> list[RuleView]:
    with ctx.db() as session:
        stored = {r.key: r for r in session.scalars(select(DeadlineRuleRow))}
    views = []
    for key, default in DEFAULT_RULES.items():
        row = stored.get(key)
        views.append(RuleView(key, row.amount if row else default.amount,
                              row.unit if row else default.unit.value, default.amount,
                              default.unit.value, row is not None))
    return views
