"""The narrowing rules of `authorize` hold on their own, not only because today's role table
happens to hide the case first: a Pemda that widens a role (leadership reading cases, say) must
not open APIP's disputes or other units' compensation decisions with it."""

from __future__ import annotations

import pytest

from wbs import access
from wbs.access import Actor, CaseScope, Permission, authorize, role_has
from wbs.enums import CaseState, ReportKind, Role

LEADER = Actor(user_id=7, username="pimpinan", role=Role.LEADERSHIP, unit_id=40)


def _case(*, at_apip: bool, holding: frozenset[int] = frozenset({10})) -> CaseScope:
    return CaseScope(case_number="WBS-2026-00001", kind=ReportKind.COMPLAINT,
                     state=CaseState.IN_PROCESS, at_apip=at_apip, holding_units=holding,
                     reported_unit_id=20, shield_reported_unit=False)


def _widen(monkeypatch: pytest.MonkeyPatch, role: Role, *extra: Permission) -> None:
    table = dict(access.ROLE_PERMISSIONS)
    table[role] = frozenset(table[role] | set(extra))
    monkeypatch.setattr(access, "ROLE_PERMISSIONS", table)


def test_an_unknown_role_has_nothing() -> None:
    assert not role_has("superuser", Permission.CASE_READ)
    assert role_has("leadership", Permission.CASE_CLOSE_DISPUTE)


def test_a_case_permission_asked_without_a_case_is_refused() -> None:
    decision = authorize(LEADER, Permission.CASE_CLOSE_DISPUTE)
    assert (decision.allowed, decision.reason) == (False, "case_required")
    investigator = Actor(user_id=8, username="investigator", role=Role.INVESTIGATOR, unit_id=10)
    assert authorize(investigator, Permission.CASE_INTAKE_WHISTLEBLOWING).allowed


def test_leadership_that_reads_cases_still_closes_no_apip_dispute(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _widen(monkeypatch, Role.LEADERSHIP, Permission.CASE_READ)
    reader = Actor(user_id=7, username="pimpinan", role=Role.LEADERSHIP, unit_id=10)
    assert authorize(reader, Permission.CASE_CLOSE_DISPUTE, _case(at_apip=False)).allowed
    decision = authorize(reader, Permission.CASE_CLOSE_DISPUTE,
                         _case(at_apip=True, holding=frozenset({10})))
    assert (decision.allowed, decision.reason, decision.hidden) == (False, "apip_case", False)


def test_a_unit_bound_permission_needs_the_unit_to_hold_the_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _widen(monkeypatch, Role.LEADERSHIP, Permission.CASE_COMPENSATION_DECIDE)
    decision = authorize(LEADER, Permission.CASE_COMPENSATION_DECIDE, _case(at_apip=False))
    assert (decision.allowed, decision.reason) == (False, "not_assigned_to_unit")
    held = _case(at_apip=False, holding=frozenset({40}))
    assert authorize(LEADER, Permission.CASE_COMPENSATION_DECIDE, held).allowed
