"""Refusals at the door and at the unit key: each failed sign-in and each refused grant leaves a
"denied" audit row (never the typed name of an unknown account); the per-client-and-name
throttle stops guessing at ten and forgets after its window; a malformed cookie is no session."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock, totp_now
from tests.functional.test_jobs import staff
from wbs import accounts, units
from wbs.context import Context
from wbs.enums import Role
from wbs.models import AuditEntry

REASON = "Anggota baru, SK Inspektur 12/2026"


def _denied(ctx: Context, action: str) -> list[tuple[str, dict[str, Any]]]:
    with ctx.read() as session:
        return [(e.actor, json.loads(e.details)) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action,
                                     AuditEntry.outcome == "denied").order_by(AuditEntry.seq))]


def test_refused_grants_are_audited_as_denied(ctx: Context, demo: Any, clock: Clock) -> None:
    with ctx.db.begin() as session:
        _, secret = accounts.create_user(session, ctx, username="auditor9", display_name="Baru",
                                         role=Role.INVESTIGATOR, password="planted-password",
                                         unit=units.by_slug(session, "inspektorat"),
                                         actor="admin")
    newcomer = staff(ctx, {"auditor9": {"password": "planted-password",
                                        "totp_secret": secret}}, clock, "auditor9")
    holder = staff(ctx, demo, clock, "investigator")
    # Not a key holder yet: sees no one waiting, and may give nobody the key.
    assert accounts.pending_members(ctx, newcomer) == []
    with pytest.raises(accounts.GrantRefused, match="not_a_key_holder"):
        accounts.grant_unit_access(ctx, newcomer, "investigator2", REASON)
    with pytest.raises(accounts.GrantRefused, match="already_granted"):
        accounts.grant_unit_access(ctx, holder, "investigator2", REASON)
    with pytest.raises(accounts.GrantRefused, match="not_a_colleague"):
        accounts.grant_unit_access(ctx, holder, "verifikator", REASON)
    with pytest.raises(accounts.GrantRefused, match="reason_required"):
        accounts.grant_unit_access(ctx, holder, "auditor9", "singkat")
    assert _denied(ctx, "key.unit.grant") == [
        ("auditor9", {"member": "investigator2", "why": "not_a_key_holder"}),
        ("investigator", {"member": "investigator2", "why": "already_granted"}),
        ("investigator", {"member": "verifikator", "why": "not_a_colleague"}),
    ]
    assert [m.username for m in accounts.pending_members(ctx, holder)] == ["auditor9"]
    accounts.grant_unit_access(ctx, holder, "auditor9", REASON)
    assert accounts.pending_members(ctx, holder) == []


def test_a_malformed_code_fails_like_a_wrong_one(ctx: Context, demo: Any, clock: Clock) -> None:
    creds = demo["verifikator"]
    for code in ("12345", "1234567", "abcdef", ""):
        with pytest.raises(accounts.SignInFailed):
            accounts.sign_in(ctx, "verifikator", creds["password"], code, "10.0.0.1")
    assert [why for _, why in _denied(ctx, "auth.sign_in")] == [{"step": "totp"}] * 4


def test_the_pair_throttle_stops_at_ten_and_forgets_after_its_window(
        ctx: Context, demo: Any, clock: Clock) -> None:
    creds = demo["verifikator"]
    for _ in range(accounts.PAIR_LIMIT):
        with pytest.raises(accounts.SignInFailed):
            accounts.sign_in(ctx, "Verifikator", "tebakan salah", totp_now(creds["totp_secret"],
                                                                            clock), "10.0.0.2")
        clock.advance(seconds=30)

    def check(client: str) -> float:
        with ctx.db.begin() as session:
            return accounts.throttle_check(session, ctx, "verifikator", client)

    with pytest.raises(accounts.Throttled):
        check("10.0.0.2")
    check("10.0.0.3")  # another client is not held back by this pair
    clock.advance(seconds=accounts.THROTTLE_WINDOW.total_seconds() + 1)
    check("10.0.0.2")
    # A failure after the window starts a new count of one, not eleven.
    with pytest.raises(accounts.SignInFailed):
        accounts.sign_in(ctx, "verifikator", "tebakan salah",
                         totp_now(creds["totp_secret"], clock), "10.0.0.2")
    check("10.0.0.2")


def test_a_cookie_that_is_not_a_token_is_no_session(ctx: Context, demo: Any) -> None:
    assert accounts.load_session(ctx, "zz" * 32) is None
    assert accounts.load_session(ctx, "00" * 31) is None
    assert accounts.load_session(ctx, None) is None
