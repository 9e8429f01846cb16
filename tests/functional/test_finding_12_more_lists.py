"""Issue 12: every list that can grow is paged by key in O(page), like the case list: the
staff inbox of notices and the custodians' queue of identity requests. The links carry the
key of the last row shown (a date and a row id, or a row id), never anything of a report.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock, sign_in
from tests.functional.test_finding_12_case_list import _offsets
from tests.sql_capture import captured_with_parameters
from wbs import demo as demo_module
from wbs import notices, paging
from wbs.context import Context
from wbs.models import Case, Notice, User

N = 130


@pytest.fixture
def statements(ctx: Context) -> Iterator[list[tuple[str, Any]]]:
    with captured_with_parameters(ctx.engine) as seen:
        yield seen


def _user(ctx: Context, username: str) -> int:
    with ctx.db() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


@pytest.fixture
def inbox_of_many(ctx: Context, demo: dict[str, dict[str, str]]) -> tuple[int, list[str]]:
    """Many open notices for the verifier, many sharing a due date, some without one; the
    expected inbox order (case numbers)."""
    demo_module.bulk(ctx.engine, N, today=ctx.today(), seed=11)
    user_id = _user(ctx, "verifikator")
    rng = random.Random(5)
    today = ctx.today()
    with ctx.db.begin() as session:
        session.query(Notice).filter(Notice.user_id == user_id).delete()
        cases = session.execute(select(Case.id, Case.case_number)).all()
        for case_id, _number in cases:
            due = None if rng.random() < 0.2 else today + timedelta(days=rng.randrange(-8, 8))
            session.add(Notice(user_id=user_id, case_id=case_id, kind="new_task", due_on=due,
                               created_on=today))
    with ctx.db() as session:
        rows = session.execute(select(Notice.due_on, Notice.id, Case.case_number)
                               .join(Case, Case.id == Notice.case_id)
                               .where(Notice.user_id == user_id)).all()
    rows.sort(key=lambda r: (r.due_on is None, r.due_on or today, r.id))
    return user_id, [r.case_number for r in rows]


def test_the_inbox_walks_every_notice_once_forward_and_back_by_key(
        ctx: Context, inbox_of_many: tuple[int, list[str]],
        statements: list[tuple[str, Any]]) -> None:
    user_id, expected = inbox_of_many
    assert len(expected) > 3 * 9
    statements.clear()
    page = notices.inbox_page(ctx, user_id, per_page=9)
    assert not page.prev_key
    pages = [page]
    while page.next_key:
        page = notices.inbox_page(ctx, user_id, after=page.next_key, per_page=9)
        pages.append(page)
    forward = [item.case_number for p in pages for item in p.items]
    assert forward == expected
    # Overdue first: the order puts every overdue notice before any other.
    flags = [item.overdue for p in pages for item in p.items]
    assert flags == sorted(flags, reverse=True)
    backward: list[str] = []
    page = pages[-1]
    backward[:0] = [item.case_number for item in page.items]
    while page.prev_key:
        page = notices.inbox_page(ctx, user_id, before=page.prev_key, per_page=9)
        assert len(page.items) == 9 and page.next_key
        backward[:0] = [item.case_number for item in page.items]
    assert backward == expected
    listed = [s for s, _ in statements if "FROM notices" in s and "ORDER BY" in s]
    assert listed
    assert all(offset == 0 for s, p in statements for offset in _offsets(s, p)), statements
    assert any(re.search(r"\(coalesce\(notices\.due_on, \S+\), notices\.id\) >", s)
               for s in listed), listed
    # One statement a page: never a count.
    assert not any("count(" in s.lower() for s, _ in statements)


def test_the_dashboard_shows_every_pending_notice_page_by_page(
        ctx: Context, inbox_of_many: tuple[int, list[str]], demo: dict[str, dict[str, str]],
        client: Any, clock: Clock) -> None:
    _user_id, expected = inbox_of_many
    sign_in(client, demo["verifikator"], "verifikator", clock)
    shown: list[str] = []
    url = "/staf"
    for _ in range(20):
        text = client.get(url).text
        section = text[text.index('id="inbox-title"'):]
        shown.extend(re.findall(r'href="/staf/kasus/(WBS-[0-9-]+)"', section))
        found = re.search(r'rel="next" href="(/staf\?setelah=[^"]+)"', section)
        if not found:
            break
        url = found.group(1)
        key = url.split("=", 1)[1].replace("%2E", ".").replace("%2e", ".")
        assert paging.parse_key(key) is not None  # a date and a row id, nothing else
    # Main showed the first 100 and never the rest.
    assert shown == expected


@pytest.fixture
def many_requests(ctx: Context, demo: dict[str, dict[str, str]]) -> int:
    """A pending identity request on each of many cases; the custodian's user id."""
    from wbs.models import IdentityRequest

    demo_module.bulk(ctx.engine, 60, today=ctx.today(), seed=3)
    requester = _user(ctx, "investigator")
    with ctx.db.begin() as session:
        for case_id in session.scalars(select(Case.id)):
            session.add(IdentityRequest(case_id=case_id, requester_id=requester,
                                        reason="Laporan resmi ke Kejaksaan.", quorum=2,
                                        created_at=ctx.now()))
    return _user(ctx, "inspektur")


