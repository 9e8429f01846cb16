"""An account created by an administrator cannot read a unit's cases until a key holder of the
unit grants access, explicitly and with a reason; roles must fit their unit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import submit_form
from tests.functional.test_roundtrip import staff_open
from wbs import accounts, units
from wbs.enums import Role
from wbs.models import AuditEntry, Case, UnitKeyWrap, User


def _plant(ctx: Any, username: str, role: Role, unit_slug: str) -> dict[str, str]:
    with ctx.db.begin() as s:
        _, secret = accounts.create_user(s, ctx, username=username, display_name="Planted",
                                         role=role, password="planted-password",
                                         unit=units.by_slug(s, unit_slug), actor="admin")
    return {"password": "planted-password", "totp_secret": secret}


def test_planted_account_reads_nothing_until_granted(app: Any, client: TestClient, demo: Any,
                                                     clock: Clock, ctx: Any) -> None:
    submit_form(client, {"kind": "whistleblowing", "title": "Suap", "what": "Isi rahasia",
                         "identity_mode": "anonymous"})
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    creds = _plant(ctx, "titipan", Role.INVESTIGATOR, "inspektorat")

    # A key holder signs in: nothing is handed over behind anyone's back.
    investigator = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(investigator, demo["investigator"], "investigator", clock)
    with ctx.db() as s:
        planted = s.scalars(select(User).where(User.username == "titipan")).one()
        assert s.scalars(select(UnitKeyWrap).where(UnitKeyWrap.user_id == planted.id)).first() \
            is None

    planted_client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(planted_client, creds, "titipan", clock)
    page = staff_open(planted_client, number)
    assert page.status_code == 403 and "Isi rahasia" not in page.text

    # The key holder sees the colleague waiting, and grants with a reason.
    dashboard = investigator.get("/staf")
    assert "titipan" in dashboard.text
    token = csrf_from(investigator, "/staf")
    short = investigator.post("/staf/akses", data={"csrf_token": token, "username": "titipan",
                                                   "reason": "ok"})
    assert short.headers["location"].endswith("galat=reason_required")
    token = csrf_from(investigator, "/staf")
    granted = investigator.post("/staf/akses", data={
        "csrf_token": token, "username": "titipan",
        "reason": "Auditor baru Inspektorat, SK 7/2026"})
    assert granted.headers["location"] == "/staf?ok=granted"
    assert "Isi rahasia" in staff_open(planted_client, number).text
    with ctx.db() as s:
        grant = s.scalars(select(AuditEntry).where(AuditEntry.action == "key.unit.grant",
                                                   AuditEntry.actor == "investigator")).one()
    assert grant.reason == "Auditor baru Inspektorat, SK 7/2026" and "titipan" in grant.details


def test_only_key_holders_of_the_same_unit_can_grant(app: Any, client: TestClient, demo: Any,
                                                     clock: Clock, ctx: Any) -> None:
    _plant(ctx, "baru", Role.INVESTIGATOR, "inspektorat")
    sign_in(client, demo["verifikator"], "verifikator", clock)  # another unit
    token = csrf_from(client, "/staf")
    r = client.post("/staf/akses", data={"csrf_token": token, "username": "baru",
                                         "reason": "saya ingin membantu"})
    assert r.headers["location"].endswith("galat=not_a_colleague")
    with ctx.db() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.action == "key.unit.grant",
                                                    AuditEntry.outcome == "denied")).one()
    assert denied.actor == "verifikator"


@pytest.mark.parametrize(("role", "unit"), [(Role.LIAISON, "inspektorat"),
                                            (Role.VERIFIER, "kustodian"),
                                            (Role.INVESTIGATOR, "dinas-pupr"),
                                            (Role.ADMINISTRATOR, "inspektorat")])
def test_roles_must_fit_their_unit(ctx: Any, demo: Any, role: Role, unit: str) -> None:
    with pytest.raises(accounts.RoleUnitMismatch):
        _plant(ctx, "salah", role, unit)
