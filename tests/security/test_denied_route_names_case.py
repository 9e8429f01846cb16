"""A staff member refused a case route by role leaves a denied row that names the case, so an
auditor filtering the log by case finds the attempt (it named only the route before). A number
that is no case stays out of the row, and the answer is the same either way."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Clock
from tests.conftest import sign_in as http_sign_in
from tests.functional.workflow_helpers import ROLE_USERS, audit_since, file_report, last_seq
from wbs.context import Context

FAKE = "WBS-2026-ZZZZ-ZZZZ"


def _signed_in(app: Any, demo: Any, clock: Clock, role: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    username = ROLE_USERS[role]
    assert http_sign_in(client, demo[username], username, clock).status_code == 303
    return client


@pytest.mark.parametrize(("role", "path"), [
    ("custodian", "/staf/kasus/{}/identitas"),  # the identity of a case, without the right
    ("auditor", "/staf/kasus/{}"),
])
def test_a_refused_case_route_names_the_case_it_named(
        app: Any, demo: Any, clock: Clock, ctx: Context, role: str, path: str) -> None:
    filed = file_report(ctx)
    client = _signed_in(app, demo, clock, role)
    seq = last_seq(ctx)
    real = client.get(path.format(filed.number))
    made_up = client.get(path.format(FAKE))
    assert real.status_code == made_up.status_code == 403
    # The refusal tells nothing of whether the case exists (the page quotes its own path).
    assert real.text.replace(filed.number, "N") == made_up.text.replace(FAKE, "N")
    rows = audit_since(ctx, seq)
    assert [(r.action, r.outcome, r.case_number) for r in rows] == [
        ("access.route", "denied", filed.number), ("access.route", "denied", None)]
