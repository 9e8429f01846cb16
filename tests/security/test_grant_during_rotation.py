"""A colleague's grant of the unit key, made while a key rotation is finishing, must hand out
the key the unit has after the rotation, never the one being retired.

The rotation's last transaction locks the unit row, re-wraps every member's copy of the unit key
to the next key and switches the unit's public key. A grant that read the granter's copy without
that lock could commit, meanwhile, a copy of the retiring key for the newcomer: a member holding
a key that opens no case sealed from then on, and that should have been retired everywhere.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.functional.test_roundtrip import staff_open
from tests.security.test_key_lifecycle import WB, _client, _file, _grant, _numbers, _plant
from wbs.cases import sealing
from wbs.context import Context
from wbs.crypto import hpke
from wbs.enums import Role
from wbs.models import Unit, User
from wbs.ops import keys, recovery


def test_a_grant_during_a_finishing_rotation_hands_out_the_new_key(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context,
        monkeypatch: Any) -> None:
    _file(client, WB, 1)
    number = _numbers(ctx, "whistleblowing")[0]
    creds = _plant(ctx, "auditor4", Role.INVESTIGATOR, "inspektorat")
    holder = _client(app)
    sign_in(holder, demo["investigator"], "investigator", clock)

    inside, release = threading.Event(), threading.Event()
    escrow = recovery.escrow_unit

    def held_escrow(*args: Any, **kwargs: Any) -> None:
        # Runs inside the rotation's last transaction, after the members' copies are re-wrapped
        # and with the unit row locked: hold it there while the grant comes in.
        inside.set()
        release.wait(10)
        escrow(*args, **kwargs)

    monkeypatch.setattr(recovery, "escrow_unit", held_escrow)
    errors: list[BaseException] = []

    def run(target: Any) -> threading.Thread:
        def body() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 (re-raised by the main thread)
                errors.append(exc)
                inside.set()
        thread = threading.Thread(target=body)
        thread.start()
        return thread

    rotation = run(lambda: keys.rotate_unit_key(ctx, "inspektorat", "investigator",
                                                demo["investigator"]["password"]))
    assert inside.wait(30)
    grant = run(lambda: _grant(holder, "auditor4"))
    grant.join(2)  # it either finishes on stale reads or waits for the unit lock
    release.set()
    rotation.join(30)
    grant.join(30)
    assert not errors, errors
    assert not rotation.is_alive() and not grant.is_alive()

    with ctx.db() as s:
        unit = s.scalars(select(Unit).where(Unit.slug == "inspektorat")).one()
        member = s.scalars(select(User).where(User.username == "auditor4")).one()
        mine = keys.member_private_key(ctx, "auditor4", "planted-password")
        granted = sealing.unit_private_key(s, unit, member.id, "auditor4", mine)
    assert unit.key_serial == 1
    # The newcomer's copy is the unit's current key: a key sealed to the unit's public key now
    # opens with it.
    probe = hpke.wrap(unit.public_key, b"k" * 32, b"probe")
    assert hpke.unwrap(granted, probe, b"probe") == b"k" * 32
    newcomer = _client(app)
    sign_in(newcomer, creds, "auditor4", clock)
    assert "Isi rahasia nomor 1" in staff_open(newcomer, number).text
