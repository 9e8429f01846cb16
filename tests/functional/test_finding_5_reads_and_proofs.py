"""Issue 8, finding 5: every status lookup appended to the audit log (173 entries/s from one
anonymous client), and the public consistency proof read the whole log on every call.

A reporter's read (status, mailbox view, download, mailbox sign-in) is not an act: it is counted
per day and kind, in memory, and written once the day has ended, and a status lookup writes
nothing at all. Consistency proofs come from a cache of complete subtrees, so a repeated or
neighbouring request reads a few leaves at most, never the whole log.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_audit_views import add
from tests.functional.test_intake import CODE_RE, submit_form
from wbs import jobs
from wbs.audit import checkpoint as cp
from wbs.audit import merkle
from wbs.context import Context
from wbs.jobs import publish_checkpoint_job
from wbs.models import AuditEntry, Base, ReporterReadCount

REPORT = {"kind": "complaint", "title": "Lampu jalan mati", "what": "Sudah dua bulan.",
          "identity_mode": "anonymous"}


def _row_counts(ctx: Context) -> dict[str, int]:
    with ctx.db() as s:
        return {t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}


def _mailbox(app: Any, code: str) -> TestClient:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code}
                        ).status_code == 303
    return browser


def test_finding_5_status_lookups_and_mailbox_reads_do_not_grow_the_log(
        app: Any, client: TestClient, demo: Any, ctx: Context, clock: Clock) -> None:
    r = submit_form(client, REPORT, files=[("bukti.txt", b"foto", "text/plain")])
    code = CODE_RE.search(r.text)
    assert code
    jobs.run_all(ctx)
    before = _row_counts(ctx)
    for _ in range(20):
        token = csrf_from(client, "/status")
        assert client.post("/status", data={"csrf_token": token, "code": code.group(1)}
                           ).status_code == 200
        assert client.post("/api/v1/status", json={"code": code.group(1)}).status_code == 200
    # Status lookups write nothing at all: no row anywhere changes in number.
    assert _row_counts(ctx) == before
    browser = _mailbox(app, code.group(1))
    for _ in range(5):
        page = browser.get("/kotak-pesan")
        link = re.search(r'href="(/kotak-pesan/lampiran/[0-9]+)"', page.text)
        assert link and browser.get(link.group(1)).status_code == 200
        assert client.post("/api/v1/mailbox", json={"code": code.group(1)}).status_code == 200
    after = _row_counts(ctx)
    assert after["audit_entries"] == before["audit_entries"]
    assert after["audit_pending"] == before["audit_pending"]
    assert after["reporter_sessions"] == before["reporter_sessions"] + 1  # the sign-in's own

    # Counted in memory, and written, by day and kind and nothing else, once the day is over.
    assert jobs.run_all(ctx)["reporter_reads_counted"] == 0
    clock.advance(days=1)
    assert jobs.run_all(ctx)["reporter_reads_counted"] == 40 + 1 + 10 + 5
    with ctx.db() as s:
        counts = {(c.day, c.kind): c.count for c in s.scalars(select(ReporterReadCount))}
    day = date(2026, 3, 2)
    assert counts == {(day, "status"): 40, (day, "mailbox_open"): 1,
                      (day, "mailbox_view"): 10, (day, "download"): 5}
    # The day's batch appended the report's own record, and nothing for the reads.
    assert _row_counts(ctx)["audit_entries"] == before["audit_entries"] + before["audit_pending"]


def test_reads_counts_add_up_across_flushes_and_survive_a_failed_write(
        ctx: Context, tmp_path: Path) -> None:
    day = date(2026, 3, 2)
    reads = ctx.reporter_reads
    reads.add(day, "status")
    reads.add(day + timedelta(days=1), "status")
    assert reads.flush(ctx.db, day + timedelta(days=1)) == 1  # the ended day only
    reads.add(day, "status")
    reads.add(day, "status")
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    with pytest.raises(DBAPIError):
        reads.flush(sessionmaker(unreachable), None)
    unreachable.dispose()
    assert reads.pending() == {(day, "status"): 2, (day + timedelta(days=1), "status"): 1}
    assert reads.flush(ctx.db, None) == 3
    with ctx.db() as s:
        counts = {(c.day, c.kind): c.count for c in s.scalars(select(ReporterReadCount))}
    assert counts == {(day, "status"): 3, (day + timedelta(days=1), "status"): 1}
    with pytest.raises(ValueError):
        reads.add(day, "case.view")


class LeafReads:
    """Counts the audit leaf rows each consistency request asks the database for."""

    def __init__(self, ctx: Context) -> None:
        self.rows = 0
        event.listen(ctx.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "leaf_hash" not in statement or "audit_entries" not in statement:
            return
        values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
        numbers = [v for v in values if isinstance(v, int)]
        if not numbers:
            return  # the test's own reading of the whole log, to compare with
        # seq <= hi alone (the whole log up to hi), or seq >= lo AND seq <= hi.
        lo, hi = (1, numbers[-1]) if len(numbers) == 1 else (numbers[0], numbers[-1])
        self.rows += hi - lo + 1


def _proof(client: TestClient, old: cp.Checkpoint, new: cp.Checkpoint) -> list[bytes]:
    body = client.get("/api/v1/transparansi/consistency",
                      params={"from": str(old.size), "to": str(new.size)}).json()
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    return proof


def test_finding_5_consistency_proofs_do_not_reread_the_log(client: TestClient, demo: Any,
                                                           ctx: Context) -> None:
    keys = ctx.audit_keys

    def grow(n: int) -> cp.Checkpoint:
        add(ctx, n, action="test.fill")
        return cp.parse_and_verify(publish_checkpoint_job(ctx), keys.key_name, keys.public)

    def leaves() -> list[bytes]:
        with ctx.db() as s:
            return list(s.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq)))

    sizes = [grow(700), grow(650), grow(3)]
    reads = LeafReads(ctx)
    for old, new in ((sizes[0], sizes[1]), (sizes[0], sizes[2]), (sizes[1], sizes[2])):
        assert _proof(client, old, new) == merkle.consistency_proof(leaves(), old.size,
                                                                    new.size)
    reads.rows = 0
    for old, new in ((sizes[0], sizes[1]), (sizes[0], sizes[2]), (sizes[1], sizes[2])):
        assert _proof(client, old, new) == merkle.consistency_proof(leaves(), old.size,
                                                                    new.size)
    # Before the fix each call read every leaf up to its larger size (here over 4,000 rows
    # per round); a first pass fills the cache, after which these pairs read nothing.
    assert reads.rows == 0
    for _ in range(30):
        _proof(client, sizes[0], sizes[2])
    assert reads.rows == 0
    # The log grows: a proof to the new size reads the new leaves and the edges, not the log.
    sizes.append(grow(300))
    reads.rows = 0
    assert _proof(client, sizes[0], sizes[3]) == merkle.consistency_proof(
        leaves(), sizes[0].size, sizes[3].size)
    assert reads.rows < 300 + 4 * 256 < sizes[3].size
