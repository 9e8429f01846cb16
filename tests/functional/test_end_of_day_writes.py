"""The serving process's end-of-day writes (wbs.web.housekeeping): when the database refuses the
reporter-read counts, the failure is logged without its message and the counts wait for the
next try; the held log lines are written all the same."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from wbs import logs
from wbs.context import Context
from wbs.web import housekeeping


def test_counts_the_database_refused_wait_for_the_next_try(
        ctx: Context, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    yesterday = ctx.today() - timedelta(days=1)
    ctx.reporter_reads.add(yesterday, "status")
    logs.DEFERRED.add(yesterday, {"event": "request", "level": "info", "logger": "wbs",
                                  "path": "/status", "status": 200})
    real_begin = sessionmaker.begin

    def refuse(self: sessionmaker[Session]) -> object:
        raise ConnectionError("server at 10.0.0.5 closed the connection")

    monkeypatch.setattr(sessionmaker, "begin", refuse)
    caplog.set_level(logging.INFO)
    housekeeping.end_of_day(ctx)  # does not raise
    failed = [r for r in caplog.records if r.getMessage() == "reporter_reads.flush_failed"]
    assert len(failed) == 1 and failed[0].levelname == "WARNING"
    assert failed[0].fields["exception"] == "ConnectionError"  # type: ignore[attr-defined]
    assert "10.0.0.5" not in caplog.text
    assert any(r.getMessage() == "request" for r in caplog.records)  # held lines written
    assert ctx.reporter_reads.pending() == {(yesterday, "status"): 1}  # kept

    monkeypatch.setattr(sessionmaker, "begin", real_begin)
    housekeeping.end_of_day(ctx)
    assert ctx.reporter_reads.pending() == {}