def test_the_identity_queue_walks_every_request_once_by_key(
        ctx: Context, many_requests: int, demo: dict[str, dict[str, str]], clock: Clock,
        statements: list[tuple[str, Any]]) -> None:
    from tests.functional import workflow_helpers as wh
    from wbs.cases import identity

    custodian = wh.sign_in(ctx, demo, clock, "inspektur")
    everything = [r.id for r in identity.pending_page(ctx, custodian, per_page=10_000).rows]
    assert len(everything) > 3 * 7
    statements.clear()
    walked: list[int] = []
    page = identity.pending_page(ctx, custodian, per_page=7)
    pages = 1
    walked.extend(r.id for r in page.rows)
    while page.next_after is not None:
        assert len(page.rows) == 7
        page = identity.pending_page(ctx, custodian, after=page.next_after, per_page=7)
        walked.extend(r.id for r in page.rows)
        pages += 1
    assert walked == everything and pages == -(-len(everything) // 7)
    listed = [s for s, _ in statements if "FROM identity_requests" in s and "ORDER BY" in s]
    assert listed and all(re.search(r"identity_requests\.id > ", s) for s in listed)
    assert all(offset == 0 for s, p in statements for offset in _offsets(s, p)), statements
    assert all("LIMIT" in s for s in listed)


def test_the_identity_queue_page_links_carry_a_request_id_only(
        ctx: Context, many_requests: int, demo: dict[str, dict[str, str]], client: Any,
        clock: Clock) -> None:
    from tests.functional import workflow_helpers as wh
    from wbs.cases import identity

    custodian = wh.sign_in(ctx, demo, clock, "inspektur")
    # All the custodian may decide, in one page: what the pages must show between them.
    expected = [r.case_number for r in identity.pending_page(ctx, custodian,
                                                             per_page=10_000).rows]
    clock.advance(seconds=31)  # a TOTP code is taken once
    sign_in(client, demo["inspektur"], "inspektur", clock)
    shown: list[str] = []
    url = "/staf/identitas"
    for _ in range(40):
        text = client.get(url).text
        on_page = re.findall(r'<h2 id="req-[0-9]+">(WBS-[0-9-]+)</h2>', text)
        assert len(on_page) <= identity.PER_PAGE  # main listed every request on one page
        shown.extend(on_page)
        found = re.search(r'rel="next" href="(/staf/identitas\?setelah=[0-9]+)"', text)
        if not found:
            break
        url = found.group(1)
    assert shown == expected  # every request, in order, each once
    assert len(expected) > 20  # more than one page
