"""Key lifecycle of staff and units (issue 13, DESIGN §3).

- A removed member loses their wrap of the unit key, their direct case-key wraps (identity
  disclosures) and every session, in one audited transaction.
- A forgotten password: the administrator resets password and TOTP, which gives the account a new
  key pair; the old private key is gone by design, so the account's wraps are deleted too, and a
  unit colleague re-wraps the unit key to the new key pair (`accounts.grant_unit_access`).
- Rotating a unit's key pair re-wraps every case key wrapped to the unit. It is done by a member
  (whose password opens the current unit key), in batches, and is resumable: the next private
  key waits wrapped to the current public key, so any key holder can finish an interrupted run.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pyotp
from sqlalchemy import ColumnElement, CursorResult, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Delete

from wbs import audit
from wbs.accounts import _seal_totp, new_password_material
from wbs.cases import sealing
from wbs.context import Context
from wbs.crypto import hpke, keyring
from wbs.crypto.passwords import Argon2Params
from wbs.enums import AuditOutcome
from wbs.models import (
    Case,
    CaseKeyWrap,
    StaffSession,
    Unit,
    UnitKeyRotation,
    UnitKeyWrap,
    User,
)
from wbs.ops import recovery

Progress = Callable[[int, int], None]
BATCH = 200


class KeyRefused(Exception):
    """A key operation that cannot go on; `code` names why (for the CLI's message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _quiet(_done: int, _total: int) -> None:
    return None


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise KeyRefused("unknown_user")
    return user


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return result.rowcount if isinstance(result, CursorResult) else 0


def _drop_keys(session: Session, user: User) -> dict[str, int]:
    return {
        "unit_key_wraps": _deleted(session, delete(UnitKeyWrap)
                                   .where(UnitKeyWrap.user_id == user.id)),
        "case_key_wraps": _deleted(session, delete(CaseKeyWrap).where(
            CaseKeyWrap.recipient_kind == "user", CaseKeyWrap.recipient_id == user.id)),
        "sessions": _deleted(session, delete(StaffSession)
                             .where(StaffSession.user_id == user.id)),
    }


def remove_member(ctx: Context, username: str, actor: str) -> dict[str, int]:
    """Disable an account and delete every key it could open and every session it has."""
    with ctx.db.begin() as session:
        user = _user(session, username)
        user.active = False
        counts = _drop_keys(session, user)
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="user.disable", details={"username": username, **counts},
                     now=ctx.now())
    return counts


def reset_credentials(ctx: Context, username: str, new_password: str, actor: str) -> str:
    """New password, TOTP secret and key pair for a user who lost theirs; returns the TOTP
    secret (shown once). The user then waits for a colleague to re-wrap the unit key."""
    if len(new_password) < 12:
        raise KeyRefused("password_too_short")
    pair = hpke.generate_keypair()
    params = ctx.settings.argon2
    salt, verifier, sealed = new_password_material(ctx.kdf, params, username, new_password,
                                                   pair.private)
    secret = pyotp.random_base32()
    with ctx.db.begin() as session:
        user = _user(session, username)
        counts = _drop_keys(session, user)
        user.password_salt, user.password_verifier = salt, verifier
        user.password_params = params.encode()
        user.public_key, user.private_key_sealed = pair.public, sealed
        user.totp_secret_sealed = _seal_totp(ctx, username, secret)
        user.totp_last_step = 0
        user.password_changed_at = ctx.now()
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="user.reset", details={"username": username, **counts},
                     now=ctx.now())
    return secret


def member_private_key(ctx: Context, username: str, password: str) -> bytes:
    """A member's private key, opened with their password (for command-line key work)."""
    with ctx.read() as session:
        user = _user(session, username)
        derived = ctx.kdf.derive(password, user.password_salt,
                                 Argon2Params.decode(user.password_params))
        if not user.active or not hmac.compare_digest(derived.verifier, user.password_verifier):
            raise KeyRefused("wrong_password")
        return keyring.open_user_private_key(user.private_key_sealed, derived.sealing_key,
                                             username)


@dataclass(frozen=True)
class Rotated:
    rewrapped: int
    serial: int


def rotate_unit_key(ctx: Context, slug: str, username: str, password: str, *,
                    progress: Progress = _quiet, batch: int = BATCH) -> Rotated:
    """Start (or resume) and finish a rotation of the unit's key pair. A refusal (a wrong
    password, a stranger, a member without the key) is recorded as a denied rotation."""
    try:
        return _rotate_unit_key(ctx, slug, username, password, progress=progress, batch=batch)
    except KeyRefused as refused:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=username[:64], role="administrator",
                         action="key.unit.rotate", outcome=AuditOutcome.DENIED,
                         details={"unit": slug[:64], "why": refused.code}, now=ctx.now())
        raise


