"""Issue 4 done-when 3: identity custody end to end with a quorum of 2."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_roundtrip import open_mailbox, staff_open
from wbs import accounts, units
from wbs.enums import Role
from wbs.models import AuditEntry, Case, CaseKeyWrap, IdentityRequest

IDENTITY = "Rahmat Saksi Kunci"
REASON = "Laporan resmi ke Kejaksaan memerlukan identitas pelapor (PP 43/2018)."


@pytest.fixture
def settings(settings: Any) -> Any:
    return replace(settings, identity_quorum=2)


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _decide(client: TestClient, request_id: int, decision: str) -> Any:
    token = csrf_from(client, "/staf/identitas")
    return client.post(f"/staf/identitas/{request_id}", data={
        "csrf_token": token, "decision": decision, "reason": "Perlu untuk pelaporan resmi."})


def test_quorum_of_two(app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Any) -> None:
    with ctx.db.begin() as s:
        kustodian = units.by_slug(s, "kustodian")
        _, secret = accounts.create_user(s, ctx, username="inspektur2", display_name="Wakil",
                                         role=Role.CUSTODIAN, password="second-custodian-pw",
                                         unit=kustodian)
    creds2 = {"password": "second-custodian-pw", "totp_secret": secret}

    r = submit_form(client, {"kind": "whistleblowing", "title": "Suap proyek jalan",
                             "what": "Kontraktor menyuap pejabat.", "identity_mode":
                             "confidential", "identity_name": IDENTITY})
    code = CODE_RE.search(r.text)
    assert code
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()

    investigator, investigator2 = _client(app), _client(app)
    custodian, custodian2 = _client(app), _client(app)
    sign_in(investigator, demo["investigator"], "investigator", clock)
    sign_in(investigator2, demo["investigator2"], "investigator2", clock)
    sign_in(custodian, demo["inspektur"], "inspektur", clock)
    # The new custodian has no key until a key holder of the unit grants it, with a reason.
    token = csrf_from(custodian, "/staf")
    assert custodian.post("/staf/akses", data={
        "csrf_token": token, "username": "inspektur2",
        "reason": "Wakil Inspektur, SK Bupati 12/2026"}).headers["location"] == "/staf?ok=granted"
    sign_in(custodian2, creds2, "inspektur2", clock)

    staff_open(investigator, number)
    token = csrf_from(investigator, f"/staf/kasus/{number}")
    assert investigator.post(f"/staf/kasus/{number}/identitas/minta",
                             data={"csrf_token": token, "reason": REASON}).status_code == 303
    with ctx.db() as s:
        request_id = s.scalars(select(IdentityRequest.id)).one()

    # Custodians see the request, never the report content.
    queue = custodian.get("/staf/identitas")
    assert number in queue.text and REASON in queue.text
    assert custodian.get(f"/staf/kasus/{number}").status_code == 403

    assert _decide(custodian, request_id, "approve").headers["location"].endswith("pending")
    assert investigator.get(f"/staf/kasus/{number}/identitas").status_code == 403  # still sealed

    assert _decide(custodian2, request_id, "approve").headers["location"].endswith("approved")
    shown = investigator.get(f"/staf/kasus/{number}/identitas")
    assert shown.status_code == 200 and IDENTITY in shown.text
    other = investigator2.get(f"/staf/kasus/{number}/identitas")
    assert other.status_code == 403 and IDENTITY not in other.text

    # The reporter is told: when, to which role, why; never the investigator's name.
    reporter = _client(app)
    open_mailbox(reporter, code.group(1))
    mailbox = reporter.get("/kotak-pesan")
    assert "Kejaksaan memerlukan identitas" in mailbox.text
    assert "investigator" not in re.sub(r"<[^>]+>", "", mailbox.text).lower().replace(
        "apip investigator", "")

    # After the disclosure period the requester cannot read it, and the wrap is gone.
    clock.advance(days=15)
    for c in (investigator, custodian):  # sessions idle out; sign in again
        c.cookies.clear()
    sign_in(investigator, demo["investigator"], "investigator", clock)
    assert investigator.get(f"/staf/kasus/{number}/identitas").status_code == 403
    from wbs.cases.identity import expire_disclosures

    assert expire_disclosures(ctx) == 1
    with ctx.db() as s:
        user_wraps = s.scalars(select(CaseKeyWrap).where(CaseKeyWrap.recipient_kind == "user"))
        assert list(user_wraps) == []
        actions = {e.action for e in s.scalars(select(AuditEntry))}
        denied = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied",
                                                    AuditEntry.actor == "investigator2")).all()
    assert {"identity.request", "identity.decide", "identity.disclose", "identity.view",
            "identity.disclosure_expired"} <= actions
    assert denied and all("case:identity:read" in d.details for d in denied)


def test_anonymous_reporter_has_nothing_to_disclose(app: Any, client: TestClient, demo: Any,
                                                    clock: Clock, ctx: Any) -> None:
    submit_form(client, {"kind": "whistleblowing", "title": "Anonim", "what": "Pungli.",
                         "identity_mode": "anonymous"})
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    sign_in(client, demo["investigator"], "investigator", clock)
    page = staff_open(client, number)
    assert "tidak ada identitas yang dapat dibuka" in page.text.lower() or "anonim" in page.text
    token = csrf_from(client, f"/staf/kasus/{number}")
    r = client.post(f"/staf/kasus/{number}/identitas/minta",
                    data={"csrf_token": token, "reason": REASON})
    assert r.headers["location"].endswith("ok=anonymous")
    with ctx.db() as s:
        assert s.scalars(select(IdentityRequest)).first() is None


def test_a_custodian_cannot_approve_alone_own_or_twice(app: Any, client: TestClient, demo: Any,
                                                      clock: Clock, ctx: Any) -> None:
    submit_form(client, {"kind": "whistleblowing", "title": "X", "what": "Y",
                         "identity_mode": "confidential", "identity_name": IDENTITY})
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    investigator, custodian = _client(app), _client(app)
    sign_in(investigator, demo["investigator"], "investigator", clock)
    sign_in(custodian, demo["inspektur"], "inspektur", clock)
    staff_open(investigator, number)
    token = csrf_from(investigator, f"/staf/kasus/{number}")
    investigator.post(f"/staf/kasus/{number}/identitas/minta",
                      data={"csrf_token": token, "reason": REASON})
    with ctx.db() as s:
        request_id = s.scalars(select(IdentityRequest.id)).one()
    assert _decide(custodian, request_id, "approve").headers["location"].endswith("pending")
    assert _decide(custodian, request_id, "approve").headers["location"].endswith("already")
    assert investigator.get(f"/staf/kasus/{number}/identitas").status_code == 403
    # An investigator cannot decide at all (route guard refuses and audits).
    assert investigator.post(f"/staf/identitas/{request_id}", data={
        "csrf_token": token, "decision": "approve", "reason": "saya sendiri saja"}
    ).status_code == 403
