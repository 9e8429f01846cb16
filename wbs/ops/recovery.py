"""Organisational recovery: for the day a whole unit loses access (issue 13, DESIGN §3).

At set-up a recovery key pair is derived from a random 32-byte secret, and the secret is split
M-of-N (default 3 of 5) among named officials with Shamir's secret sharing, as SLIP-39
mnemonics (`shamir-mnemonic`, SatoshiLabs' reference implementation): each official gets 33
words, printed once. Only the public key is stored. Every unit's private key is also wrapped to
it (at unit creation, at a grant, at a rotation). `wbs recover` with M shares re-derives the
recovery key, opens the unit's key and wraps it to a named member. Nobody holds an all-seeing
escrow: M officials must meet, every use is audited and shown on the transparency page.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date

import shamir_mnemonic
from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.context import Context
from wbs.crypto import hpke, keyring
from wbs.enums import AuditOutcome
from wbs.models import RecoveryKey, Unit, UnitKeyWrap, UnitRecoveryWrap, User

KEYPAIR_LABEL = "organisational-recovery"


class RecoveryRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Share:
    holder: str
    words: str


def _info(unit: Unit, serial: int) -> bytes:
    return hpke.wrap_info("-", "unit-key-recovery", f"unit:{unit.slug}/serial:{serial}")


def setup(ctx: Context, holders: list[str], threshold: int, actor: str) -> list[Share]:
    """Create the recovery key; return each holder's share (to print once, never stored)."""
    names = [" ".join(h.split()) for h in holders if h.strip()]
    if len(set(names)) != len(names) or not 2 <= threshold <= len(names) <= 16:
        raise RecoveryRefused("bad_holders")
    secret = secrets.token_bytes(32)
    pair = hpke.keypair_from_secret(secret, KEYPAIR_LABEL)
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, len(names))], secret)
    with ctx.db.begin() as session:
        if session.get(RecoveryKey, 1) is not None:
            raise RecoveryRefused("already_set_up")
        session.add(RecoveryKey(id=1, public_key=pair.public, threshold=threshold,
                                holders=json.dumps(names, ensure_ascii=False),
                                created_on=ctx.today()))
        session.flush()
        for unit in session.scalars(select(Unit).where(Unit.pending_private_sealed.is_not(None))):
            from wbs.units import peek_pending_private_key

            escrow_unit(session, ctx, unit, peek_pending_private_key(ctx, unit))
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="recovery.setup",
                     details={"threshold": threshold, "holders": len(names)}, now=ctx.now())
    return [Share(name, words) for name, words in zip(names, groups[0], strict=True)]


def escrow_unit(session: Session, ctx: Context, unit: Unit, unit_private: bytes) -> None:
    """Wrap the unit's private key to the recovery key, if one is set up (idempotent)."""
    key = session.get(RecoveryKey, 1)
    if key is None:
        return
    wrapped = hpke.wrap(key.public_key, unit_private, _info(unit, unit.key_serial))
    row = session.get(UnitRecoveryWrap, unit.id)
    if row is None:
        session.add(UnitRecoveryWrap(unit_id=unit.id, key_serial=unit.key_serial,
                                     wrapped=wrapped))
    elif row.key_serial != unit.key_serial:
        row.key_serial, row.wrapped = unit.key_serial, wrapped


def recover(ctx: Context, slug: str, username: str, mnemonics: list[str], actor: str) -> None:
    """Give `username` (a member of the unit) the unit's key again, with M shares. A refused
    attempt is recorded too (`recovery.use`, denied, with why): an attempt on the recovery key
    is as telling as its use."""
    try:
        _recover(ctx, slug, username, mnemonics, actor)
    except RecoveryRefused as refused:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                         action="recovery.use", outcome=AuditOutcome.DENIED,
                         details={"unit": slug[:64], "member": username[:64],
                                  "shares": len(mnemonics), "why": refused.code},
                         now=ctx.now())
        raise


def _recover(ctx: Context, slug: str, username: str, mnemonics: list[str], actor: str) -> None:
    try:
        secret = shamir_mnemonic.combine_mnemonics([" ".join(m.split()) for m in mnemonics])
    except shamir_mnemonic.MnemonicError as exc:
        raise RecoveryRefused("shares_insufficient") from exc
    with ctx.db.begin() as session:
        key = session.get(RecoveryKey, 1)
        # The unit row locked, as a key rotation finishing takes it: the key recovered is the
        # unit's current one, never one retired while we work.
        unit = session.scalars(select(Unit).where(Unit.slug == slug).with_for_update()).first()
        user = session.scalars(select(User).where(User.username == username)).first()
        if key is None:
            raise RecoveryRefused("not_set_up")
        if len(secret) != 32:
            raise RecoveryRefused("wrong_shares")
        pair = hpke.keypair_from_secret(secret, KEYPAIR_LABEL)
        if pair.public != key.public_key:
            raise RecoveryRefused("wrong_shares")
        if unit is None or user is None or user.unit_id != unit.id or not user.active:
            raise RecoveryRefused("not_a_member")
        wrap = session.get(UnitRecoveryWrap, unit.id)
        if wrap is None or wrap.key_serial != unit.key_serial:
            raise RecoveryRefused("unit_not_escrowed")
        unit_private = hpke.unwrap(pair.private, wrap.wrapped, _info(unit, wrap.key_serial))
        if hpke.public_of(unit_private) != unit.public_key:
            raise RecoveryRefused("unit_not_escrowed")
        mine = session.scalars(select(UnitKeyWrap).where(UnitKeyWrap.unit_id == unit.id,
                                                         UnitKeyWrap.user_id == user.id)).first()
        wrapped = keyring.wrap_unit_key(unit_private, user.public_key, unit.slug, user.username)
        if mine is None:
            session.add(UnitKeyWrap(unit_id=unit.id, user_id=user.id, wrapped=wrapped))
        else:
            mine.wrapped = wrapped
        audit.record(session, ctx.audit_keys, actor=actor, role="administrator",
                     action="recovery.use",
                     details={"unit": slug, "member": username, "shares": len(mnemonics)},
                     now=ctx.now())


@dataclass(frozen=True)
class RecoveryUse:
    on: date
    unit: str


def uses(ctx: Context) -> list[RecoveryUse]:
    """Every use of the recovery key, for the public transparency page."""
    from wbs.models import AuditEntry

    with ctx.read() as session:
        rows = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "recovery.use", AuditEntry.outcome == AuditOutcome.ALLOWED)
            .order_by(AuditEntry.seq)).all()
        return [RecoveryUse(on=date.fromisoformat(row.occurred_at[:10]),
                            unit=json.loads(row.details).get("unit", "")) for row in rows]
