"""Finding 7 (issue 8): puppet custodians.

An administrator can create an account with the custodian role in the custodian unit. Before the
fix its vote counted towards the identity quorum, so the administrator's puppet and one real
custodian disclosed a reporter's identity. Only a custodian vouched for by an existing one (who
holds the custodian unit's key wrap, granted with a reason like any unit key) may see or decide
a request; the first custodians are the unit's first members (`wbs init`, `wbs user add`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock, csrf_from
from tests.conftest import sign_in as web_sign_in
from tests.functional.workflow_helpers import sign_in
from wbs import accounts, units
from wbs.accounts import StaffIdentity
from wbs.cases import identity, intake
from wbs.context import Context
from wbs.enums import Channel, ReportKind, Role
from wbs.models import AuditEntry, CaseKeyWrap, IdentityRequest, User

REASON = "Laporan resmi ke Kejaksaan memerlukan identitas pelapor (PP 43/2018)."
VOTE = "Perlu untuk pelaporan resmi ke penegak hukum."
PUPPET_PASSWORD = "puppet-custodian-pw"


@pytest.fixture
def settings(settings: Any) -> Any:
    return replace(settings, identity_quorum=2)


def _plant_puppet(ctx: Context, demo: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The administrator creates a custodian account nobody vouched for."""
    with ctx.db.begin() as s:
        _, secret = accounts.create_user(s, ctx, username="boneka", display_name="Boneka",
                                         role=Role.CUSTODIAN, password=PUPPET_PASSWORD,
                                         unit=units.by_slug(s, "kustodian"), actor="admin")
    return {**demo, "boneka": {"password": PUPPET_PASSWORD, "totp_secret": secret}}


def _confidential_case(ctx: Context) -> str:
    report = intake.ReportInput(kind=ReportKind.WHISTLEBLOWING, title="Suap proyek jalan",
                                what="Kontraktor menyuap pejabat.",
                                identity=intake.Identity(name="Rahmat Saksi Kunci"))
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def _requested(ctx: Context, investigator: StaffIdentity, number: str) -> int:
    return identity.request_identity(ctx, investigator, number, REASON)


def _disclosed_to(ctx: Context, username: str) -> bool:
    with ctx.db() as s:
        user_id = s.scalars(select(User.id).where(User.username == username)).one()
        return s.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.purpose == "identity", CaseKeyWrap.recipient_kind == "user",
            CaseKeyWrap.recipient_id == user_id)).first() is not None


def test_finding_7_a_puppet_custodian_cannot_vote_or_see_requests(
        ctx: Context, demo: Any, clock: Clock) -> None:
    creds = _plant_puppet(ctx, demo)
    investigator = sign_in(ctx, creds, clock, "investigator")
    custodian = sign_in(ctx, creds, clock, "inspektur")
    puppet = sign_in(ctx, creds, clock, "boneka")
    number = _confidential_case(ctx)
    request_id = _requested(ctx, investigator, number)

    # The request, its reason and the case number are not shown to the puppet.
    assert identity.pending_requests(ctx, puppet) == []
    with pytest.raises(identity.AccessDenied):
        identity.decide(ctx, puppet, request_id, True, VOTE)
    # The real custodian's approval is the only one: the quorum of two is not met.
    assert identity.decide(ctx, custodian, request_id, True, VOTE) == "pending"
    assert not _disclosed_to(ctx, "investigator")
    with ctx.db() as s:
        assert s.get(IdentityRequest, request_id).state == "pending"  # type: ignore[union-attr]
        denied = s.scalars(select(AuditEntry).where(AuditEntry.actor == "boneka",
                                                    AuditEntry.outcome == "denied")).all()
    assert denied and all("custodian_not_vouched" in d.details for d in denied)


def test_finding_7_a_custodian_vouched_for_by_a_key_holder_counts(
        ctx: Context, demo: Any, clock: Clock) -> None:
    creds = _plant_puppet(ctx, demo)
    investigator = sign_in(ctx, creds, clock, "investigator")
    custodian = sign_in(ctx, creds, clock, "inspektur")
    number = _confidential_case(ctx)
    request_id = _requested(ctx, investigator, number)
    assert identity.decide(ctx, custodian, request_id, True, VOTE) == "pending"

    # A real custodian vouches, with a reason: the same act as any unit-key grant.
    accounts.grant_unit_access(ctx, custodian, "boneka", "Wakil Inspektur, SK Bupati 12/2026")
    second = sign_in(ctx, creds, clock, "boneka")
    assert [r.id for r in identity.pending_requests(ctx, second)] == [request_id]
    assert identity.decide(ctx, second, request_id, True, VOTE) == "approved"
    assert _disclosed_to(ctx, "investigator")


def test_finding_7_a_vote_cast_before_the_rule_is_not_counted(
        ctx: Context, demo: Any, clock: Clock) -> None:
    """A puppet's approval already stored (cast on an older version) never completes a quorum."""
    from wbs.models import IdentityDecision

    creds = _plant_puppet(ctx, demo)
    investigator = sign_in(ctx, creds, clock, "investigator")
    custodian = sign_in(ctx, creds, clock, "inspektur")
    number = _confidential_case(ctx)
    request_id = _requested(ctx, investigator, number)
    with ctx.db.begin() as s:
        puppet_id = s.scalars(select(User.id).where(User.username == "boneka")).one()
        s.add(IdentityDecision(request_id=request_id, custodian_id=puppet_id, approve=True,
                               reason=VOTE, decided_at=ctx.now()))
    assert identity.decide(ctx, custodian, request_id, True, VOTE) == "pending"
    assert not _disclosed_to(ctx, "investigator")


def test_finding_7_the_web_refuses_the_puppet_and_hides_the_queue(
        app: Any, ctx: Context, demo: Any, clock: Clock) -> None:
    from starlette.testclient import TestClient

    creds = _plant_puppet(ctx, demo)
    investigator = sign_in(ctx, creds, clock, "investigator")
    number = _confidential_case(ctx)
    request_id = _requested(ctx, investigator, number)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    web_sign_in(client, creds["boneka"], "boneka", clock)
    queue = client.get("/staf/identitas")
    assert number not in queue.text and REASON not in queue.text
    token = csrf_from(client, "/staf/identitas")
    refused = client.post(f"/staf/identitas/{request_id}", data={
        "csrf_token": token, "decision": "approve", "reason": VOTE})
    assert refused.status_code == 403
    with ctx.db() as s:
        assert s.get(IdentityRequest, request_id).state == "pending"  # type: ignore[union-attr]
