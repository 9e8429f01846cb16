"""What the verifier and the answering unit record for the statistics (RULES §2, §8).

Small parsers and setters called from the existing workflow forms, kept out of `wbs/cases/` so
the cramped case package does not grow. Invalid input is refused, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs.enums import Determination, FollowUpKind
from wbs.models import Case
from wbs.reports.tables import CaseCategory


class CountingInputError(ValueError):
    """Carries the same `code` as the workflow's InvalidInput, so forms show it the same way."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CategoryChoice:
    slug: str
    name_id: str
    name_en: str


def parse_determination(value: str) -> str | None:
    if not value:
        return None
    try:
        return Determination(value).value
    except ValueError as exc:
        raise CountingInputError("determination_invalid") from exc


def parse_followup(value: str) -> str | None:
    if not value:
        return None
    try:
        return FollowUpKind(value).value
    except ValueError as exc:
        raise CountingInputError("followup_invalid") from exc


def set_category(session: Session, case: Case, slug: str) -> None:
    """Set the case's category from an active entry of the list; an empty choice keeps it."""
    if not slug:
        return
    category_id = session.scalar(select(CaseCategory.id).where(
        CaseCategory.slug == slug, CaseCategory.active.is_(True)))
    if category_id is None:
        raise CountingInputError("category_invalid")
    case.category_id = category_id


def active_categories(session: Session) -> list[CategoryChoice]:
    return [CategoryChoice(c.slug, c.name_id, c.name_en) for c in session.scalars(
        select(CaseCategory).where(CaseCategory.active.is_(True))
        .order_by(CaseCategory.position, CaseCategory.id))]