def _rotate_unit_key(ctx: Context, slug: str, username: str, password: str, *,
                     progress: Progress, batch: int) -> Rotated:
    user_private = member_private_key(ctx, username, password)
    with ctx.db.begin() as session:
        unit = session.scalars(select(Unit).where(Unit.slug == slug)).first()
        user = _user(session, username)
        if unit is None or user.unit_id != unit.id:
            raise KeyRefused("not_a_member")
        try:
            old_private = sealing.unit_private_key(session, unit, user.id, username, user_private)
        except sealing.NoKey as exc:
            raise KeyRefused("not_a_key_holder") from exc
        next_serial = unit.key_serial + 1
        rotation = session.get(UnitKeyRotation, unit.id)
        if rotation is None:
            pair = hpke.generate_keypair()
            rotation = UnitKeyRotation(
                unit_id=unit.id, next_public_key=pair.public, started_on=ctx.today(),
                started_by=username,
                next_private_wrapped=hpke.wrap(unit.public_key, pair.private,
                                               sealing.rotation_info(unit, next_serial)))
            session.add(rotation)
            audit.record(session, ctx.audit_keys, actor=username, role=user.role,
                         action="key.unit.rotate.start", details={"unit": slug}, now=ctx.now())
        next_public = rotation.next_public_key
        next_private = hpke.unwrap(old_private, rotation.next_private_wrapped,
                                   sealing.rotation_info(unit, next_serial))
        unit_id = unit.id
        total = session.scalar(select(func.count(CaseKeyWrap.id)).where(
            *_stale(unit_id, next_serial))) or 0
    done = 0
    progress(done, total)
    while True:
        with ctx.db.begin() as session:
            moved = _rewrap_batch(session, unit_id, next_serial, old_private, next_public, batch)
        if not moved:
            break
        done += moved
        progress(done, max(total, done))
    with ctx.db.begin() as session:
        unit = session.scalars(select(Unit).where(Unit.id == unit_id).with_for_update()).one()
        # Under the exclusive lock no new wrap can be made (sealing.wrap_to_unit shares it):
        # finish what arrived meanwhile, then switch.
        while moved := _rewrap_batch(session, unit_id, next_serial, old_private, next_public,
                                     batch):
            done += moved
        for wrap in session.scalars(select(UnitKeyWrap).where(UnitKeyWrap.unit_id == unit_id)):
            member = session.get(User, wrap.user_id)
            if member is None or not member.active:
                session.delete(wrap)
                continue
            wrap.wrapped = keyring.wrap_unit_key(next_private, member.public_key, unit.slug,
                                                 member.username)
        unit.public_key, unit.key_serial = next_public, next_serial
        recovery.escrow_unit(session, ctx, unit, next_private)
        session.execute(delete(UnitKeyRotation).where(UnitKeyRotation.unit_id == unit_id))
        audit.record(session, ctx.audit_keys, actor=username, role=user.role,
                     action="key.unit.rotate", details={"unit": slug, "rewrapped": done,
                                                        "serial": next_serial}, now=ctx.now())
    progress(done, max(total, done))
    return Rotated(rewrapped=done, serial=next_serial)


def _stale(unit_id: int, next_serial: int) -> tuple[ColumnElement[bool], ...]:
    return (CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == unit_id,
            CaseKeyWrap.unit_key_serial < next_serial)


def _rewrap_batch(session: Session, unit_id: int, next_serial: int, old_private: bytes,
                  next_public: bytes, batch: int) -> int:
    rows = session.execute(
        select(CaseKeyWrap, Case).join(Case, Case.id == CaseKeyWrap.case_id)
        .where(*_stale(unit_id, next_serial)).order_by(CaseKeyWrap.id).limit(batch)
        .with_for_update(of=CaseKeyWrap)).all()
    unit = session.get_one(Unit, unit_id)
    for wrap, case in rows:
        info = sealing.unit_info(case, cast(sealing.Purpose, wrap.purpose), unit, wrap.epoch)
        key = hpke.unwrap(old_private, wrap.wrapped, info)
        wrap.wrapped = hpke.wrap(next_public, key, info)
        wrap.unit_key_serial = next_serial
    return len(rows)

