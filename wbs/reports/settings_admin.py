"""The administrator's lists for the statistics: categories and yearly targets (RULES §2, §8).

Every change is recorded in the same transaction. A category is never deleted, only retired:
cases keep pointing at it and past statistics keep their rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.reports import statistics
from wbs.reports.tables import CaseCategory, StatTarget

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class SettingsInputError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Lists:
    categories: list[CaseCategory]
    targets: list[StatTarget]


def lists(ctx: Context) -> Lists:
    with ctx.db() as session:
        cats = list(session.scalars(select(CaseCategory).order_by(CaseCategory.position,
                                                                  CaseCategory.id)))
        targets = list(session.scalars(select(StatTarget).order_by(StatTarget.year)))
        session.expunge_all()
    return Lists(cats, targets)


def _record(session: Session, ctx: Context, staff: StaffIdentity, action: str,
            details: dict[str, str | int | bool | None]) -> None:
    audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role, action=action,
                 details=details, now=ctx.now())


def add_category(ctx: Context, staff: StaffIdentity, slug: str, name_id: str,
                 name_en: str) -> None:
    slug, name_id, name_en = slug.strip().lower(), " ".join(name_id.split()), \
        " ".join(name_en.split())
    if not _SLUG.fullmatch(slug):
        raise SettingsInputError("slug_invalid")
    if not (2 <= len(name_id) <= 200 and 2 <= len(name_en) <= 200):
        raise SettingsInputError("name_required")
    with ctx.db.begin() as session:
        if session.scalar(select(CaseCategory.id).where(CaseCategory.slug == slug)):
            raise SettingsInputError("slug_taken")
        last = session.scalar(select(func.max(CaseCategory.position))) or 0
        session.add(CaseCategory(slug=slug, name_id=name_id, name_en=name_en, active=True,
                                 position=last + 1))
        _record(session, ctx, staff, "config.category", {"slug": slug, "active": True})


def set_category_active(ctx: Context, staff: StaffIdentity, slug: str, active: bool) -> None:
    with ctx.db.begin() as session:
        row = session.scalars(select(CaseCategory).where(CaseCategory.slug == slug)).first()
        if row is None:
            raise SettingsInputError("slug_unknown")
        row.active = active
        _record(session, ctx, staff, "config.category", {"slug": slug, "active": active})


def save_target(ctx: Context, staff: StaffIdentity, year: int, received: int,
                completed_pct: int) -> None:
    with ctx.db.begin() as session:
        try:
            statistics.set_target(session, year, received, completed_pct)
        except ValueError as exc:
            raise SettingsInputError("target_invalid") from exc
        _record(session, ctx, staff, "config.stat_target",
                {"year": year, "received": received, "completed_pct": completed_pct})
