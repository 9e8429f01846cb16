"""The profile in force: the one chosen at `wbs init --profile`, with local changes.

The choice and the changes of non-deadline settings are one row (`rule_profile`); changed
deadline rules stay rows of `deadline_rules`, counted against the profile's own values. With
no row the portal runs the default profile (`sanggau`), which is what it always did.
Every choice and change is audited. Floors are checked by the profile itself
(`Profile.__post_init__`) and again when rules are loaded (`sla.rules_with_overrides`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases.sla import DayUnit, DeadlineRule, StartEvent, rules_with_overrides
from wbs.context import Context
from wbs.enums import Channel
from wbs.models import DeadlineRuleRow, RuleProfileRow
from wbs.profiles.model import AutoArchive, AutoClose, Profile, Reminded
from wbs.profiles.shipped import DEFAULT_PROFILE, PROFILES


class InvalidProfile(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# The settings an administrator may change locally, and how each is read back from JSON.
CHANGEABLE = ("auto_archive", "auto_close", "identity_required", "reminded", "channels")


def _apply(base: Profile, changes: Mapping[str, Any]) -> Profile:
    values: dict[str, Any] = {}
    if "auto_archive" in changes:
        values["auto_archive"] = AutoArchive(changes["auto_archive"])
    if "auto_close" in changes:
        values["auto_close"] = AutoClose(changes["auto_close"])
    if "identity_required" in changes:
        values["identity_required"] = bool(changes["identity_required"])
    if "reminded" in changes:
        values["reminded"] = tuple(Reminded(v) for v in changes["reminded"])
    if "channels" in changes:
        values["channels"] = tuple(Channel(v) for v in changes["channels"])
    return replace(base, **values) if values else base


def _row(session: Session) -> RuleProfileRow | None:
    return session.get(RuleProfileRow, 1)


def base_profile(session: Session) -> Profile:
    row = _row(session)
    return PROFILES.get(row.name if row else DEFAULT_PROFILE, PROFILES[DEFAULT_PROFILE])


def changes(session: Session) -> dict[str, Any]:
    row = _row(session)
    loaded: dict[str, Any] = json.loads(row.changes) if row and row.changes else {}
    return loaded


def in_force(session: Session) -> Profile:
    """The profile with the local changes, its rules with the stored rule overrides."""
    profile = _apply(base_profile(session), changes(session))
    rows = session.scalars(select(DeadlineRuleRow)).all()
    rules = rules_with_overrides(
        (DeadlineRule(r.key, r.amount, DayUnit(r.unit), StartEvent(r.start) if r.start else None)
         for r in rows), base=profile.rules)
    return replace(profile, rules=MappingProxyType(dict(rules)))


def current(ctx: Context) -> Profile:
    """The profile in force, as kept per process while the stored rules stay the same."""
    from wbs.cases import deadlines

    with ctx.read() as session:
        return deadlines.load_profile(session)


def choose(ctx: Context, name: str, actor: str = "system", role: str = "system") -> None:
    """Pick a shipped profile; its limits replace the previous profile's, so stored rule
    overrides and local changes are dropped (they were relative to the old profile)."""
    if name not in PROFILES:
        raise InvalidProfile("unknown_profile")
    with ctx.db.begin() as session:
        row = _row(session)
        if row is None:
            session.add(RuleProfileRow(id=1, name=name, changes="{}"))
        else:
            row.name, row.changes = name, "{}"
        for rule in session.scalars(select(DeadlineRuleRow)).all():
            session.delete(rule)
        audit.record(session, ctx.audit_keys, actor=actor, role=role, action="config.profile",
                     details={"profile": name}, now=ctx.now())


def set_change(ctx: Context, actor: str, role: str, key: str, value: Any) -> None:
    """Change one setting of the profile locally; the shipped value stays visible beside it."""
    if key not in CHANGEABLE:
        raise InvalidProfile("unknown_setting")
    with ctx.db.begin() as session:
        base = base_profile(session)
        current_changes = changes(session)
        try:
            wanted = getattr(_apply(base, {key: value}), key)
        except (ValueError, TypeError) as exc:
            raise InvalidProfile("bad_value") from exc
        if wanted == getattr(_apply(base, current_changes), key):
            return  # already in force: nothing changes, nothing is recorded
        if wanted == getattr(base, key):
            current_changes.pop(key, None)  # back to the shipped value: no longer a change
        else:
            current_changes[key] = value
        row = _row(session)
        if row is None:
            session.add(RuleProfileRow(id=1, name=base.name,
                                       changes=json.dumps(current_changes, sort_keys=True)))
        else:
            row.changes = json.dumps(current_changes, sort_keys=True)
        audit.record(session, ctx.audit_keys, actor=actor, role=role,
                     action="config.profile_change",
                     details={"setting": key, "value": json.dumps(value)[:200]}, now=ctx.now())


def profile_rules(session: Session) -> Mapping[str, DeadlineRule]:
    """The profile's own limits, before the stored rule overrides."""
    return base_profile(session).rules


def stored_profile_name(session: Session) -> str | None:
    row = session.scalars(select(RuleProfileRow.name)).first()
    return row
