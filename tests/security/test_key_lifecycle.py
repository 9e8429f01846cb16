"""Issue 13, done-when 4: key lifecycle. A member added (by a colleague) and removed (wrap and
sessions gone); a password reset followed by a colleague's re-wrap; a unit key rotation
interrupted and resumed (the old key opens nothing afterwards, cases stay readable throughout);
organisational recovery with exactly M of N shares (M-1 fails). Every step audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import submit_form
from tests.functional.test_roundtrip import staff_open
from wbs import accounts, units
from wbs.cases import sealing
from wbs.context import Context
from wbs.crypto import hpke
from wbs.crypto.aead import DecryptionError
from wbs.enums import Role
from wbs.models import (
    AuditEntry,
    Case,
    CaseKeyWrap,
    StaffSession,
    Unit,
    UnitKeyRotation,
    UnitKeyWrap,
    UnitRecoveryWrap,
    User,
)
from wbs.ops import keys, recovery

WB = {"kind": "whistleblowing", "title": "Suap pengadaan", "what": "Isi rahasia nomor {n}",
      "identity_mode": "anonymous"}
COMPLAINT = {"kind": "complaint", "title": "Loket", "what": "Keluhan rahasia nomor {n}",
             "identity_mode": "anonymous"}


def _file(client: TestClient, template: dict[str, str], n: int) -> None:
    r = submit_form(client, {k: v.format(n=n) for k, v in template.items()})
    assert r.status_code in (200, 303)


def _numbers(ctx: Context, kind: str) -> list[str]:
    with ctx.db() as s:
        return list(s.scalars(select(Case.case_number).where(Case.kind == kind)
                              .order_by(Case.id)))


def _plant(ctx: Context, username: str, role: Role, unit_slug: str) -> dict[str, str]:
    with ctx.db.begin() as s:
        _, secret = accounts.create_user(s, ctx, username=username, display_name="Baru",
                                         role=role, password="planted-password",
                                         unit=units.by_slug(s, unit_slug), actor="admin")
    return {"password": "planted-password", "totp_secret": secret}


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _grant(holder: TestClient, username: str) -> None:
    token = csrf_from(holder, "/staf")
    r = holder.post("/staf/akses", data={"csrf_token": token, "username": username,
                                         "reason": "Anggota baru, SK Inspektur 12/2026"})
    assert r.status_code == 303 and "ok=granted" in r.headers["location"]


def _actions(ctx: Context, action: str) -> list[dict[str, Any]]:
    with ctx.db() as s:
        return [json.loads(e.details) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def test_member_added_by_a_colleague_then_removed(app: Any, client: TestClient, demo: Any,
                                                  clock: Clock, ctx: Context) -> None:
    _file(client, WB, 1)
    number = _numbers(ctx, "whistleblowing")[0]
    creds = _plant(ctx, "auditor2", Role.INVESTIGATOR, "inspektorat")
    holder, newcomer = _client(app), _client(app)
    sign_in(holder, demo["investigator"], "investigator", clock)
    sign_in(newcomer, creds, "auditor2", clock)
    assert staff_open(newcomer, number).status_code == 403
    _grant(holder, "auditor2")
    assert "Isi rahasia nomor 1" in staff_open(newcomer, number).text

    counts = keys.remove_member(ctx, "auditor2", "cli")
    assert counts["unit_key_wraps"] == 1 and counts["sessions"] == 1
    gone = newcomer.get(f"/staf/kasus/{number}")
    assert gone.status_code in (302, 303) and "/masuk" in gone.headers["location"]
    with ctx.db() as s:
        user = s.scalars(select(User).where(User.username == "auditor2")).one()
        assert not user.active
        assert s.scalars(select(UnitKeyWrap).where(UnitKeyWrap.user_id == user.id)).first() \
            is None
        assert s.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).first() \
            is None
    assert "Isi rahasia nomor 1" in staff_open(holder, number).text  # the unit keeps access
    assert _actions(ctx, "user.disable")[-1]["username"] == "auditor2"


def test_password_reset_then_a_colleague_rewraps(app: Any, client: TestClient, demo: Any,
                                                 clock: Clock, ctx: Context) -> None:
    _file(client, WB, 2)
    number = _numbers(ctx, "whistleblowing")[0]
    creds = _plant(ctx, "auditor3", Role.INVESTIGATOR, "inspektorat")
    holder, user = _client(app), _client(app)
    sign_in(holder, demo["investigator"], "investigator", clock)
    _grant(holder, "auditor3")
    sign_in(user, creds, "auditor3", clock)
    assert "Isi rahasia nomor 2" in staff_open(user, number).text

    with pytest.raises(keys.KeyRefused):
        keys.reset_credentials(ctx, "auditor3", "short", "cli")
    secret = keys.reset_credentials(ctx, "auditor3", "a brand new password", "cli")
    assert user.get("/staf").status_code in (302, 303)  # every old session ended
    clock.advance(seconds=31)
    old = _client(app)
    assert sign_in(old, creds, "auditor3", clock).status_code != 303  # old password, old TOTP
    fresh = _client(app)
    assert sign_in(fresh, {"password": "a brand new password", "totp_secret": secret},
                   "auditor3", clock).status_code == 303
    assert staff_open(fresh, number).status_code == 403  # the old private key is gone
    assert "auditor3" in holder.get("/staf").text  # waiting for a colleague
    _grant(holder, "auditor3")
    assert "Isi rahasia nomor 2" in staff_open(fresh, number).text
    assert _actions(ctx, "user.reset")[-1]["unit_key_wraps"] == 1


class Interrupted(Exception):
    pass


def _unit(ctx: Context, slug: str) -> Unit:
    with ctx.db() as s:
        return s.scalars(select(Unit).where(Unit.slug == slug)).one()


def test_unit_key_rotation_interrupted_and_resumed(app: Any, client: TestClient, demo: Any,
                                                   clock: Clock, ctx: Context) -> None:
    for n in range(5):
        _file(client, COMPLAINT, n)
    verifier = _unit(ctx, "tim-pengelola")
    mine = keys.member_private_key(ctx, "verifikator", demo["verifikator"]["password"])
    with ctx.db() as s:
        member = s.scalars(select(User).where(User.username == "verifikator")).one()
        old_private = sealing.unit_private_key(s, verifier, member.id, "verifikator", mine)
    with pytest.raises(keys.KeyRefused, match="wrong_password"):
        keys.rotate_unit_key(ctx, "tim-pengelola", "verifikator", "not the password")

    calls: list[tuple[int, int]] = []

    def crash_after_first_batch(done: int, total: int) -> None:
        calls.append((done, total))
        if done > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        keys.rotate_unit_key(ctx, "tim-pengelola", "verifikator",
                             demo["verifikator"]["password"], progress=crash_after_first_batch,
                             batch=4)
    with ctx.db() as s:
        assert s.get(UnitKeyRotation, verifier.id) is not None
        serials = sorted(w.unit_key_serial for w in s.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == verifier.id)))
    total = len(serials)
    assert total >= 5 and calls == [(0, total), (4, total)]
    assert serials == [0] * (total - 4) + [1] * 4
    # Mid-rotation: every case still opens for the unit, re-wrapped or not; new ones arrive.
    staff = _client(app)
    sign_in(staff, demo["verifikator"], "verifikator", clock)
    for n, number in enumerate(_numbers(ctx, "complaint")):
        assert f"Keluhan rahasia nomor {n}" in staff_open(staff, number).text
    _file(client, COMPLAINT, 5)

    done = keys.rotate_unit_key(ctx, "tim-pengelola", "verifikator",
                                demo["verifikator"]["password"])
    assert done.serial == 1 and done.rewrapped == total - 4 + 1
    after = _unit(ctx, "tim-pengelola")
    assert after.key_serial == 1 and after.public_key != verifier.public_key
    with ctx.db() as s:
        assert s.get(UnitKeyRotation, verifier.id) is None
        wraps = s.execute(select(CaseKeyWrap, Case).join(Case, Case.id == CaseKeyWrap.case_id)
                          .where(CaseKeyWrap.recipient_kind == "unit",
                                 CaseKeyWrap.recipient_id == verifier.id)).all()
        assert len(wraps) == total + 1 and {w.unit_key_serial for w, _ in wraps} == {1}
        for wrap, case in wraps:  # the old key opens nothing
            with pytest.raises(DecryptionError):
                hpke.unwrap(old_private, wrap.wrapped,
                            sealing.unit_info(case, wrap.purpose, after))  # type: ignore[arg-type]
    for n, number in enumerate(_numbers(ctx, "complaint")):
        assert f"Keluhan rahasia nomor {n}" in staff_open(staff, number).text
    assert _actions(ctx, "key.unit.rotate")[-1] == {"unit": "tim-pengelola",
                                                     "rewrapped": done.rewrapped, "serial": 1}


def test_recovery_with_exactly_m_of_n_shares(app: Any, client: TestClient, demo: Any,
                                              clock: Clock, ctx: Context) -> None:
    _file(client, WB, 7)
    number = _numbers(ctx, "whistleblowing")[0]
    holders = ["Sekretaris Daerah", "Inspektur", "Kepala Diskominfo", "Kepala BKPSDM",
               "Asisten Pemerintahan"]
    shares = recovery.setup(ctx, holders, 3, "cli")
    assert [s.holder for s in shares] == holders and len(shares[0].words.split()) == 33
    with pytest.raises(recovery.RecoveryRefused, match="already_set_up"):
        recovery.setup(ctx, holders, 3, "cli")
    # The Inspektorat existed before the recovery key: escrowed at its next grant.
    creds = _plant(ctx, "auditor4", Role.INVESTIGATOR, "inspektorat")
    holder = _client(app)
    sign_in(holder, demo["investigator"], "investigator", clock)
    _grant(holder, "auditor4")
    inspektorat = _unit(ctx, "inspektorat")
    with ctx.db() as s:
        assert s.get(UnitRecoveryWrap, inspektorat.id) is not None

    # The whole unit loses access: both members reset their forgotten passwords.
    secret = keys.reset_credentials(ctx, "investigator", "lost and reset password", "cli")
    for colleague in ("investigator2", "auditor4"):
        keys.reset_credentials(ctx, colleague, "lost and reset password", "cli")
    clock.advance(seconds=31)
    staff = _client(app)
    assert sign_in(staff, {"password": "lost and reset password", "totp_secret": secret},
                   "investigator", clock).status_code == 303
    assert staff_open(staff, number).status_code == 403

    words = [s.words for s in shares]
    with pytest.raises(recovery.RecoveryRefused, match="shares_insufficient"):
        recovery.recover(ctx, "inspektorat", "investigator", words[1:3], "cli")  # M-1
    other = recovery.RecoveryRefused
    with pytest.raises(other, match="not_a_member"):
        recovery.recover(ctx, "inspektorat", "verifikator", words[:3], "cli")
    recovery.recover(ctx, "inspektorat", "investigator", [words[4], words[0], words[2]], "cli")
    assert "Isi rahasia nomor 7" in staff_open(staff, number).text
    used = _actions(ctx, "recovery.use")
    # The M-1 attempt and the outsider's are on record as refused, then the one use.
    assert used == [
        {"unit": "inspektorat", "member": "investigator", "shares": 2,
         "why": "shares_insufficient"},
        {"unit": "inspektorat", "member": "verifikator", "shares": 3, "why": "not_a_member"},
        {"unit": "inspektorat", "member": "investigator", "shares": 3}]
    assert [u.unit for u in recovery.uses(ctx)] == ["inspektorat"]
    page = client.get("/transparansi")
    assert "Penggunaan kunci pemulihan" in page.text and "inspektorat" in page.text
    assert creds  # the colleague can be re-granted by the recovered member as usual


def test_shares_of_another_instance_are_refused(ctx: Context, demo: Any) -> None:
    recovery.setup(ctx, ["A", "B", "C"], 2, "cli")
    from shamir_mnemonic import generate_mnemonics

    foreign = generate_mnemonics(1, [(2, 3)], b"\x01" * 32)[0]
    with pytest.raises(recovery.RecoveryRefused, match="wrong_shares"):
        recovery.recover(ctx, "inspektorat", "investigator", foreign[:2], "cli")
    for bad_holders, threshold in ((["A"], 1), (["A", "A", "B"], 2), (["A", "B"], 3)):
        with pytest.raises(recovery.RecoveryRefused, match="bad_holders"):
            recovery.setup(ctx, bad_holders, threshold, "cli")


def test_wbs_init_creates_the_recovery_key_and_prints_each_share_once(
        settings: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from wbs import cli
    from wbs.models import RecoveryKey

    for name, value in (("DATABASE_URL", settings.database_url),
                        ("KEYS_DIR", str(settings.keys_dir)), ("DATA_DIR", str(settings.data_dir)),
                        ("BASE_URL", settings.base_url), ("ARGON2", settings.argon2.encode())):
        monkeypatch.setenv(f"WBS_{name}", value)
    holders = "Sekretaris Daerah;Inspektur;Kepala Diskominfo"
    assert cli.main(["init", "--recovery-holders", holders, "--recovery-threshold", "2"]) == 0
    out = capsys.readouterr().out
    blocks = [b for b in out.split("\n\n") if b.split(":")[0] in holders.split(";")]
    assert len(blocks) == 3 and all(len(b.split(":\n")[1].split()) == 33 for b in blocks)
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        row = conn.execute(select(RecoveryKey.threshold, RecoveryKey.holders)).one()
    engine.dispose()
    assert row.threshold == 2 and json.loads(row.holders) == holders.split(";")
    for block in blocks:  # shown once: nothing of a share is stored
        assert block.split(":\n")[1].strip().split()[0] not in row.holders
    assert cli.main(["init", "--recovery-holders", holders]) == 2  # exists already
    assert "exists already" in capsys.readouterr().err
