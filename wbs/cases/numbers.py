"""Case numbers that reveal nothing (finding 8.10).

Numbers were `WBS-<year>-<row id>`: one shared counter, so a verifier saw the whistleblowing
reports as gaps between the complaints it handles, and anyone could tell how many reports came
in and in which order. A number is now the year and eight random Crockford base-32 characters
(40 bits, `WBS-2026-7K3M-9QXA`): short enough to read over the telephone, and with so few cases
per year that guessing an existing number is hopeless (a million cases fill one in a million of
the space). It is not a secret (staff copy it into letters); it only must not count or order.
Numbers issued before keep their form, so letters and receipts that quote them stay valid.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs.crypto.codes import ALPHABET
from wbs.models import Case

GROUP = 4


def _random_part() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(2 * GROUP))
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def is_taken(session: Session, number: str) -> bool:
    return session.scalars(select(Case.id).where(Case.case_number == number)).first() is not None


def draw(year: int) -> str:
    """A random number, not checked: whoever stores it checks that it is free."""
    return f"WBS-{year}-{_random_part()}"


def new_case_number(session: Session, year: int) -> str:
    """A random number not yet taken (the UNIQUE constraint guards the rare race)."""
    while True:
        number = draw(year)
        if not is_taken(session, number):
            return number
