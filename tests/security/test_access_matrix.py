"""Issue 4 done-when 1: every role, a member of the reported unit and a staff member with a
declared conflict, against every permission, on cases in every state. The expected verdicts are
the table below, written by hand; every refusal must leave an audit row with outcome "denied"."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select, update

from wbs import accounts, units
from wbs.access import Permission, authorize
from wbs.accounts import StaffIdentity
from wbs.cases import intake, service
from wbs.enums import CaseState, Channel, ReportKind, Role
from wbs.models import AuditEntry, Case, Conflict, StaffSession

P = Permission
ALL_STATES = list(CaseState)
OPEN = [CaseState.RECEIVED, CaseState.NEEDS_INFO, CaseState.VERIFIED, CaseState.IN_PROCESS,
        CaseState.ANSWERED]
AWAITING = [CaseState.RECEIVED, CaseState.NEEDS_INFO]
DISPOSABLE = [*AWAITING, CaseState.VERIFIED, CaseState.IN_PROCESS]
# Intake permissions are about no existing case (checked without one: test_global_permissions).
GLOBAL_CASE_PERMISSIONS = (P.CASE_LIST, P.CASE_INTAKE, P.CASE_INTAKE_WHISTLEBLOWING)
CASE_PERMISSIONS = [p for p in Permission if p.value.startswith("case:")
                    and p not in GLOBAL_CASE_PERMISSIONS]

# (actor, case kind) → {permission: states in which it is allowed}. Anything absent is refused.
# "complaint" cases are held by the verifier team; "whistleblowing" cases by APIP. Both name
# dinas-pendidikan as the reported unit.
TABLE: dict[tuple[str, str], dict[Permission, list[CaseState]]] = {
    ("verifikator", "complaint"): {
        P.CASE_READ: ALL_STATES, P.CASE_ATTACHMENT_READ: ALL_STATES, P.CASE_MESSAGE: OPEN,
        P.CASE_VERIFY: AWAITING, P.CASE_DISPOSE: DISPOSABLE,
        P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("verifikator", "whistleblowing"): {},
    # Cases an actor may not see take no conflict declaration either: the answer would tell
    # that the case exists (issue 8, finding 10).
    ("penghubung.kesehatan", "complaint"): {},
    ("penghubung.kesehatan", "whistleblowing"): {},
    ("investigator", "complaint"): {},
    ("investigator", "whistleblowing"): {
        P.CASE_READ: ALL_STATES, P.CASE_ATTACHMENT_READ: ALL_STATES, P.CASE_MESSAGE: OPEN,
        P.CASE_ANSWER: OPEN, P.CASE_INVESTIGATE: OPEN, P.CASE_EXPORT: ALL_STATES,
        P.CASE_IDENTITY_REQUEST: OPEN, P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("inspektur", "complaint"): {P.CASE_IDENTITY_DECIDE: ALL_STATES,
                                 P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("inspektur", "whistleblowing"): {P.CASE_IDENTITY_DECIDE: ALL_STATES,
                                      P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("pimpinan", "complaint"): {P.CASE_CLOSE_DISPUTE: OPEN, P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("pimpinan", "whistleblowing"): {},
    ("auditor", "complaint"): {P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("auditor", "whistleblowing"): {P.CASE_CONFLICT_DECLARE: ALL_STATES},
    ("admin", "complaint"): {},
    ("admin", "whistleblowing"): {},
    # A member of the reported unit: for a complaint, like any other unit that does not hold
    # it until it receives a disposition (RULES §6, issue 10); nothing at all on whistleblowing,
    # or on a complaint whose reporter feared retaliation ("shielded"). A verifier who declared
    # a conflict: nothing at all.
    ("penghubung.pendidikan", "complaint"): {},
    ("penghubung.pendidikan", "shielded"): {},
    ("penghubung.pendidikan", "whistleblowing"): {},
    ("verifikator.konflik", "complaint"): {},
    ("verifikator.konflik", "whistleblowing"): {},
}
# A shielded complaint is a complaint for everyone but the reported unit.
TABLE.update({(name, "shielded"): allowed for (name, kind), allowed in list(TABLE.items())
              if kind == "complaint" and name != "penghubung.pendidikan"})

# Permissions that are not about one case: role → allowed.
GLOBAL_TABLE: dict[str, set[Permission]] = {
    "verifikator": {P.STAFF_SIGNED_IN, P.CASE_LIST, P.CASE_INTAKE, P.LAPOR_OUTBOX_READ,
                    P.LAPOR_EXPORT},
    "penghubung.kesehatan": {P.STAFF_SIGNED_IN, P.CASE_LIST},
    "investigator": {P.STAFF_SIGNED_IN, P.CASE_LIST, P.CASE_INTAKE,
                     P.CASE_INTAKE_WHISTLEBLOWING},
    "inspektur": {P.STAFF_SIGNED_IN},
    "pimpinan": {P.STAFF_SIGNED_IN, P.STATS_READ, P.STAFF_ACTIVITY_READ, P.LAPOR_OUTBOX_READ},
    "auditor": {P.STAFF_SIGNED_IN, P.AUDIT_READ, P.AUDIT_EXPORT},
    "admin": {P.STAFF_SIGNED_IN, P.USER_MANAGE, P.UNIT_MANAGE, P.CONFIG_MANAGE},
}


def _identity(ctx: Any, username: str) -> StaffIdentity:
    from wbs.models import User

    with ctx.db.begin() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        unit = s.get(units.Unit, user.unit_id) if user.unit_id else None
        row = StaffSession(token_hash=hashlib.sha256(username.encode()).digest(),
                           user_id=user.id, created_at=ctx.now(), last_seen_at=ctx.now(),
                           private_key_sealed=b"")
        s.add(row)
        s.flush()
        return StaffIdentity(user_id=user.id, username=user.username,
                             display_name=user.display_name, role=Role(user.role),
                             unit_id=user.unit_id, unit_slug=unit.slug if unit else None,
                             session_id=row.id, token=b"\0" * 32, private_key_sealed=b"")


@pytest.fixture
def world(ctx: Any, demo: Any) -> dict[str, Any]:
    with ctx.db.begin() as s:
        accounts.create_user(s, ctx, username="verifikator.konflik", display_name="V2",
                             role=Role.VERIFIER, password="another-verifier",
                             unit=units.by_slug(s, "tim-pengelola"))
    cases: dict[tuple[str, CaseState], str] = {}
    for kind in ("complaint", "shielded", "whistleblowing"):
        for state in CaseState:
            report = intake.ReportInput(kind=ReportKind(kind if kind != "shielded"
                                                        else "complaint"),
                                        title="t", what="w", reported_unit="dinas-pendidikan",
                                        shield_reported_unit=kind == "shielded")
            number = intake.submit(ctx, report, [], Channel.WEB).case_number
            with ctx.db.begin() as s:
                s.execute(update(Case).where(Case.case_number == number)
                          .values(state=state.value))
            cases[(kind, state)] = number
    actors = {name: _identity(ctx, name) for name in {name for name, _ in TABLE}}
    with ctx.db.begin() as s:
        conflicted = actors["verifikator.konflik"]
        for number in cases.values():
            case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
            s.add(Conflict(case_id=case_id, user_id=conflicted.user_id, reason="saudara",
                           declared_at=ctx.now()))
    return {"cases": cases, "actors": actors}


def test_matrix(ctx: Any, world: dict[str, Any]) -> None:
    mismatches = []
    for (name, kind), allowed in TABLE.items():
        staff = world["actors"][name]
        for state in CaseState:
            number = world["cases"][(kind, state)]
            for permission in CASE_PERMISSIONS:
                expected = state in allowed.get(permission, [])
                with ctx.db() as s:
                    before = s.scalar(select(func.count()).select_from(AuditEntry))
                try:
                    service.with_case(ctx, staff, number, permission, lambda _s, _c: None)
                    got = True
                except service.AccessDenied:
                    got = False
                if got != expected:
                    mismatches.append((name, kind, state.value, permission.value, got))
                    continue
                with ctx.db() as s:
                    new = s.scalars(select(AuditEntry).where(AuditEntry.seq > before)).all()
                if got:
                    assert new == [], "the check itself writes nothing; the act audits"
                else:
                    assert len(new) == 1 and new[0].outcome == "denied"
                    assert new[0].actor == name and new[0].case_number == number
                    assert permission.value in new[0].details
    assert mismatches == []


def test_global_permissions(ctx: Any, world: dict[str, Any]) -> None:
    for name, granted in GLOBAL_TABLE.items():
        actor = service.actor_of(world["actors"][name])
        for permission in Permission:
            if permission.value.startswith("case:") and (
                    permission not in GLOBAL_CASE_PERMISSIONS):
                continue
            assert authorize(actor, permission).allowed == (permission in granted), (
                name, permission)


def test_no_content_permission_for_admin_auditor_leadership() -> None:
    from wbs.access import ROLE_PERMISSIONS

    content = {P.CASE_READ, P.CASE_ATTACHMENT_READ, P.CASE_MESSAGE, P.CASE_EXPORT,
               P.CASE_IDENTITY_READ, P.CASE_ANSWER, P.CASE_INVESTIGATE}
    for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.LEADERSHIP, Role.CUSTODIAN):
        assert not (ROLE_PERMISSIONS[role] & content), role
