"""Statistics (RULES §8) on a generated history, every figure against a hand computation.

The history (tests/functional/stats_history.py) is March 2026, whose 18–24 March are holidays
and cuti bersama. Working days are counted after the day of receipt (RULES §5):
  C1 received 2 Mar, responded 5 Mar (3, 4, 5 → 3 WD), completed 17 Mar (11 WD)
  C2 received 16 Mar, responded 25 Mar (17, 25 → 2), completed 30 Mar (17, 25, 26, 27, 30 → 5)
  C3 received 17 Mar, responded 26 Mar (25, 26 → 2), not completed
  C4 received 10 Mar, responded and archived 13 Mar (11, 12, 13 → 3)
  C5 received 25 Mar, no response; its answer limit ended 27 Mar, unmet: overdue
  C6 received 27 Mar, no response; verification due 1 Apr: still running
  C7 received 30 Mar, responded 2 Apr and closed 8 Apr: both after the period
  C9 received 5 Mar (whistleblowing), responded 11 Mar (6, 9, 10, 11 → 4), not completed
  C10 received 27 Feb (outside the period), completed 3 Mar; C8 received 1 Apr (outside).
Period March 2026, read on 15 April: figures as of 31 March.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.functional.stats_history import build_history, d
from wbs.context import Context
from wbs.reports import statistics
from wbs.reports.statistics import Figures, LimitFigures, Period

MARCH = Period(d(3, 1), d(3, 31))
TODAY = d(4, 15)


@pytest.fixture
def history(ctx: Context) -> dict[str, int]:
    return build_history(ctx)


def fig(received: int, responded: int, response_wd: int, completed: int, completion_wd: int,
        overdue: int = 0) -> Figures:
    return Figures(received=received, not_responded=received - responded,
                   not_completed=received - completed, responded=responded,
                   response_wd=response_wd, completed=completed, completion_wd=completion_wd,
                   overdue=overdue)


def test_every_figure_of_a_month_matches_the_hand_count(ctx: Context,
                                                        history: dict[str, int]) -> None:
    with ctx.db() as s:
        st = statistics.compute(s, MARCH, TODAY)
    assert st.as_of == d(3, 31)
    # C1 C2 C3 C4 C5 C6 C7 C9: responded C1 3, C2 2, C3 2, C4 3, C9 4; completed C1 11, C2 5, C4 3.
    assert st.total == fig(8, 5, 14, 3, 19, overdue=1)
    assert st.total.not_responded == 3 and st.total.not_completed == 5
    assert st.total.avg_response == Decimal("2.80")
    assert st.total.avg_completion == Decimal("6.33")  # 19 / 3

    assert st.by["kind"] == {
        "complaint": fig(5, 2, 5, 2, 16, overdue=1),
        "information_request": fig(1, 1, 2, 0, 0),
        "aspiration": fig(1, 1, 3, 1, 3),
        "whistleblowing": fig(1, 1, 4, 0, 0),
    }
    assert st.by["kind"]["complaint"].avg_response == Decimal("2.50")
    assert st.by["kind"]["complaint"].avg_completion == Decimal("8.00")
    assert st.by["kind"]["information_request"].avg_completion is None
    assert st.by["channel"] == {
        "web": fig(6, 4, 12, 2, 14, overdue=1),  # C1 C3 C4 C5 C7 C9
        "letter": fig(1, 1, 2, 1, 5),
        "sms": fig(1, 0, 0, 0, 0),
    }
    assert st.by["channel"]["web"].avg_completion == Decimal("7.00")
    assert st.by["state"] == {
        "closed": fig(3, 2, 5, 2, 16),  # C7 closed today, not by 31 March
        "answered": fig(1, 1, 2, 0, 0),
        "archived": fig(1, 1, 3, 1, 3),
        "in_process": fig(2, 1, 4, 0, 0, overdue=1),
        "received": fig(1, 0, 0, 0, 0),
    }
    a, b = history["cat_a"], history["cat_b"]
    assert st.by["category"] == {
        a: fig(2, 2, 5, 2, 16),
        b: fig(2, 1, 2, 0, 0, overdue=1),
        None: fig(4, 2, 7, 1, 3),
    }
    assert st.by["classification"] == {
        "no_oversight": fig(3, 2, 5, 2, 16, overdue=1),
        "other": fig(1, 1, 2, 0, 0),
        "needs_oversight": fig(1, 1, 4, 0, 0),
        None: fig(3, 1, 3, 1, 3),
    }
    # C2 went to both units: once in each row.
    assert st.by["unit"] == {
        history["dinas-a"]: fig(3, 2, 5, 2, 16, overdue=1),
        history["dinas-b"]: fig(2, 2, 4, 1, 5),
        history["apip"]: fig(1, 1, 4, 0, 0),
        None: fig(3, 1, 3, 1, 3),
    }
    assert st.by["unit"][history["dinas-b"]].avg_response == Decimal("2.00")
    assert st.limits == {
        ("verification", None): LimitFigures(on_time=1, running=2),
        ("answer_14", history["dinas-a"]): LimitFigures(on_time=2, overdue=1),
        ("answer_14", history["dinas-b"]): LimitFigures(running=1),
        ("answer_5", history["dinas-b"]): LimitFigures(late=1),
        ("answer_60", history["apip"]): LimitFigures(running=1),
    }
    assert st.kapuas == {"completed": 3, "in_process": 3, "pending": 1, "archived": 1}
    # The year to 31 March: C10 too; completed by then C1 C2 C4 C10 (C7 only in April).
    [year] = st.targets
    assert (year.year, year.received, year.completed) == (2026, 9, 4)
    assert (year.target_received, year.target_completed_pct) == (76, 100)
    assert year.completed_pct == Decimal("44.44")


def test_one_unit_sees_only_its_cases_and_limits(ctx: Context, history: dict[str, int]) -> None:
    with ctx.db() as s:
        st = statistics.compute(s, MARCH, TODAY, unit_id=history["dinas-a"])
    assert st.total == fig(3, 2, 5, 2, 16, overdue=1)  # C1 C2 C5
    assert st.by["unit"] == {history["dinas-a"]: fig(3, 2, 5, 2, 16, overdue=1),
                             history["dinas-b"]: fig(1, 1, 2, 1, 5)}
    assert st.limits == {("answer_14", history["dinas-a"]): LimitFigures(on_time=2, overdue=1)}
    assert st.kapuas == {"completed": 2, "in_process": 1, "pending": 0, "archived": 0}


def test_a_period_read_on_its_own_day_counts_what_happened_so_far(
        ctx: Context, history: dict[str, int]) -> None:
    # Read on 25 March: C2's first response (25 March) counts, C3's (26 March) not yet. The
    # period's cases are all eight (a report's figures are by receipt in the period), those
    # received after 25 March simply not responded to yet.
    with ctx.db() as s:
        st = statistics.compute(s, MARCH, d(3, 25))
    assert st.as_of == d(3, 25)
    assert st.total.received == 8
    assert (st.total.responded, st.total.response_wd) == (4, 12)  # C1 3, C2 2, C4 3, C9 4
    assert (st.total.completed, st.total.completion_wd) == (2, 14)  # C1 11, C4 3
    # Overdue on 25 March: C3's 5-day limit ended 25 March (not yet past); none.
    assert st.total.overdue == 0
    assert st.limits[("answer_5", history["dinas-b"])] == LimitFigures(running=1)


def test_a_holiday_declared_later_does_not_change_a_recorded_figure(
        ctx: Context, history: dict[str, int]) -> None:
    """The working days are those of the calendar in force on the day, like a deadline."""
    from wbs.models import CalendarOverrideRow

    with ctx.db.begin() as s:
        s.add(CalendarOverrideRow(day=d(3, 4), working=False, label="Hari jadi kabupaten"))
    with ctx.db() as s:
        st = statistics.compute(s, MARCH, TODAY)
    assert st.total.response_wd == 14


def test_the_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before"):
        Period(d(3, 2), d(3, 1))


def test_the_state_columns_are_the_state_at_the_period_end(ctx: Context,
                                                           history: dict[str, int]) -> None:
    """The timeline of three cases (the others have none and keep their state column):
      C7 received 30 Mar, closed 8 Apr: on 31 March still received;
      C2 received 16 Mar, in process 17 Mar, answered 25 Mar, closed 30 Mar: closed;
      C5 received 25 Mar, verified 26 Mar, in process 2 Apr: on 31 March verified.
    By state on 31 March: closed C1 C2; answered C3; archived C4; in process C9; verified C5
    (overdue); received C6 C7 (C7's response came in April). Read from the cases and from the
    roll-up (a snapshot of 31 March holds C7's day; one of 15 April does not)."""
    from sqlalchemy import select

    from wbs.models import Case, CaseEvent
    from wbs.reports import rollup

    timeline = {"WBS-00007": [("received", d(3, 30)), ("closed", d(4, 8))],
                "WBS-00002": [("received", d(3, 16)), ("in_process", d(3, 17)),
                              ("answered", d(3, 25)), ("closed", d(3, 30))],
                "WBS-00005": [("received", d(3, 25)), ("verified", d(3, 26)),
                              ("in_process", d(4, 2))]}
    with ctx.db.begin() as s:
        for number, events in timeline.items():
            case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
            s.add_all(CaseEvent(case_id=case_id, state=st, on=on) for st, on in events)
    expected = {
        "closed": fig(2, 2, 5, 2, 16),
        "answered": fig(1, 1, 2, 0, 0),
        "archived": fig(1, 1, 3, 1, 3),
        "in_process": fig(1, 1, 4, 0, 0),
        "verified": fig(1, 0, 0, 0, 0, overdue=1),
        "received": fig(2, 0, 0, 0, 0),
    }
    kapuas = {"completed": 2, "in_process": 3, "pending": 2, "archived": 1}
    for refresh_on in (None, d(3, 31), TODAY):
        if refresh_on is not None:
            with ctx.db.begin() as s:
                rollup.refresh(s, refresh_on)
        with ctx.db() as s:
            st = statistics.compute(s, MARCH, TODAY)
        assert st.by["state"] == expected, refresh_on
        assert st.kapuas == kapuas
        assert st.total == fig(8, 5, 14, 3, 19, overdue=1)
