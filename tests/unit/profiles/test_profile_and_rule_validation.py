"""A regional profile or deadline rule that would break the reporter's guarantees does not load:
every rule stated, none below its floor, whistleblowing never a regional kind, every
classification labelled; rules name a key, a non-negative amount and a start they can take."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wbs.cases.sla import DayUnit, DeadlineRule, StartEvent, meets_floor
from wbs.enums import ReportKind
from wbs.profiles.model import KindLabel, frozen
from wbs.profiles.shipped import SANGGAU


def test_a_profile_missing_a_rule_does_not_load() -> None:
    rules = dict(SANGGAU.rules)
    rules.pop("objection")
    with pytest.raises(ValueError, match="every deadline rule"):
        replace(SANGGAU, rules=frozen(rules))


def test_a_profile_below_a_floor_does_not_load() -> None:
    short = replace(SANGGAU.rules["objection"], amount=1)
    assert not meets_floor(short)
    with pytest.raises(ValueError, match="below its floor"):
        replace(SANGGAU, rules=frozen({**SANGGAU.rules, "objection": short}))


def test_whistleblowing_is_never_a_regional_kind() -> None:
    sneaky = KindLabel("pengaduan_rahasia", "Pengaduan rahasia", "Secret complaint",
                       ReportKind.WHISTLEBLOWING)
    with pytest.raises(ValueError, match="always goes to APIP"):
        replace(SANGGAU, kinds=(*SANGGAU.kinds, sneaky))


def test_every_classification_is_labelled() -> None:
    labels = dict(SANGGAU.classification_labels)
    labels.popitem()
    with pytest.raises(ValueError, match="label every classification"):
        replace(SANGGAU, classification_labels=labels)


@pytest.mark.parametrize(("key", "amount", "start", "match"), [
    ("", 5, None, "needs a key"),
    ("answer_14", -1, None, "must not be negative"),
    ("objection", 10, StartEvent.RECEIPT, "cannot start at"),
])
def test_a_rule_that_cannot_be_counted_is_refused(key: str, amount: int,
                                                  start: StartEvent | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DeadlineRule(key, amount, DayUnit.WORKING_DAYS, start)


def test_a_calendar_day_rule_meets_a_working_day_floor_only_with_the_weekends() -> None:
    """Ten working days to object are at least fourteen calendar days in any week."""
    assert meets_floor(DeadlineRule("objection", 10, DayUnit.WORKING_DAYS))
    assert not meets_floor(DeadlineRule("objection", 13, DayUnit.CALENDAR_DAYS))
    assert meets_floor(DeadlineRule("objection", 14, DayUnit.CALENDAR_DAYS))
    assert meets_floor(DeadlineRule("answer_5", 1, DayUnit.CALENDAR_DAYS))  # no floor
