"""Roles, permissions and per-case authorization: the kode etik as code (RULES §1, §7).

One place decides. Handlers never compare role strings: they declare a `Permission` and service
functions call `authorize()` before they decrypt or change anything. Deny by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from wbs.enums import Role


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
    CASE_CONFLICT_DECLARE = "case:conflict:declare"
    CASE_EXPORT = "case:export"
    CASE_IDENTITY_REQUEST = "case:identity:request"
    CASE_IDENTITY_DECIDE = "case:identity:decide"
    CASE_IDENTITY_READ = "case:identity:read"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    STATS_READ = "stats:read"
    STAFF_ACTIVITY_READ = "staff:activity:read"
    USER_MANAGE = "user:manage"
    UNIT_MANAGE = "unit:manage"
    CONFIG_MANAGE = "config:manage"


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
            Permission.CASE_INVESTIGATE,
            Permission.CASE_INTAKE,
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
