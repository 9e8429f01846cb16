"""Issue 12: intake at twice the rate. A submission runs a pinned number of SQL statements
(bulk inserts, no read-back), and the holiday calendar is cached per process yet a change to
it is seen by the very next submission."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from tests.sql_capture import captured
from wbs.cases import calendar_admin, intake
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import CalendarOverrideRow, Case, CaseKeyWrap, Deadline, Unit


@pytest.fixture
def statements(ctx: Context) -> Iterator[list[str]]:
    with captured(ctx.engine) as seen:
        yield seen


REPORT = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Jalan rusak", what="x" * 200)


# Units, the rules' version token and the unit's members (three reads); the
# case (INSERT, then its number and sealed report, which need its id); each unit's current key
# pair read under a share lock (issue 11's key rotation: two reads); one check that the random
# per-case row ids are free; one INSERT each for the timeline, the deadline, the notices and the
# staged audit record, and the key wraps (which SQLAlchemy sends in up to four statements, as
# the unit wraps carry a key serial and the reporter wraps do not). Main ran 29 before issue 11
# added its reads (and SQLite's BEGIN IMMEDIATE is not counted: PostgreSQL begins implicitly).
# Since then the regional profiles (issue 10) rebuild the rules per submission from the profile
# row (read twice) and the stored rules, no longer cached per process, and a random case number
# (issue 8, finding 10) checks that it is free, while the sealed report, its digest and the
# reporter's public key (issue 13) go in one UPDATE. The rules, the profile and the calendar
# are kept per process with them (issue 12): one read of the rules' version token replaces
# the reads of the overrides, the profile row and the stored rules.
# Since the sealing runs ahead of the write transaction (outside SQLite's one write lock), the
# case goes in already sealed (no UPDATE); the number is drawn ahead and checked inside, with
# the units (a hint kept from the last report, never trusted): no read ahead once the process
# has seen a report of the kind.
STATEMENTS = 16


def test_a_submission_runs_a_pinned_number_of_statements(
        ctx: Context, demo: dict[str, dict[str, str]], statements: list[str]) -> None:
    intake.submit(ctx, REPORT, [], Channel.WEB)  # the first one fills the process's caches
    statements.clear()
    intake.submit(ctx, REPORT, [], Channel.WEB)
    assert len(statements) == STATEMENTS, "\n".join(statements)
    assert statements[0].startswith("SELECT units.")  # checked under the write lock
    assert statements[1].startswith("SELECT cases.id")  # the number drawn ahead is free
    assert not any(s.startswith("UPDATE") for s in statements)  # the case goes in sealed
    inserts = [s.split()[2] for s in statements if s.startswith("INSERT")]
    # The rows of a table go together (the wraps in at most four), none is read back.
    assert sorted(set(inserts)) == [
        "audit_pending", "case_events", "case_key_wraps", "cases", "deadlines", "notices"]
    assert len(inserts) - len(set(inserts)) <= 3
    reads = [s for s in statements if s.startswith("SELECT")]
    assert not any(t in s.split("WHERE")[0] for s in reads
                   for t in ("FROM deadlines", "FROM notices", "FROM case_events"))


def test_a_submission_with_a_reported_unit_reads_the_units_once(
        ctx: Context, demo: dict[str, dict[str, str]], statements: list[str]) -> None:
    report = replace(REPORT, reported_unit="dinas-pendidikan")
    intake.submit(ctx, report, [], Channel.WEB)
    statements.clear()
    sub = intake.submit(ctx, report, [], Channel.WEB)
    assert len(statements) == STATEMENTS
    with ctx.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == sub.case_number)).one()
        unit = session.get(Unit, case.reported_unit_id)
        assert unit is not None and unit.slug == "dinas-pendidikan"
        receiving = session.get(Unit, case.receiving_unit_id)
        assert receiving is not None and receiving.slug == "tim-pengelola"


def _due(ctx: Context, number: str) -> date:
    with ctx.db() as session:
        return session.scalars(select(Deadline.due_on).join(Case).where(
            Case.case_number == number, Deadline.kind == "verification")).one()


def test_a_calendar_change_is_seen_by_the_next_submission(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    first = _due(ctx, intake.submit(ctx, REPORT, [], Channel.WEB).case_number)
    # Another process (an administrator on another worker) declares that day a holiday.
    with ctx.db.begin() as session:
        session.add(CalendarOverrideRow(day=first, working=False, label="Hari Jadi"))
    second = _due(ctx, intake.submit(ctx, REPORT, [], Channel.WEB).case_number)
    assert second > first
    calendar_admin.remove_override(ctx, "admin", "administrator", first)
    assert _due(ctx, intake.submit(ctx, REPORT, [], Channel.WEB).case_number) == first
    # And a changed deadline rule as well.
    calendar_admin.set_rule(ctx, "admin", "administrator", "verification", 10, "working_days")
    assert _due(ctx, intake.submit(ctx, REPORT, [], Channel.WEB).case_number) > second


def test_new_rows_of_one_case_keep_their_order_across_flushes(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    """The ids of a case made in this session continue above the ones it already drew."""
    sub = intake.submit(ctx, REPORT, [], Channel.WEB)
    with ctx.db() as session:
        case_id = session.scalars(select(Case.id).where(
            Case.case_number == sub.case_number)).one()
        wraps = session.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case_id)
                                .order_by(CaseKeyWrap.id)).all()
    # Added in this order by intake: content to the unit, to the reporter, identity likewise.
    assert [(w.purpose, w.recipient_kind) for w in wraps] == [
        ("content", "unit"), ("content", "reporter"), ("identity", "unit"),
        ("identity", "reporter")]
