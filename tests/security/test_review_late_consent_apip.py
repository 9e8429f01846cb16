# ruff: noqa: F811 - the fixtures `stub` and `team` are imported from the consent tests
"""Review of the late merges (consent-fix): a reporter agrees, the verifier then hands the case to
APIP (`consent.close` writes the row as 'withheld'). The reporter, on the mailbox page still open
from before, takes the agreement back: `revoke` checks the frozen states before whether the
question still applies, so the refusal is 'consent_too_late' and the reporter is told that the
report "has already been sent to SP4N-LAPOR!". It never was (a case at APIP never leaves through
the outbox, RULES §2); the docstring promises 'consent_not_applicable' here."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.functional.test_profiles2_lapor_consent import (  # noqa: F401 - fixtures
    _decide,
    _file,
    _mailbox,
    stub,
    team,
)
from tests.functional.workflow_helpers import REASON
from wbs.cases import routing
from wbs.context import Context
from wbs.integrations import consent
from wbs.models import Case


def test_review_late_revoking_after_apip_does_not_say_sent_to_lapor(
        app: Any, ctx: Context, team: Any) -> None:
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    assert _decide(browser, "give").status_code == 303
    routing.hand_to_apip(ctx, team["verifikator"], number, REASON)
    answer = _decide(browser, "revoke")
    assert answer.status_code == 409
    assert "already been sent to SP4N-LAPOR!" not in answer.text, (
        "a case at APIP, never sent, is reported to the reporter as sent to SP4N-LAPOR!")
    with ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
    with pytest.raises(consent.ConsentRefused) as refused:
        consent.revoke(ctx, case_id)
    assert refused.value.reason == "consent_not_applicable"
