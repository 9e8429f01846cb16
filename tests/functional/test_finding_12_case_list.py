"""Issue 12: the case list in time that does not grow with the database.

Pages are found by key (`(received_on, id)`), never by OFFSET; every visible case is listed
exactly once walking forward and back, also when many cases share a day; the overdue and
due-within filters are semi-joins on open deadlines (and on PostgreSQL use the partial index);
the count is capped. Timings are `make bench`'s, not these tests'.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from tests.conftest import Clock, sign_in
from tests.functional import workflow_helpers as wh
from tests.sql_capture import captured_with_parameters
from wbs import demo as demo_module
from wbs import paging
from wbs.accounts import StaffIdentity
from wbs.cases import listing
from wbs.context import Context
from wbs.models import Case, Deadline

N = 240
PER = 4


@pytest.fixture
def bulk(ctx: Context, demo: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    demo_module.bulk(ctx.engine, N, today=ctx.today(), seed=7)
    with ctx.db.begin() as session:
        # Many cases on the same days: the key's second half has to break the ties.
        session.execute(update(Case).where(Case.id % 3 == 0).values(
            received_on=ctx.today() - timedelta(days=10)))
        session.execute(update(Case).where(Case.id % 7 == 0).values(
            received_on=ctx.today() - timedelta(days=11)))
    return demo


@pytest.fixture
def statements(ctx: Context) -> Iterator[list[tuple[str, Any]]]:
    with captured_with_parameters(ctx.engine) as seen:
        yield seen


def _expected(ctx: Context, staff: StaffIdentity) -> list[str]:
    with ctx.db() as session:
        rows = session.execute(select(Case.case_number, Case.received_on, Case.id)
                               .where(listing.visible(staff))).all()
    rows.sort(key=lambda r: (r.received_on, r.id), reverse=True)
    return [r.case_number for r in rows]


@pytest.mark.parametrize("username", ["verifikator", "penghubung.pendidikan", "investigator"])
def test_walking_every_page_forward_and_back_lists_each_visible_case_once(
        ctx: Context, bulk: dict[str, dict[str, str]], clock: Clock, username: str) -> None:
    staff = wh.sign_in(ctx, bulk, clock, username)
    expected = _expected(ctx, staff)
    assert len(expected) > 2 * PER  # several pages
    forward: list[str] = []
    page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER))
    assert not page.prev_key
    pages = [page]
    while page.next_key:
        page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER,
                                                                 after=page.next_key))
        pages.append(page)
    for p in pages:
        assert 0 < len(p.rows) <= PER
        forward.extend(row.case_number for row in p.rows)
    assert forward == expected

    backward: list[str] = []
    page = pages[-1]
    backward[:0] = [row.case_number for row in page.rows]
    steps = 1
    while page.prev_key:
        page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER,
                                                                 before=page.prev_key))
        assert len(page.rows) == PER and page.next_key
        backward[:0] = [row.case_number for row in page.rows]
        steps += 1
    assert backward == expected
    assert steps == len(pages)


def test_a_page_link_carries_the_key_and_the_list_uses_no_offset(
        ctx: Context, bulk: dict[str, dict[str, str]], client: Any, clock: Clock,
        statements: list[tuple[str, Any]]) -> None:
    assert sign_in(client, bulk["verifikator"], "verifikator", clock).status_code in (200, 303)
    first = client.get("/staf/kasus")
    found = re.search(r'rel="next" href="\?([^"]+)"', first.text)
    assert found, "the first page links to the next by key"
    link = found.group(1).replace("&amp;", "&")
    key = dict(part.split("=", 1) for part in link.split("&"))["setelah"]
    parsed = paging.parse_key(key.replace("%2E", ".").replace("%2e", "."))
    assert parsed is not None  # a date and a row id: nothing of any report
    statements.clear()
    second = client.get("/staf/kasus?" + link)
    assert second.status_code == 200
    listed = [s for s, _ in statements if "FROM cases" in s and "ORDER BY" in s]
    assert listed, statements
    # SQLAlchemy writes "LIMIT ? OFFSET ?" on SQLite even without an offset (it binds 0).
    assert all(offset == 0 for s, p in statements for offset in _offsets(s, p)), statements
    # The page walks the unit's holdings in list order (issue 12, migration 0211): the key
    # is compared on the holder's index, not on the whole list's.
    page_sql = [s for s in listed if "FROM case_key_wraps JOIN cases" in s and "LIMIT" in s]
    assert page_sql, listed
    assert any(re.search(
        r"\(case_key_wraps\.received_on, case_key_wraps\.case_id\) <", s) for s in page_sql)
    # The second page continues where the first ended.
    first_numbers = re.findall(r'href="/staf/kasus/(WBS-[0-9-]+)"', first.text)
    second_numbers = re.findall(r'href="/staf/kasus/(WBS-[0-9-]+)"', second.text)
    assert second_numbers and not set(first_numbers) & set(second_numbers)


def _offsets(statement: str, parameters: Any) -> list[int]:
    """The values bound to the OFFSETs of one statement (qmark or pyformat style)."""
    values = []
    for found in re.finditer(r"OFFSET (\?|%\((\w+)\)s|\d+)", statement, re.IGNORECASE):
        if found.group(1) == "?":
            values.append(parameters[statement[:found.end()].count("?") - 1])
        elif found.group(2):
            values.append(parameters[found.group(2)])
        else:
            values.append(int(found.group(1)))
    return values


def test_a_link_that_is_no_key_shows_the_first_page(
        ctx: Context, bulk: dict[str, dict[str, str]], client: Any, clock: Clock) -> None:
    sign_in(client, bulk["verifikator"], "verifikator", clock)
    first = client.get("/staf/kasus").text
    for junk in ("setelah=DROP", "setelah=2025-13-01.4", "sebelum=..", "setelah=1" * 40):
        page = client.get("/staf/kasus?" + junk)
        assert page.status_code == 200
        assert re.findall(r"WBS-[0-9-]+", page.text) == re.findall(r"WBS-[0-9-]+", first)


def _open_due(ctx: Context) -> dict[int, Any]:
    with ctx.db() as session:
        dues: dict[int, Any] = {}
        for case_id, due in session.execute(select(Deadline.case_id, Deadline.due_on)
                                            .where(Deadline.met_on.is_(None))):
            dues[case_id] = min(due, dues.get(case_id, due))
    return dues


def test_overdue_and_due_within_list_the_cases_whose_next_deadline_is_so(
        ctx: Context, bulk: dict[str, dict[str, str]], clock: Clock) -> None:
    staff = wh.sign_in(ctx, bulk, clock, "verifikator")
    today = ctx.today()
    with ctx.db() as session:
        visible = dict(session.execute(
            select(Case.id, Case.case_number).where(listing.visible(staff))).all())
    dues = _open_due(ctx)
    overdue = listing.list_cases(ctx, staff, listing.CaseFilter(overdue=True, per_page=1000))
    assert {r.case_number for r in overdue.rows} == {
        number for cid, number in visible.items() if cid in dues and dues[cid] < today}
    assert overdue.rows and all(r.next_due is not None and r.next_due < today
                                for r in overdue.rows)
    within = listing.list_cases(ctx, staff, listing.CaseFilter(due_within=30, per_page=1000))
    assert {r.case_number for r in within.rows} == {
        number for cid, number in visible.items()
        if cid in dues and dues[cid] <= today + timedelta(days=30)}
    # The next deadline shown is the earliest open one.
    by_number = {number: cid for cid, number in visible.items()}
    assert all(r.next_due == dues.get(by_number[r.case_number]) for r in within.rows)


def test_the_count_is_capped_and_said_so(ctx: Context, bulk: dict[str, dict[str, str]],
                                         client: Any, clock: Clock,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    staff = wh.sign_in(ctx, bulk, clock, "verifikator")
    total = len(_expected(ctx, staff))
    assert listing.list_cases(ctx, staff).count == total
    # Counted on the first page of a filter only.
    first = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER))
    second = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER,
                                                               after=first.next_key))
    assert second.rows and second.count is None
    monkeypatch.setattr(listing, "COUNT_CAP", 20)
    page = listing.list_cases(ctx, staff)
    assert page.count == 21 and page.count_capped
    clock.advance(seconds=31)  # a TOTP code is taken once
    sign_in(client, bulk["verifikator"], "verifikator", clock)
    assert "Matching cases: more than 20." in client.get(
        "/staf/kasus", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize("overdue", [True, False])
def test_on_postgresql_the_overdue_filter_reads_the_next_deadline_from_the_holdings_index(
        ctx: Context, bulk: dict[str, dict[str, str]], clock: Clock, overdue: bool) -> None:
    """Issue 12 at a million cases: the overdue (and due-within) filter probed every held case's
    deadlines from the newest down (21,530 probes for page 1, 0.9 s). The next deadline is in
    the holdings index (migration 0212): the walk reads it from the entry, probing nothing."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the plan pinned here is PostgreSQL's")
    staff = wh.sign_in(ctx, bulk, clock, "verifikator")
    f = listing.CaseFilter(overdue=True) if overdue else listing.CaseFilter(due_within=10)
    query, params = _page_query(ctx, staff, f)
    plan = _plan(ctx, query, params)
    lines = plan.splitlines()
    # The page: its subquery scan, or (once the planner flattens it) its LIMIT.
    start = next(i for i, line in enumerate(lines)
                 if "Subquery Scan on page" in line or line.lstrip().startswith("->  Limit"))
    depth = len(lines[start]) - len(lines[start].lstrip())
    inside = list(itertools.takewhile(lambda line: len(line) - len(line.lstrip()) > depth,
                                      lines[start + 1:]))
    assert inside, plan
    assert any("ix_case_key_wraps_unit_list" in line for line in inside), plan
    assert any("next_due" in line for line in inside), plan
    # Nothing inside the page reads deadlines: the next deadline shown is a subquery outside
    # it, run for the page's rows only.
    assert not any("deadlines" in line or "SubPlan" in line for line in inside), plan


