"""Issue 12: the whole audit log is paged by sequence number, not counted and skipped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

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
