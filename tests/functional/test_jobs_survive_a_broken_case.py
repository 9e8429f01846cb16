"""`wbs jobs run` goes on past a case whose act fails: the others are archived, the failure is
counted and logged by type and place only (an exception message can carry case content)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conftest import Clock
from tests.functional.test_jobs import CALENDAR, ask_for_data, case_of, deadline, go_to
from wbs.cases import jobs
from wbs.context import Context


def test_one_failing_case_does_not_stop_the_run(ctx: Context, demo: Any, clock: Clock,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    broken, fine = ask_for_data(ctx, demo, clock), ask_for_data(ctx, demo, clock)
    broken_id = case_of(ctx, broken).id
    real = jobs._process_case

    def process(session: Any, ctx: Context, case_id: int, *rest: Any) -> None:
        if case_id == broken_id:
            raise RuntimeError(f"isi laporan rahasia of {broken}")
        real(session, ctx, case_id, *rest)

    monkeypatch.setattr(jobs, "_process_case", process)
    go_to(ctx, clock, CALENDAR.add_working_days(deadline(ctx, fine, "missing_data").due_on, 1))
    with caplog.at_level(logging.ERROR):
        report = jobs.run_workflow_jobs(ctx)
    assert (report.failed, report.archived) == (1, 1)
    assert case_of(ctx, fine).state == "archived"
    assert case_of(ctx, broken).state == "needs_info"  # rolled back, tried again next run
    [record] = [r for r in caplog.records if r.getMessage() == "jobs.case_failed"]
    fields = record.__dict__["fields"]
    assert fields["case_id"] == broken_id and fields["exception"] == "RuntimeError"
    assert "rahasia" not in repr(fields) and broken not in repr(fields)
    monkeypatch.setattr(jobs, "_process_case", real)
    assert jobs.run_workflow_jobs(ctx).archived == 1
    assert case_of(ctx, broken).state == "archived"
