"""How the audit log pages put codes and dates into words, in Indonesian and English: rules,
deadline kinds, forward targets, day units, limits, transitions, and what stays as stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from wbs.cases.sla import DayUnit, DeadlineRule
from wbs.web import i18n, labels
from wbs.web.formatting import long_date, long_datetime_utc

CATALOGS = i18n.load_catalogs(["id", "en"])


@pytest.fixture(params=["id", "en"])
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    i18n.activate(CATALOGS[request.param])
    yield str(request.param)
    i18n.activate(CATALOGS["en"])


WORDS = {
    ("rule", "decision_delivery"): {"id": "Penyampaian keputusan kepada pelapor",
                                    "en": "Decision delivered to the reporter"},
    ("deadline", "decision_delivery"): {"id": "Penyampaian keputusan kepada pelapor",
                                        "en": "Decision delivered to the reporter"},
    ("unit", "calendar_days"): {"id": "hari kalender", "en": "calendar days"},
    ("unit", "working_days"): {"id": "hari kerja", "en": "working days"},
}


def test_known_codes_are_words_in_the_readers_language(lang: str) -> None:
    for (key, value), words in WORDS.items():
        assert labels.detail_value(key, value, lang) == words[lang], (key, value)
    target = labels.detail_value("target", "sp4n_lapor", lang)
    assert target != "sp4n_lapor" and "SP4N-LAPOR!" in target
    assert labels.detail_value("flag", "true", lang) == {"id": "ya", "en": "yes"}[lang]


def test_codes_outside_their_key_and_unknown_codes_stay_as_stored(lang: str) -> None:
    # A known code under another key is not translated: "unit" names a unit's slug too.
    assert labels.detail_value("unit", "dinas-kesehatan", lang) == "dinas-kesehatan"
    assert labels.detail_value("rule", "no_such_rule", lang) == "no_such_rule"
    assert labels.detail_value("deadline", "answer_5", lang) == "answer_5"
    assert labels.detail_value("target", "kpk", lang) == "kpk"
    assert labels.detail_value("note", "2026-13-45", lang) == "2026-13-45"  # not a real day
    assert labels.rule("no_such_rule") == "no_such_rule"
    assert labels.audit_action("case.transition.teleport") == "case.transition.teleport"
    assert labels.audit_action("unknown.action") == "unknown.action"


def test_a_transition_is_named_with_its_step(lang: str) -> None:
    step = next(iter(labels.TRANSITIONS))
    text = labels.audit_action(f"case.transition.{step}")
    assert text.startswith({"id": "Perubahan status: ", "en": "Status change: "}[lang])


def test_limits_are_counted_as_the_rule_says(lang: str) -> None:
    expected = {
        (1, DayUnit.WORKING_DAYS): {"id": "1 hari kerja", "en": "1 working day"},
        (10, DayUnit.WORKING_DAYS): {"id": "10 hari kerja", "en": "10 working days"},
        (1, DayUnit.CALENDAR_DAYS): {"id": "1 hari", "en": "1 day"},
        (30, DayUnit.CALENDAR_DAYS): {"id": "30 hari", "en": "30 days"},
    }
    for (amount, unit), words in expected.items():
        assert labels.limit(DeadlineRule("missing_data", amount, unit)) == words[lang]
    assert labels.limit(None) == ""


def test_dates_and_times_in_the_log() -> None:
    assert long_date("2026-03-02", "id") == "2 Maret 2026"
    assert long_date(date(2026, 3, 2), "en") == "2 March 2026"
    assert long_date(datetime(2026, 3, 2, 23, 0, tzinfo=UTC), "en") == "2 March 2026"
    assert long_date(None, "id") == "–" and long_date("", "en") == "–"
    assert long_date("kemarin", "id") == "kemarin"  # unknown text unchanged
    assert long_date("2026-02-30", "id") == "2026-02-30"  # not a day: as stored
    assert long_date(20260302, "en") == "20260302"
    assert long_datetime_utc("2026-03-02T14:03:05Z", "en") == "2 March 2026, 14:03:05"
    # A time with another offset is shown in UTC; a naive one is taken as UTC.
    assert long_datetime_utc("2026-03-02T21:03:05+07:00", "en") == "2 March 2026, 14:03:05"
    assert long_datetime_utc("2026-03-02T14:03:05", "en") == "2 March 2026, 14:03:05"
    assert long_datetime_utc("2026-03-02", "id") == "2 Maret 2026"  # a reporter's bare date
    assert long_datetime_utc("kemarin sore", "id") == "kemarin sore"
