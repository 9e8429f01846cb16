"""Command-line key work refuses the wrong person, the wrong unit and the wrong shares, and a
refusal changes nothing: no wrap, no rotation, no `recovery.use` entry. The recovery escrow
follows every rotation, so the shares always give back the unit's current key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shamir_mnemonic import generate_mnemonics
from sqlalchemy import func, select

from wbs import accounts, units
from wbs.cases import sealing
from wbs.context import Context
from wbs.crypto import hpke
from wbs.enums import Role
from wbs.models import (
    AuditEntry,
    Unit,
    UnitKeyRotation,
    UnitKeyWrap,
    UnitRecoveryWrap,
    User,
)
from wbs.ops import keys, recovery

HOLDERS = ["Sekretaris Daerah", "Inspektur", "Kepala Diskominfo"]


def _count(ctx: Context, model: type[Any], *where: Any) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _unit(ctx: Context, slug: str) -> Unit:
    with ctx.read() as session:
        return session.scalars(select(Unit).where(Unit.slug == slug)).one()


def _user(ctx: Context, username: str) -> User:
    with ctx.read() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def _unit_private(ctx: Context, slug: str, username: str, password: str) -> bytes:
    mine = keys.member_private_key(ctx, username, password)
    with ctx.read() as session:
        unit = session.scalars(select(Unit).where(Unit.slug == slug)).one()
        user = session.scalars(select(User).where(User.username == username)).one()
        return sealing.unit_private_key(session, unit, user.id, username, mine)


def _audited(ctx: Context, action: str) -> int:
    return _count(ctx, AuditEntry, AuditEntry.action == action)


def _whys(ctx: Context, action: str, outcome: str) -> list[str]:
    with ctx.read() as session:
        return [json.loads(d).get("why", "") for d in session.scalars(
            select(AuditEntry.details).where(AuditEntry.action == action,
                                             AuditEntry.outcome == outcome)
            .order_by(AuditEntry.seq))]


def test_rotation_refuses_strangers_outsiders_and_members_without_the_key(
        ctx: Context, demo: Any) -> None:
    with pytest.raises(keys.KeyRefused, match="unknown_user"):
        keys.rotate_unit_key(ctx, "inspektorat", "nobody", "whatever password")
    with pytest.raises(keys.KeyRefused, match="not_a_member"):
        keys.rotate_unit_key(ctx, "inspektorat", "verifikator", demo["verifikator"]["password"])
    with pytest.raises(keys.KeyRefused, match="not_a_member"):
        keys.rotate_unit_key(ctx, "no-such-unit", "verifikator", demo["verifikator"]["password"])
    # A new member whose unit key nobody has wrapped to them yet holds no key to rotate with.
    with ctx.db.begin() as session:
        accounts.create_user(session, ctx, username="auditor9", display_name="Baru",
                             role=Role.INVESTIGATOR, password="planted-password",
                             unit=units.by_slug(session, "inspektorat"), actor="admin")
    with pytest.raises(keys.KeyRefused, match="not_a_key_holder"):
        keys.rotate_unit_key(ctx, "inspektorat", "auditor9", "planted-password")
    assert _count(ctx, UnitKeyRotation) == 0
    assert _unit(ctx, "inspektorat").key_serial == 0
    assert _audited(ctx, "key.unit.rotate.start") == 0
    assert _whys(ctx, "key.unit.rotate", "allowed") == []
    assert _whys(ctx, "key.unit.rotate", "denied") == [
        "unknown_user", "not_a_member", "not_a_member", "not_a_key_holder"]
    # A removed member's password opens nothing any more.
    keys.remove_member(ctx, "investigator2", "admin")
    with pytest.raises(keys.KeyRefused, match="wrong_password"):
        keys.member_private_key(ctx, "investigator2", demo["investigator2"]["password"])
    with pytest.raises(keys.KeyRefused, match="unknown_user"):
        keys.remove_member(ctx, "nobody", "admin")
    with pytest.raises(keys.KeyRefused, match="password_too_short"):
        keys.reset_credentials(ctx, "investigator", "short", "admin")


def test_a_rotation_drops_the_wrap_of_a_member_who_is_no_longer_active(
        ctx: Context, demo: Any) -> None:
    """A wrap left behind for a deactivated account is deleted, not re-wrapped to the new key."""
    with ctx.db.begin() as session:
        session.scalars(select(User).where(User.username == "investigator2")).one().active = False
    gone = _user(ctx, "investigator2").id
    assert _count(ctx, UnitKeyWrap, UnitKeyWrap.user_id == gone) == 1
    done = keys.rotate_unit_key(ctx, "inspektorat", "investigator",
                                demo["investigator"]["password"])
    assert done.serial == 1
    assert _count(ctx, UnitKeyWrap, UnitKeyWrap.user_id == gone) == 0
    new_private = _unit_private(ctx, "inspektorat", "investigator",
                                demo["investigator"]["password"])
    assert hpke.public_of(new_private) == _unit(ctx, "inspektorat").public_key


def test_recovery_refusals_change_nothing(ctx: Context, demo: Any) -> None:
    outsider = generate_mnemonics(1, [(2, 3)], b"\x07" * 32)[0]
    with pytest.raises(recovery.RecoveryRefused, match="not_set_up"):
        recovery.recover(ctx, "inspektorat", "investigator", outsider[:2], "cli")
    shares = [s.words for s in recovery.setup(ctx, HOLDERS, 2, "cli")]
    short_secret = generate_mnemonics(1, [(2, 3)], b"\x07" * 16)[0]
    with pytest.raises(recovery.RecoveryRefused, match="wrong_shares"):
        recovery.recover(ctx, "inspektorat", "investigator", short_secret[:2], "cli")
    for slug, username in (("no-such-unit", "investigator"), ("inspektorat", "nobody"),
                           ("tim-pengelola", "investigator")):
        with pytest.raises(recovery.RecoveryRefused, match="not_a_member"):
            recovery.recover(ctx, slug, username, shares[:2], "cli")
    # The Inspektorat existed before the recovery key and was never escrowed since.
    with pytest.raises(recovery.RecoveryRefused, match="unit_not_escrowed"):
        recovery.recover(ctx, "inspektorat", "investigator", shares[:2], "cli")
    keys.remove_member(ctx, "investigator2", "admin")
    keys.rotate_unit_key(ctx, "inspektorat", "investigator", demo["investigator"]["password"])
    with pytest.raises(recovery.RecoveryRefused, match="not_a_member"):  # removed: inactive
        recovery.recover(ctx, "inspektorat", "investigator2", shares[:2], "cli")
    # Nothing was recovered, and every attempt on the recovery key left a denied row naming
    # why (and never a share).
    assert _whys(ctx, "recovery.use", "allowed") == []
    assert _whys(ctx, "recovery.use", "denied") == [
        "not_set_up", "wrong_shares", "not_a_member", "not_a_member", "not_a_member",
        "unit_not_escrowed", "not_a_member"]
    assert recovery.uses(ctx) == []
    with ctx.read() as session:
        details = " ".join(session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == "recovery.use")))
    assert not any(word in details for word in shares[0].split()[:3])


def test_the_escrow_follows_each_rotation_and_recovery_rewraps_an_existing_wrap(
        ctx: Context, demo: Any) -> None:
    shares = [s.words for s in recovery.setup(ctx, HOLDERS, 2, "cli")]
    password = demo["investigator"]["password"]
    inspektorat = _unit(ctx, "inspektorat")
    keys.rotate_unit_key(ctx, "inspektorat", "investigator", password)  # escrowed at serial 1
    keys.rotate_unit_key(ctx, "inspektorat", "investigator", password)  # escrow moves to 2
    with ctx.read() as session:
        escrow = session.get(UnitRecoveryWrap, inspektorat.id)
        assert escrow is not None and escrow.key_serial == 2
    current = _unit(ctx, "inspektorat")
    assert current.key_serial == 2
    # investigator2 still holds a wrap (re-wrapped by both rotations): recovery replaces it
    # with a wrap of the same, current key, rather than adding a second one.
    before = _unit_private(ctx, "inspektorat", "investigator2", demo["investigator2"]["password"])
    recovery.recover(ctx, "inspektorat", "investigator2", [shares[2], shares[0]], "cli")
    member = _user(ctx, "investigator2").id
    assert _count(ctx, UnitKeyWrap, UnitKeyWrap.user_id == member) == 1
    after = _unit_private(ctx, "inspektorat", "investigator2", demo["investigator2"]["password"])
    assert after == before and hpke.public_of(after) == current.public_key
    assert _audited(ctx, "recovery.use") == 1
