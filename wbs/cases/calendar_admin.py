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
    START_CHOICES,
    DayUnit,
    DeadlineRule,
    meets_floor,
)
from wbs.context import Context
from wbs.models import CalendarOverrideRow, DeadlineRuleRow
from wbs.profiles import store


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
    start: str = ""
    default_start: str = ""


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
        # The profile's value is the default a change is counted against.
        default = store.profile_rules(session)[key]
        if start == default.start_event.value:
            start = None
        if amount == default.amount and unit == default.unit.value and (
                start is None or start == default.start_event.value):
            if row is not None:
                session.delete(row)  # back to the regulation's default
        elif row is None:
            session.add(DeadlineRuleRow(key=key, amount=amount, unit=unit, start=start))
        else:
            row.amount, row.unit, row.start = amount, unit, start
        audit.record(session, ctx.audit_keys, actor=actor, role=role, action="config.rule",
                     details={"rule": key, "amount": amount, "unit": unit,
                              "start": start or default.start_event.value}, now=ctx.now())


def rules(ctx: Context) -> list[RuleView]:
    """Each rule in force beside the profile's own value (the regulation's, by profile)."""
    with ctx.db() as session:
        stored = {r.key: r for r in session.scalars(select(DeadlineRuleRow))}
        base = store.profile_rules(session)
        force = store.in_force(session).rules
    views = []
    for key in DEFAULT_RULES:
        default, rule = base[key], force[key]
        views.append(RuleView(key, rule.amount, rule.unit.value, default.amount,
                              default.unit.value, key in stored, rule.start_event.value,
                              default.start_event.value))
    return views
