"""Issue 8, finding 8 (ordering): ids and notice times do not place a reporter's act.

Row ids of messages, attachments, timeline events, notices, deadlines and key wraps are numbered
per case from a random start, so an id says nothing about what happened in other cases, while
ORDER BY id still gives each case's own order. Notices a reporter causes wait for a batch time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.functional.workflow_helpers import file_report, reporter_access
from wbs.cases import reporter
from wbs.context import Context
from wbs.models import Case, CaseEvent, CaseKeyWrap, Deadline, Message, Notice, User
from wbs.notices import next_batch

TIMES = (time(8), time(12), time(15))


def test_ids_keep_each_cases_order_and_say_nothing_across_cases(ctx: Context,
                                                                demo: Any) -> None:
    filed = [file_report(ctx) for _ in range(6)]
    accesses = [reporter_access(ctx, f.code) for f in filed]
    written: list[tuple[int, str]] = []
    for round_ in range(4):
        for access in accesses:
            reporter.post_message(ctx, access, f"Pesan {round_}")
            written.append((access.case_id, f"Pesan {round_}"))
    with ctx.db() as s:
        rows = s.scalars(select(Message)).all()
    by_case: dict[int, list[Message]] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row)
    for access in accesses:
        ordered = sorted(by_case[access.case_id], key=lambda m: m.id)
        view = reporter.mailbox(ctx, access)
        assert [m.body for m in view.messages] == [f"Pesan {i}" for i in range(4)]
        assert [m.id for m in view.messages] == [m.id for m in ordered]
    # Across cases the ids do not follow the order of writing.
    insertion = [case_id for case_id, _ in written]
    assert [m.case_id for m in sorted(rows, key=lambda m: m.id)] != insertion
    starts = sorted(min(m.id for m in msgs) for msgs in by_case.values())
    assert starts[-1] - starts[0] > 10_000  # random starts, not a shared counter
    for model in (CaseEvent, CaseKeyWrap, Deadline, Notice):
        with ctx.db() as s:
            ids = s.scalars(select(model.id)).all()
        assert ids and max(ids) > 1000 and len(set(ids)) == len(ids), model.__name__


@pytest.mark.parametrize(("local", "expected"), [
    ("2026-03-03 07:59", "2026-03-03 08:00"),
    ("2026-03-03 08:00", "2026-03-03 12:00"),
    ("2026-03-03 13:37", "2026-03-03 15:00"),
    ("2026-03-03 15:00", "2026-03-04 08:00"),
    ("2026-03-03 23:59", "2026-03-04 08:00"),
])
@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Jayapura"])
def test_next_batch(local: str, expected: str, zone: str) -> None:
    tz = ZoneInfo(zone)
    now = datetime.fromisoformat(local).replace(tzinfo=tz).astimezone(UTC)
    got = next_batch(now, zone, TIMES)
    assert got.astimezone(tz).strftime("%Y-%m-%d %H:%M") == expected


def test_a_reporter_caused_notice_waits_for_its_batch_a_staff_caused_one_does_not(
        ctx: Context, demo: Any, clock: Any) -> None:
    from tests.functional.workflow_helpers import dispose, staff_team
    from wbs import mail, notices

    with ctx.db.begin() as s:
        for user in s.scalars(select(User)):
            user.email = f"{user.username}@pemda.example"
        verifier_id = s.scalars(select(User.id).where(User.username == "verifikator")).one()
        liaison_id = s.scalars(select(User.id).where(
            User.username == "penghubung.kesehatan")).one()
    clock.current = datetime(2026, 3, 3, 13, 37, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(UTC)
    filed = file_report(ctx)  # a reporter's act: the verifier's new_task waits for 15:00
    waiting = file_report(ctx)
    assert notices.inbox(ctx, verifier_id) == []
    assert mail.send_pending(ctx) == 0
    team = staff_team(ctx, demo, clock, "verifikator")
    dispose(ctx, team["verifikator"], filed.number)  # a staff act: the liaison is told now
    assert [i.kind for i in notices.inbox(ctx, liaison_id)] == ["new_task"]
    assert mail.send_pending(ctx) == 1
    clock.current = datetime(2026, 3, 3, 15, 0, 40, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(
        UTC)
    with ctx.db() as s:
        held = {n.case_id: n for n in s.scalars(select(Notice).where(
            Notice.user_id == verifier_id))}
        settled = s.scalars(select(Case.id).where(Case.case_number == filed.number)).one()
    assert held[settled].done_on is not None  # settled by the disposition: never mailed
    assert [i.case_number for i in notices.inbox(ctx, verifier_id)] == [waiting.number]
    assert mail.send_pending(ctx) == 1
    with ctx.db() as s:
        sent = s.scalars(select(Notice).where(Notice.user_id == verifier_id,
                                              Notice.emailed_at.is_not(None))).one()
    emailed = sent.emailed_at
    assert emailed is not None
    emailed = emailed if emailed.tzinfo else emailed.replace(tzinfo=UTC)  # SQLite: naive UTC
    assert emailed == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # the batch time, 15:00 WIB
