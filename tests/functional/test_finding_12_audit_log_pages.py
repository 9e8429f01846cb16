"""Issue 12: the whole audit log is paged by sequence number, not counted and skipped."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import Clock, sign_in
from tests.functional.test_audit_views import rows_of
from tests.functional.test_finding_12_case_list import _offsets
from wbs import audit
from wbs.audit import activity
from wbs.context import Context
from wbs.models import AuditEntry


def test_the_unfiltered_log_pages_by_sequence_number_without_offset(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    with ctx.db.begin() as session:
        for i in range(23):
            audit.record(session, ctx.audit_keys, actor="admin", role="administrator",
                         action="test.fill", details={"i": i}, now=ctx.now())
    with ctx.db() as session:
        every = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())))
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        walked: list[int] = []
        with ctx.db() as session:
            first = activity.search(session, activity.AuditFilter(), 1, per_page=7)
            assert first.total == len(every) and first.pages == -(-len(every) // 7)
            for page in range(1, first.pages + 1):
                found = activity.search(session, activity.AuditFilter(), page, per_page=7)
                walked.extend(e.seq for e in found.entries)
            beyond = activity.search(session, activity.AuditFilter(), 999, per_page=7)
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    assert walked == every
    assert [e.seq for e in beyond.entries] == every[(first.pages - 1) * 7:]
    # SQLAlchemy writes "LIMIT ? OFFSET ?" on SQLite even without an offset (it binds 0).
    assert all(offset == 0 for s, p in seen for offset in _offsets(s, p)), seen
    assert not any("count(" in s.lower() for s, _ in seen), seen


def _fill(ctx: Context, n: int) -> None:
    with ctx.db.begin() as session:
        for i in range(n):
            audit.record(session, ctx.audit_keys, actor="admin", role="administrator",
                         action="test.fill" if i % 3 else "test.other", details={"i": i},
                         now=ctx.now())


def test_a_filtered_log_pages_by_key_without_offset_or_an_uncapped_count(
        ctx: Context, demo: dict[str, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(ctx, 40)
    flt = activity.AuditFilter(action_prefix="test.fill")
    with ctx.db() as session:
        every = list(session.scalars(select(AuditEntry.seq).where(*flt.conditions())
                                     .order_by(AuditEntry.seq.desc())))
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        with ctx.db() as session:
            page = activity.search(session, flt, 1, per_page=7)
            assert page.total == len(every) and page.pages is None and page.prev_before is None
            pages = [page]
            while page.next_after is not None:
                page = activity.search(session, flt, 1, per_page=7, after=page.next_after)
                assert page.total is None  # counted on the first page only
                pages.append(page)
            walked = [e.seq for p in pages for e in p.entries]
            back: list[int] = []
            page = pages[-1]
            back[:0] = [e.seq for e in page.entries]
            while page.prev_before is not None:
                page = activity.search(session, flt, 1, per_page=7, before=page.prev_before)
                assert len(page.entries) == 7 and page.next_after is not None
                back[:0] = [e.seq for e in page.entries]
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    assert walked == every and back == every
    assert len(pages) == -(-len(every) // 7)
    listed = [s for s, _ in seen if "FROM audit_entries" in s and "ORDER BY" in s]
    assert listed
    assert all(offset == 0 for s, p in seen for offset in _offsets(s, p)), seen
    assert any(re.search(r"audit_entries\.seq < ", s) for s in listed), listed
    assert any(re.search(r"audit_entries\.seq > ", s) for s in listed), listed
    # Every count stops at the cap.
    counts = [s for s, _ in seen if "count(" in s.lower()]
    assert counts and all("LIMIT" in s for s in counts), counts
    monkeypatch.setattr(activity, "COUNT_CAP", 5)
    with ctx.db() as session:
        capped = activity.search(session, flt, 1, per_page=7)
    assert capped.total == 6 and capped.total_capped


def test_the_filtered_log_page_links_carry_a_sequence_number_only(
        ctx: Context, demo: dict[str, dict[str, str]], client: Any, clock: Clock) -> None:
    _fill(ctx, 160)
    sign_in(client, demo["auditor"], "auditor", clock)
    first = client.get("/staf/audit", params={"action": "test.fill"},
                       headers={"Accept-Language": "en"})
    assert "Matching entries: 106, newest first." in first.text
    found = re.search(r'href="(/staf/audit\?[^"]+)" rel="next"', first.text)
    assert found
    link = found.group(1).replace("&amp;", "&")
    assert re.fullmatch(r"/staf/audit\?action=test\.fill&setelah=[0-9]+", link), link
    second = client.get(link)
    shown = _seqs(first.text)
    more = _seqs(second.text)
    assert len(shown) == 50 and more and max(more) < min(shown)
    back = re.search(r'href="(/staf/audit\?[^"]+)" rel="prev"', second.text)
    assert back and re.fullmatch(r"/staf/audit\?action=test\.fill&sebelum=[0-9]+",
                                 back.group(1).replace("&amp;", "&"))
    again = client.get(back.group(1).replace("&amp;", "&"))
    assert _seqs(again.text) == shown
    for junk in ("DROP", "-1", "²", "1" * 30):
        page = client.get("/staf/audit", params={"action": "test.fill", "setelah": junk})
        assert _seqs(page.text) == shown


def _seqs(page: str) -> list[int]:
    return [seq for seq, _, _ in rows_of(page)]
