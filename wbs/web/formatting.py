"""Dates and times as people read them: "29 November 2026", never "2026-11-29" (Babel).

The filters read the page's language from the template context, so one shared Jinja
environment serves both languages. English uses the British order (day month year): the same
order as Indonesian, and never ambiguous to a reader used to either.

Audit times are stored as UTC text (a bare date for reporter entries, which keep no time of day:
DESIGN §1.4); they are shown in UTC, as the audit pages say, so that they match the filters and
the CSV export.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_time
from jinja2 import Environment, pass_context
from jinja2.runtime import Context as TemplateContext

LOCALES = {"id": "id", "en": "en_GB"}


def locale_of(lang: str | None) -> str:
    return LOCALES.get(lang or "", LOCALES["id"])


def _parse(value: Any) -> date | datetime | None:
    """A date, a datetime, or ISO text as the audit log stores it; None for anything else."""
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def long_date(value: Any, lang: str | None) -> str:
    """`29 November 2026` / `29 November 2026`; '–' for nothing; unknown text unchanged."""
    parsed = _parse(value)
    if parsed is None:
        return "–" if value in (None, "") else str(value)
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    return format_date(day, "long", locale=locale_of(lang))


def long_datetime_utc(value: Any, lang: str | None) -> str:
    """`2 Maret 2026, 14.03.05` (UTC). A bare date (a reporter's entry) stays a date."""
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        return long_date(value, lang)
    moment = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    locale = locale_of(lang)
    return (f"{format_date(moment.date(), 'long', locale=locale)}, "
            f"{format_time(moment, 'medium', tzinfo=UTC, locale=locale)}")


@pass_context
def _day_filter(context: TemplateContext, value: Any) -> str:
    return long_date(value, context.get("lang"))


@pass_context
def _moment_filter(context: TemplateContext, value: Any) -> str:
    return long_datetime_utc(value, context.get("lang"))


def install(env: Environment) -> None:
    """`{{ d|day }}` for dates, `{{ t|moment }}` for audit timestamps (UTC)."""
    env.filters["day"] = _day_filter
    env.filters["moment"] = _moment_filter
