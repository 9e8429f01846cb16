"""Roles, permissions and per-case authorization: the kode etik as code (RULES §1, §7).

One place decides. Handlers never compare role strings: they declare a `Permission` and service
functions call `authorize()` before they decrypt or change anything. Deny by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from wbs.enums import CaseState, ReportKind, Role


class Permission(StrEnum):
    """Named `scope:resource:action` (STYLE convention 1)."""

    STAFF_SIGNED_IN = "staff:session:use"
    CASE_LIST = "case:list"
    CASE_READ = "case:read"
    CASE_MESSAGE = "case:message"
    CASE_ATTACHMENT_READ = "case:attachment:read"
    CASE_VERIFY = "case:verify"
    CASE_DISPOSE = "case:dispose"
    CASE_ANSWER = "case:answer"
    CASE_INVESTIGATE = "case:investigate"
    CASE_CLOSE_DISPUTE = "case:close-dispute"
    CASE_INTAKE = "case:intake"
    # Entering a whistleblowing report received offline: APIP only, since whoever types a report
    # in reads it, and no verifier may read a whistleblowing report (RULES §2).
    CASE_INTAKE_WHISTLEBLOWING = "case:intake:whistleblowing"
    CASE_CONFLICT_DECLARE = "case:conflict:declare"
    CASE_EXPORT = "case:export"
    CASE_IDENTITY_REQUEST = "case:identity:request"
    CASE_IDENTITY_DECIDE = "case:identity:decide"
    CASE_IDENTITY_READ = "case:identity:read"
    # A compensation claim's file, decision and delivery (Perbup Sanggau 33/2019 Ps 18): owed
    # even after the complaint's answer was accepted, so allowed on a closed complaint too.
    CASE_COMPENSATION_DECIDE = "case:compensation:decide"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    STATS_READ = "stats:read"
    STAFF_ACTIVITY_READ = "staff:activity:read"
    USER_MANAGE = "user:manage"
    UNIT_MANAGE = "unit:manage"
    CONFIG_MANAGE = "config:manage"
    # SP4N-LAPOR! exchange (wbs/integrations/): the delivery state carries no content, so the
    # coordinator sees it; the manual export opens the documents, so only the verifier team,
    # which forwards the cases and read them when it did, may download it.
    LAPOR_OUTBOX_READ = "integration:lapor:read"
    LAPOR_EXPORT = "integration:lapor:export"


_EVERY_STAFF = {Permission.STAFF_SIGNED_IN, Permission.CASE_CONFLICT_DECLARE}

# Administrators, auditors and leadership never hold a content or identity permission: there is
# no path (UI, API, export, notice) by which they could read a report (RULES §1).
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VERIFIER: frozenset(
        _EVERY_STAFF
        | {
            Permission.CASE_LIST,
            Permission.CASE_READ,
            Permission.CASE_MESSAGE,
            Permission.CASE_ATTACHMENT_READ,
            Permission.CASE_VERIFY,
            Permission.CASE_DISPOSE,
            Permission.CASE_INTAKE,
            Permission.LAPOR_OUTBOX_READ,
            Permission.LAPOR_EXPORT,
        }
    ),
    Role.LIAISON: frozenset(
        _EVERY_STAFF
        | {
            Permission.CASE_LIST,
            Permission.CASE_READ,
            Permission.CASE_MESSAGE,
            Permission.CASE_ATTACHMENT_READ,
            Permission.CASE_ANSWER,
            Permission.CASE_COMPENSATION_DECIDE,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        _EVERY_STAFF
        | {
            Permission.CASE_LIST,
            Permission.CASE_READ,
            Permission.CASE_MESSAGE,
            Permission.CASE_ATTACHMENT_READ,
            Permission.CASE_ANSWER,
            Permission.CASE_COMPENSATION_DECIDE,
            Permission.CASE_INVESTIGATE,
            Permission.CASE_INTAKE,
            Permission.CASE_INTAKE_WHISTLEBLOWING,
            Permission.CASE_EXPORT,
            Permission.CASE_IDENTITY_REQUEST,
            Permission.CASE_IDENTITY_READ,
        }
    ),
    Role.CUSTODIAN: frozenset(_EVERY_STAFF | {Permission.CASE_IDENTITY_DECIDE}),
    Role.LEADERSHIP: frozenset(
        _EVERY_STAFF
        | {
            Permission.STATS_READ,
            Permission.STAFF_ACTIVITY_READ,
            Permission.CASE_CLOSE_DISPUTE,
            Permission.LAPOR_OUTBOX_READ,
        }
    ),
    Role.AUDITOR: frozenset(_EVERY_STAFF | {Permission.AUDIT_READ, Permission.AUDIT_EXPORT}),
    Role.ADMINISTRATOR: frozenset(
        _EVERY_STAFF | {Permission.USER_MANAGE, Permission.UNIT_MANAGE, Permission.CONFIG_MANAGE}
    ),
}


def role_has(role: Role | str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member, as the decision point sees them."""

    user_id: int
    username: str
    role: Role
    unit_id: int | None
    unit_kind: str | None = None


@dataclass(frozen=True)
class CaseScope:
    """What authorization needs to know of a case: plain data, no content."""

    case_number: str
    kind: ReportKind
    state: CaseState
    at_apip: bool
    holding_units: frozenset[int]  # units that hold the content key now
    reported_unit_id: int | None
    conflicted_users: frozenset[int] = frozenset()
    # Whether the reported unit is kept out (RULES §6): always for whistleblowing and at APIP;
    # for a complaint only if the reporter fears retaliation or the verifier saw a conflict.
    # Otherwise the unit complained about is the one that must answer and fix it.
    shield_reported_unit: bool = True
    identity_readers: frozenset[int] = frozenset()  # users with a live identity disclosure
    # Custodians vouched for: active members holding the key wrap of a unit that holds this
    # case's identity key. A wrap comes only from the unit's first member or a key holder's
    # recorded grant, never from an administrator's account creation (issue 8, finding 7).
    identity_custodians: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    # The actor may not see the case at all: answer exactly as for a case number that does not
    # exist (finding 8.10), so that no refusal tells which numbers exist, name the actor's unit
    # or are whistleblowing.
    hidden: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True, "allowed")
