"""`intake.form_choices`: what a report form offers and checks, in one read (issue 12).

The API, the public form and staff intake each read the reportable units and the profile in
force per request; they used two sessions (two pool checkouts) for it, one of them on the event
loop. One read session now serves both, and what it returns is what the two reads returned.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from wbs.cases import intake
from wbs.context import Context
from wbs.enums import ReportKind
from wbs.profiles import store


def _checkouts(ctx: Context) -> tuple[list[int], Any]:
    taken: list[int] = []

    def count(*_args: Any) -> None:
        taken.append(1)

    event.listen(ctx.engine, "checkout", count)
    return taken, count


def test_one_read_gives_the_units_and_the_profile(ctx: Context, demo: Any) -> None:
    store.current(ctx)  # the rules' snapshot is kept per process: compare warm with warm
    taken, listener = _checkouts(ctx)
    try:
        choices = intake.form_choices(ctx)
    finally:
        event.remove(ctx.engine, "checkout", listener)
    assert len(taken) == 1
    with ctx.read() as session:
        expected = [(u.slug, u.name) for u in intake.reportable_units(session)]
    assert choices.units == expected and expected
    assert choices.profile == store.current(ctx)


def test_parse_checks_against_the_units_and_the_profile(ctx: Context, demo: Any) -> None:
    choices = intake.form_choices(ctx)
    slug = choices.units[0][0]
    report = choices.parse({"kind": "complaint", "title": "Air mati", "what": "Seminggu.",
                            "reported_unit": slug, "identity_mode": "anonymous"})
    assert report.kind is ReportKind.COMPLAINT and report.reported_unit == slug
    with pytest.raises(intake.InvalidReport) as refused:
        choices.parse({"kind": "complaint", "title": "Air mati", "what": "Seminggu.",
                       "reported_unit": "no-such-unit", "identity_mode": "anonymous"})
    assert "reported_unit" in refused.value.errors
    with pytest.raises(intake.InvalidReport) as refused:
        choices.parse({"kind": "no-such-kind", "title": "x", "what": "y"})
    assert "kind" in refused.value.errors