def test_on_postgresql_every_connection_runs_without_jit(ctx: Context) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with ctx.read() as session:
        assert session.execute(text("SHOW jit")).scalar() == "off"
    with ctx.db.begin() as session:
        assert session.execute(text("SHOW jit")).scalar() == "off"


def test_bulk_cases_can_be_added_twice(ctx: Context, bulk: dict[str, dict[str, str]]) -> None:
    demo_module.bulk(ctx.engine, 30, today=ctx.today(), seed=7)
    with ctx.db() as session:
        numbers = list(session.scalars(select(Case.case_number)))
    assert len(numbers) == len(set(numbers)) == N + 30


def _plan(ctx: Context, query: str, params: Any) -> str:
    """The plan PostgreSQL picks when an index can serve (no scan, bitmap or sort instead)."""
    with ctx.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + query, params))


def _page_query(ctx: Context, staff: StaffIdentity,
                f: listing.CaseFilter) -> tuple[str, Any]:
    with captured_with_parameters(ctx.engine) as captured:
        listing.list_cases(ctx, staff, f)
    return next((s, p) for s, p in captured if "ORDER BY" in s)


@pytest.mark.parametrize("username", ["verifikator", "penghubung.pendidikan"])
def test_on_postgresql_a_page_walks_the_units_holdings_in_list_order(
        ctx: Context, bulk: dict[str, dict[str, str]], clock: Clock, username: str) -> None:
    """Visibility and order from one index (migration 0211): the page is the first entries of
    the unit's holdings by day of receipt, not a walk of the whole list probing each case."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("the plan pinned here is PostgreSQL's")
    staff = wh.sign_in(ctx, bulk, clock, username)
    first = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=PER))
    for f in (listing.CaseFilter(), listing.CaseFilter(after=first.next_key)):
        query, params = _page_query(ctx, staff, f)
        plan = _plan(ctx, query, params)
        assert "ix_case_key_wraps_unit_list" in plan, plan
        assert "ix_cases_received_id" not in plan, plan


def test_the_holdings_keep_the_cases_day_of_receipt(
        ctx: Context, bulk: dict[str, dict[str, str]]) -> None:
    """The day copied to the unit wraps follows the case, written by any path (triggers)."""
    from wbs.models import CaseKeyWrap

    def mismatched() -> int:
        with ctx.db() as session:
            return len(session.execute(
                select(CaseKeyWrap.id).join(Case, Case.id == CaseKeyWrap.case_id).where(
                    CaseKeyWrap.purpose == "content", CaseKeyWrap.recipient_kind == "unit",
                    CaseKeyWrap.received_on.is_distinct_from(Case.received_on))).all())

    assert mismatched() == 0  # the fixture moved many cases' days after their wraps were made
    with ctx.db.begin() as session:
        session.execute(update(Case).where(Case.id % 5 == 0).values(
            received_on=ctx.today() - timedelta(days=400)))
    assert mismatched() == 0
    with ctx.db() as session:
        others = session.scalars(select(CaseKeyWrap.received_on).where(
            (CaseKeyWrap.purpose != "content") | (CaseKeyWrap.recipient_kind != "unit"))).all()
    assert others and all(day is None for day in others)


def test_the_holdings_keep_the_cases_next_deadline(
        ctx: Context, bulk: dict[str, dict[str, str]]) -> None:
    """The next open deadline copied to the unit wraps follows every change to deadlines."""
    from wbs.models import CaseKeyWrap

    def mismatched() -> list[Any]:
        dues = _open_due(ctx)
        with ctx.db() as session:
            rows = session.execute(select(CaseKeyWrap.case_id, CaseKeyWrap.next_due).where(
                CaseKeyWrap.purpose == "content", CaseKeyWrap.recipient_kind == "unit")).all()
        assert rows
        return [(case_id, due) for case_id, due in rows if dues.get(case_id) != due]

    assert mismatched() == []
    with ctx.db.begin() as session:
        session.execute(update(Deadline).where(Deadline.id % 3 == 0).values(
            met_on=ctx.today()))
        session.execute(update(Deadline).where(Deadline.id % 3 == 1).values(
            due_on=ctx.today() + timedelta(days=90)))
    assert mismatched() == []
    with ctx.db.begin() as session:
        session.execute(Deadline.__table__.delete().where(Deadline.id % 5 == 0))
    assert mismatched() == []