TERMINAL = frozenset({CaseState.CLOSED, CaseState.ARCHIVED, CaseState.FORWARDED})

# Permissions that need the actor's unit to hold the case.
_UNIT_BOUND = frozenset({
    Permission.CASE_READ, Permission.CASE_MESSAGE, Permission.CASE_ATTACHMENT_READ,
    Permission.CASE_ANSWER, Permission.CASE_INVESTIGATE, Permission.CASE_EXPORT,
    Permission.CASE_IDENTITY_REQUEST, Permission.CASE_VERIFY, Permission.CASE_DISPOSE,
    Permission.CASE_COMPENSATION_DECIDE,
})
# Permissions that change a case: refused once it has reached an outcome (kode etik: a case
# leaves the workflow only through a recorded outcome, and nothing is added behind it).
_MUTATING = frozenset({
    Permission.CASE_MESSAGE, Permission.CASE_ANSWER, Permission.CASE_INVESTIGATE,
    Permission.CASE_VERIFY, Permission.CASE_DISPOSE, Permission.CASE_CLOSE_DISPUTE,
    Permission.CASE_IDENTITY_REQUEST,
})
_CASE_SCOPED = frozenset(p for p in Permission if p.value.startswith("case:"))


def reported_unit_excluded(case: CaseScope) -> bool:
    """Whether the unit named in the report must stay out of it (RULES §6)."""
    return (case.kind is ReportKind.WHISTLEBLOWING or case.at_apip
            or case.shield_reported_unit)


def hidden_from(actor: Actor, case: CaseScope) -> str | None:
    """Why the actor may not see the case at all (not even that it exists), or None.

    Handlers see the cases their unit holds; leadership the cases outside APIP (its disputes
    list); custodians every case (their queue names the cases whose identity is requested) and
    auditors too (the audit log names every case). Administrators see none. Nobody sees a case
    naming their own unit or one they declared a conflict on.
    """
    if actor.unit_id is not None and actor.unit_id == case.reported_unit_id and (
            reported_unit_excluded(case)):
        return "reported_unit"
    if actor.user_id in case.conflicted_users:
        return "conflict_of_interest"
    if role_has(actor.role, Permission.CASE_READ):
        if actor.role is Role.VERIFIER and (
                case.kind is ReportKind.WHISTLEBLOWING or case.at_apip):
            return "apip_only"
        if actor.unit_id not in case.holding_units:
            return "not_assigned_to_unit"
        return None
    if role_has(actor.role, Permission.CASE_CLOSE_DISPUTE):
        return "apip_case" if case.at_apip else None
    if role_has(actor.role, Permission.CASE_IDENTITY_DECIDE) or role_has(
            actor.role, Permission.AUDIT_READ):
        return None
    return "no_case_view"


def authorize(actor: Actor, permission: Permission, case: CaseScope | None = None) -> Decision:
    """Allow, or deny with a reason. Deny by default; every rule below can only narrow.

    A role without the permission is refused whatever the case (the same answer for every case
    number); a case the actor may not see is refused as `hidden` before any rule that could
    tell something about it.
    """
    if not role_has(actor.role, permission):
        return Decision(False, "role_lacks_permission")
    if case is None:
        if permission in _CASE_SCOPED and permission not in (
                Permission.CASE_LIST, Permission.CASE_INTAKE,
                Permission.CASE_INTAKE_WHISTLEBLOWING):
            return Decision(False, "case_required")
        return ALLOW
    hidden = hidden_from(actor, case)
    if hidden is not None:
        return Decision(False, hidden, hidden=True)
    if permission in _UNIT_BOUND and actor.unit_id not in case.holding_units:
        return Decision(False, "not_assigned_to_unit")
    if permission in _MUTATING and case.state in TERMINAL:
        return Decision(False, "case_has_outcome")
    if permission is Permission.CASE_IDENTITY_READ and actor.user_id not in case.identity_readers:
        return Decision(False, "no_identity_disclosure")
    if permission is Permission.CASE_IDENTITY_DECIDE and (
            actor.user_id not in case.identity_custodians):
        # The custodian role alone is what an administrator can hand out: a vote (and the
        # sight of a request) needs the vouching of a custodian who already holds the key.
        return Decision(False, "custodian_not_vouched")
    if permission is Permission.CASE_VERIFY and case.state not in (
            CaseState.RECEIVED, CaseState.NEEDS_INFO):
        return Decision(False, "not_awaiting_verification")
    # Dispositions may be added while units work on the case (a returned share goes on to the
    # suggested unit), never after an answer or an outcome.
    if permission is Permission.CASE_DISPOSE and case.state not in (
            CaseState.RECEIVED, CaseState.NEEDS_INFO, CaseState.VERIFIED, CaseState.IN_PROCESS):
        return Decision(False, "not_awaiting_verification")
    if permission is Permission.CASE_COMPENSATION_DECIDE and (
            case.kind is not ReportKind.COMPLAINT
            or case.state in (CaseState.ARCHIVED, CaseState.FORWARDED)):
        return Decision(False, "no_compensation")
    if permission is Permission.CASE_CLOSE_DISPUTE and case.at_apip:
        return Decision(False, "apip_case")
    return ALLOW
