"""Review of issue 8 finding 11 on compensation (merged after it): a staff act on the claim
refused while it ran (nothing to complete, not complete, not decided) must leave a `denied`
audit row like every other refusal inside `service.with_case`."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    REASON,
    audit_since,
    dispose,
    file_report,
    last_seq,
    staff_team,
)
from wbs.cases import compensation, routing
from wbs.context import Context


def test_review_8_refused_compensation_acts_leave_a_denied_row(
        ctx: Context, demo: dict[str, dict[str, str]], clock: Clock) -> None:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    liaison = team["penghubung.kesehatan"]
    filed = file_report(ctx)
    dispose(ctx, team["verifikator"], filed.number)
    routing.start_processing(ctx, liaison, filed.number)
    acts = {
        "no_claim": lambda: compensation.file_complete(ctx, liaison, filed.number),
        "file_not_complete": lambda: compensation.decide(
            ctx, liaison, filed.number, amount=1, payment_due_on=date(2026, 5, 1),
            reason=REASON),
        "not_decided": lambda: compensation.deliver(ctx, liaison, filed.number),
    }
    for code, act in acts.items():
        seq = last_seq(ctx)
        with pytest.raises(compensation.CompensationRefused, match=code):
            act()
        denied = [e for e in audit_since(ctx, seq) if e.outcome == "denied"]
        assert len(denied) == 1, code
        assert denied[0].case_number == filed.number
        assert code in json.dumps(json.loads(denied[0].details)), code
