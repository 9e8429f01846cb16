"""Page keys of the lists paged by key (issue 12): a day and a row id, `2026-03-02.1234`.

A link carries the last (or first) row's key, never a content value; anything that is not a
key reads as None, and the list then shows its first page.
"""

from __future__ import annotations

from datetime import date


def make_key(day: date, row_id: int) -> str:
    return f"{day.isoformat()}.{row_id}"


def parse_key(value: str) -> tuple[date, int] | None:
    """A page key from a link, or None for anything that is not one (the first page then)."""
    day, sep, number = value.partition(".")
    if not sep or len(value) > 32 or not number.isdigit() or len(number) > 12:
        return None
    try:
        return date.fromisoformat(day), int(number)
    except ValueError:
        return None
