"""A database writer who swaps a unit's hybrid (ML-KEM-768 + X25519) public key for a classical
X25519 key must not get new reports wrapped to it: a quantum-capable recorder could open those
later. The submission is refused whole, nothing is stored; put back, the key works again."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy import func, select

from wbs.cases import intake, sealing
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import Case, Unit


def _report() -> intake.ReportInput:
    return intake.ReportInput(kind=ReportKind.COMPLAINT, title="Pungutan liar",
                              what="Isi laporan rahasia yang tidak boleh dibuka kelak.")


def _cases(ctx: Context) -> int:
    with ctx.read() as session:
        return session.scalar(select(func.count(Case.id))) or 0


def test_a_swapped_classical_unit_key_gets_no_wrap(ctx: Context, demo: Any) -> None:
    intake.submit(ctx, _report(), [], Channel.WEB)  # the verifier team's key works
    before = _cases(ctx)
    attacker = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    with ctx.db.begin() as session:
        unit = session.scalars(select(Unit).where(Unit.slug == "tim-pengelola")).one()
        hybrid, unit.public_key = unit.public_key, attacker
    with pytest.raises(sealing.NoKey):
        intake.submit(ctx, _report(), [], Channel.WEB)
    assert _cases(ctx) == before
    with ctx.db.begin() as session:
        session.scalars(select(Unit).where(Unit.slug == "tim-pengelola")).one().public_key = hybrid
    intake.submit(ctx, _report(), [], Channel.WEB)
    assert _cases(ctx) == before + 1
