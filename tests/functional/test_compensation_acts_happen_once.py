"""Each step of a compensation claim happens once: a file completed twice, a decision taken twice
or delivered twice is refused, as are amounts out of range and decisions without a reason; the
decision stays as first taken. A case without a claim shows none."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import Clock
from tests.functional.test_compensation import ITEMS, _in_process
from tests.functional.workflow_helpers import REASON, reporter_access, staff_team
from wbs.cases import compensation, service
from wbs.context import Context


@pytest.fixture
def team(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock) -> Any:
    return staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan", "pimpinan")


def test_each_step_happens_once(ctx: Context, team: Any) -> None:
    liaison = team["penghubung.kesehatan"]
    number, code = _in_process(ctx, team)
    assert compensation.view(ctx, liaison, number) is None
    compensation.claim_by_reporter(ctx, reporter_access(ctx, code), ITEMS)
    compensation.file_complete(ctx, liaison, number)
    with pytest.raises(compensation.CompensationRefused, match="already_complete"):
        compensation.file_complete(ctx, liaison, number)
    for amount in (-1, compensation.MAX_AMOUNT + 1, "1e9"):
        with pytest.raises(compensation.CompensationRefused, match="amount_invalid"):
            compensation.decide(ctx, liaison, number, amount=amount,
                                payment_due_on=date(2026, 5, 1), reason=REASON)
    with pytest.raises(compensation.CompensationRefused, match="reason_required"):
        compensation.decide(ctx, liaison, number, amount=1000, payment_due_on=date(2026, 5, 1),
                            reason="ok")
    compensation.decide(ctx, liaison, number, amount=1000, payment_due_on=date(2026, 5, 1),
                        reason=REASON)
    with pytest.raises(compensation.CompensationRefused, match="already_decided"):
        compensation.decide(ctx, liaison, number, amount=9_000_000,
                            payment_due_on=date(2026, 5, 1), reason=REASON)
    compensation.deliver(ctx, liaison, number)
    with pytest.raises(compensation.CompensationRefused, match="already_delivered"):
        compensation.deliver(ctx, liaison, number)
    service.state_purpose(ctx, liaison, number, "Memeriksa keputusan ganti rugi")
    claim = compensation.view(ctx, liaison, number)
    assert claim is not None and claim.decision is not None
    assert claim.decision.amount == 1000
