"""Issue 10 done-when 2: each shipped profile's deadlines over 2026, archive and close
behaviour, identity requirement and kinds, against dates counted by hand.

The expected dates are written out, counted on the 2026 calendar (Perpres 21/2023 working
days; SKB 2026 holidays and cuti bersama as the `holidays` package lists them):
  March 2026: 18 (cuti bersama Nyepi), 19 (Nyepi), 20 (cuti bersama Idul Fitri), 21-22 (Idul
  Fitri, a weekend), 23-24 (cuti bersama); 3 April Good Friday; 1 May; 14-15 May (Ascension and
  cuti bersama); 27-28 May (Idul Adha and cuti bersama); 1 June; 16 June (1 Muharram);
  24 December (cuti bersama), 25 December (Christmas); 1 January 2027; 5 January 2027
  (Isra Mi'raj).
From Friday 13 March 2026 the working days are 16, 17, 25, 26, 27, 30, 31 March, 1, 2, 6, 7,
8, 9, 10 April (the 14th) ... and the 60th is Wednesday 24 June 2026.
From Tuesday 22 December 2026: 23, 28, 29, 30, 31 December, 4, 6, 7, 8, 11 (the 10th), 12, 13,
14, 15 January 2027 (the 14th).
"""

from __future__ import annotations

from datetime import date

import pytest

from wbs.cases.sla import DayUnit, StartEvent, WorkingCalendar, due_date, reminder_date
from wbs.enums import Channel, ReportKind
from wbs.profiles.model import AutoArchive, AutoClose, Profile, Reminded
from wbs.profiles.shipped import PROFILES

CALENDAR = WorkingCalendar()
BEFORE_LEBARAN = date(2026, 3, 13)  # Friday before Nyepi and Idul Fitri
BEFORE_CHRISTMAS = date(2026, 12, 22)  # Tuesday before Christmas and the year end

# Counted from the Sanggau rules: working days everywhere.
WORKING_DAY_TABLE = {
    BEFORE_LEBARAN: {
        "verification": date(2026, 3, 25), "answer_5": date(2026, 3, 27),
        "answer_14": date(2026, 4, 10), "answer_60": date(2026, 6, 24),
        "missing_data": date(2026, 4, 6), "objection": date(2026, 4, 6),
    },
    BEFORE_CHRISTMAS: {
        "verification": date(2026, 12, 29), "answer_5": date(2026, 12, 31),
        "answer_14": date(2027, 1, 15), "missing_data": date(2027, 1, 11),
        "objection": date(2027, 1, 11),
    },
}
# Jayapura counts days ("hari"): plain calendar days, not moved off a holiday.
JAYAPURA_TABLE = {
    BEFORE_LEBARAN: {
        "verification": date(2026, 3, 16), "answer_5": date(2026, 3, 18),
        "answer_14": date(2026, 3, 27), "answer_60": date(2026, 5, 12),
        "missing_data": date(2026, 4, 12),
        # The objection window keeps the floor of 10 working days.
        "objection": date(2026, 4, 6),
    },
    BEFORE_CHRISTMAS: {
        "verification": date(2026, 12, 25), "answer_5": date(2026, 12, 27),
        "answer_14": date(2027, 1, 5), "answer_60": date(2027, 2, 20),
        "missing_data": date(2027, 1, 21), "objection": date(2027, 1, 11),
    },
}
EXPECTED_DATES = {
    "sanggau": WORKING_DAY_TABLE,
    "kapuas": WORKING_DAY_TABLE,
    "belitung-timur": WORKING_DAY_TABLE,
    "jayapura": JAYAPURA_TABLE,
}

NATIONAL = ["pengaduan", "permintaan_informasi", "aspirasi"]
# (auto-archive, auto-close, identity required for a complaint, kinds, answer starts at)
BEHAVIOUR = {
    "sanggau": (AutoArchive.ON, AutoClose.SILENCE, False, NATIONAL, StartEvent.DISPOSITION),
    "kapuas": (AutoArchive.ON, AutoClose.SILENCE, False, NATIONAL, StartEvent.DISPOSITION),
    "belitung-timur": (AutoArchive.ON, AutoClose.SILENCE, True, NATIONAL, StartEvent.RECEIPT),
    "jayapura": (AutoArchive.STAFF, AutoClose.SATISFACTION, True,
                 ["apresiasi", "aspirasi", "kritik", "permintaan_informasi", "keluhan",
                  "pengaduan"], StartEvent.DISPOSITION),
}


def test_four_profiles_ship() -> None:
    assert sorted(PROFILES) == ["belitung-timur", "jayapura", "kapuas", "sanggau"]


@pytest.mark.parametrize("name", sorted(EXPECTED_DATES))
@pytest.mark.parametrize("start", [BEFORE_LEBARAN, BEFORE_CHRISTMAS])
def test_deadlines_over_2026(name: str, start: date) -> None:
    profile = PROFILES[name]
    for key, expected in EXPECTED_DATES[name][start].items():
        assert due_date(CALENDAR, profile.rules[key], start) == expected, (name, key)


