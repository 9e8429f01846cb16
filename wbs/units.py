"""Units (APIP, verifier team, custodians, Perangkat Daerah, BUMD) and their key pairs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.context import Context
from wbs.crypto import aead, hpke
from wbs.enums import UnitKind
from wbs.models import Unit
from wbs.ops import recovery


def _bootstrap_aad(slug: str) -> bytes:
    return aead.field_aad("unit:" + slug, "pending-private-key")


def create_unit(session: Session, ctx: Context, *, slug: str, name: str, kind: UnitKind,
                actor: str = "system") -> tuple[Unit, bytes]:
    """Create a unit and its key pair; returns the unit and its private key (hold it briefly)."""
    pair = hpke.generate_keypair()
    key = ctx.keys.derived("unit-bootstrap")
    unit = Unit(slug=slug, name=name, kind=kind.value, public_key=pair.public,
                pending_private_sealed=aead.seal(key, pair.private, _bootstrap_aad(slug)),
                created_at=ctx.now())
    session.add(unit)
    session.flush()
    recovery.escrow_unit(session, ctx, unit, pair.private)
    audit.record(session, ctx.audit_keys, actor=actor, role="system", action="unit.create",
                 details={"unit": slug, "kind": kind.value}, now=ctx.now())
    return unit, pair.private


def peek_pending_private_key(ctx: Context, unit: Unit) -> bytes:
    """The pending private key of a unit without members, left in place (for escrow)."""
    if unit.pending_private_sealed is None:
        raise ValueError("the unit has members: its key is no longer pending")
    return aead.open_sealed(ctx.keys.derived("unit-bootstrap"), unit.pending_private_sealed,
                            _bootstrap_aad(unit.slug))


def take_pending_private_key(ctx: Context, unit: Unit) -> bytes | None:
    """The private key of a unit that has no member yet, erased from the row once taken."""
    if unit.pending_private_sealed is None:
        return None
    private = aead.open_sealed(ctx.keys.derived("unit-bootstrap"), unit.pending_private_sealed,
                               _bootstrap_aad(unit.slug))
    unit.pending_private_sealed = None
    return private


def by_slug(session: Session, slug: str) -> Unit | None:
    return session.scalars(select(Unit).where(Unit.slug == slug)).first()
