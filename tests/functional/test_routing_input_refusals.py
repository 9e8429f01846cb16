"""Routing refuses incomplete acts: a form error before the act changes nothing and records
nothing; a refusal found while the act runs (a unit that does not exist) is recorded as denied.
Leadership's dispute list is leadership's only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.test_jobs import (
    CALENDAR,
    UNIT,
    case_of,
    deadline,
    dispose,
    go_to,
    staff,
    submit,
    verifier,
)
from wbs.cases import routing, service
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.models import AuditEntry


def _entries(ctx: Context, number: str) -> list[tuple[str, str, dict[str, Any]]]:
    with ctx.read() as session:
        return [(e.action, e.outcome, json.loads(e.details)) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.case_number == number).order_by(AuditEntry.seq))]


def test_form_errors_change_and_record_nothing(ctx: Context, demo: Any, clock: Clock) -> None:
    number = submit(ctx).case_number
    v = verifier(ctx, demo, clock, number)
    before = _entries(ctx, number)
    for classification, days, code in (("no_oversight", 7, "resolution_required"),
                                       ("whatever", 14, "classification_required")):
        with pytest.raises(routing.InvalidInput) as refused:
            routing.verify_and_dispose(ctx, v, number, classification=classification,
                                       resolution_days=days, unit_slugs=[UNIT])
        assert refused.value.code == code
    for text in ("ok", "x" * 50_001):
        with pytest.raises(routing.InvalidInput, match="answer_required"):
            routing.answer_aspiration(ctx, v, number, text)
        with pytest.raises(routing.InvalidInput, match="answer_required"):
            routing.answer(ctx, v, number, text)
    with pytest.raises(routing.InvalidInput, match="unknown_action"):
        routing.check_reporter_response(Action.START_PROCESSING, "Terima kasih.")
    assert _entries(ctx, number) == before
    assert case_of(ctx, number).state == "received"


def test_a_return_to_a_unit_that_does_not_exist_is_recorded_as_denied(
        ctx: Context, demo: Any, clock: Clock) -> None:
    number = submit(ctx).case_number
    dispose(ctx, demo, clock, number, 14)
    liaison = staff(ctx, demo, clock, "penghubung.pendidikan")
    service.state_purpose(ctx, liaison, number, "Menindaklanjuti disposisi")
    with pytest.raises(routing.InvalidInput, match="unknown_unit"):
        routing.return_disposition(ctx, liaison, number, "dinas-yang-tidak-ada",
                                   "Bukan kewenangan kami, mohon dialihkan.")
    assert _entries(ctx, number)[-1] == ("access.case", "denied", {
        "permission": "case:answer", "why": "unknown_unit"})
    assert case_of(ctx, number).state == "verified"


def test_only_leadership_sees_the_dispute_list(ctx: Context, demo: Any, clock: Clock) -> None:
    number = submit(ctx).case_number
    dispose(ctx, demo, clock, number, 14)
    liaison = staff(ctx, demo, clock, "penghubung.pendidikan")
    service.state_purpose(ctx, liaison, number, "Menindaklanjuti disposisi")
    routing.start_processing(ctx, liaison, number)
    go_to(ctx, clock, CALENDAR.add_working_days(deadline(ctx, number, "answer").due_on, 1))
    assert routing.disputes(ctx, staff(ctx, demo, clock, "verifikator")) == []
    assert [row.case_number for row in routing.disputes(ctx, staff(ctx, demo, clock,
                                                                   "pimpinan"))] == [number]