@pytest.mark.parametrize("name", sorted(BEHAVIOUR))
def test_archive_close_identity_kinds(name: str) -> None:
    profile = PROFILES[name]
    archive, close, identity, kinds, answer_start = BEHAVIOUR[name]
    assert profile.auto_archive is archive
    assert profile.auto_close is close
    assert profile.identity_required is identity
    assert [k.key for k in profile.kinds] == kinds
    # Whistleblowing is never a regional kind: it always goes to APIP, identity never needed.
    assert all(k.handled_as is not ReportKind.WHISTLEBLOWING for k in profile.kinds)
    for key in ("answer_5", "answer_14", "answer_60"):
        assert profile.rules[key].start_event is answer_start


def test_reminders_by_profile() -> None:
    # Sanggau and Belitung Timur remind the unit and the verifier team 8 working days before
    # the 14-working-day limit: 10 April 2026 less 9, 8, 7, 6, 2, 1 April, 31, 30 March.
    for name in ("sanggau", "belitung-timur", "kapuas"):
        profile = PROFILES[name]
        assert set(profile.reminded) == {Reminded.HANDLING_UNIT, Reminded.VERIFIER_TEAM}
        assert reminder_date(CALENDAR, "answer_14", date(2026, 4, 10),
                             profile.rules) == date(2026, 3, 30)
    assert PROFILES["jayapura"].reminded == ()


def test_channels_and_units() -> None:
    assert Channel.EMAIL in PROFILES["sanggau"].channels  # 31/2020 Lamp. VII.A
    assert Channel.RADIO in PROFILES["jayapura"].channels  # Radio Kenambai Umbai
    assert PROFILES["jayapura"].timezone == "Asia/Jayapura"  # WIT
    assert PROFILES["jayapura"].rules["answer_5"].unit is DayUnit.CALENDAR_DAYS
    assert PROFILES["belitung-timur"].rules["answer_5"].unit is DayUnit.WORKING_DAYS


def test_a_profile_cannot_lower_a_floor() -> None:
    from dataclasses import replace

    from wbs.cases.sla import DeadlineRule

    sanggau = PROFILES["sanggau"]
    with pytest.raises(ValueError, match="floor"):
        replace(sanggau, rules={**sanggau.rules,
                                "objection": DeadlineRule("objection", 3,
                                                          DayUnit.CALENDAR_DAYS)})


def test_profiles_are_profiles() -> None:
    assert all(isinstance(p, Profile) for p in PROFILES.values())


# The answer limit each profile fixes for a kind (None: the verifier chooses 5/14/60). Only
# Jayapura fixes one: a keluhan is answered like an information request (Ps 16(7)).
FIXED_ANSWER = {
    "sanggau": {"pengaduan": None, "permintaan_informasi": None, "aspirasi": None},
    "kapuas": {"pengaduan": None, "permintaan_informasi": None, "aspirasi": None},
    "belitung-timur": {"pengaduan": None, "permintaan_informasi": None, "aspirasi": None},
    "jayapura": {"apresiasi": None, "aspirasi": None, "kritik": None,
                 "permintaan_informasi": None, "keluhan": "answer_5", "pengaduan": None},
}
# A keluhan's due date under Jayapura, from a disposition on each start day: 5 calendar days,
# holidays counted (13 March + 5 = 18 March, cuti bersama Nyepi; 22 December + 5 = 27 December).
KELUHAN_DUE = {BEFORE_LEBARAN: date(2026, 3, 18), BEFORE_CHRISTMAS: date(2026, 12, 27)}


@pytest.mark.parametrize("name", sorted(FIXED_ANSWER))
def test_the_answer_limit_fixed_per_kind(name: str) -> None:
    assert {k.key: k.answer for k in PROFILES[name].kinds} == FIXED_ANSWER[name]


@pytest.mark.parametrize("start", [BEFORE_LEBARAN, BEFORE_CHRISTMAS])
def test_a_keluhan_is_due_in_5_days_under_jayapura(start: date) -> None:
    jayapura = PROFILES["jayapura"]
    keluhan = next(k for k in jayapura.kinds if k.key == "keluhan")
    assert keluhan.answer is not None
    assert due_date(CALENDAR, jayapura.rules[keluhan.answer], start) == KELUHAN_DUE[start]


def test_a_kind_cannot_name_a_limit_that_is_not_an_answer_limit() -> None:
    from dataclasses import replace

    from wbs.profiles.model import KindLabel

    jayapura = PROFILES["jayapura"]
    with pytest.raises(ValueError, match="answer limit"):
        replace(jayapura, kinds=(KindLabel("keluhan", "Keluhan", "Grievance",
                                           ReportKind.COMPLAINT, answer="objection"),))
