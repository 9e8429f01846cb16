"""Issue 13, done-when 1 and 2: a backup taken while reports arrive restores into a fresh instance
where every acknowledged case decrypts for its unit and its reporter and the audit log verifies;
a backup with one byte changed is refused before anything is written. SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pyrage import x25519
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.functional.test_roundtrip import staff_open
from wbs import audit, instance
from wbs.app import create_app
from wbs.cases import intake, reporter, sealing
from wbs.context import Context
from wbs.crypto.passwords import PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.enums import Channel, ReportKind
from wbs.models import Case
from wbs.ops import backup
from wbs.settings import Settings

PASSPHRASE = "kata sandi cadangan yang panjang"


@pytest.fixture
def fresh(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty place to restore into: new folders and a database nobody has created yet."""
    root = tmp_path / "restored"
    if settings.database_url.startswith("sqlite"):
        yield replace(settings, data_dir=root / "data", keys_dir=root / "keys",
                      database_url=f"sqlite:///{root / 'data' / 'wbs.sqlite3'}")
        return
    url = make_url(settings.database_url)
    name = f"wbs_restore_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield replace(settings, data_dir=root / "data", keys_dir=root / "keys",
                      database_url=url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _context(settings: Settings, clock: Clock) -> Context:
    engine = make_engine(settings.database_url)
    return Context(settings=settings, keys=instance.load_keys(settings.keys_dir), engine=engine,
                   db=make_sessionmaker(engine), kdf=PasswordKDF(settings.argon2), clock=clock)


def _report(n: int) -> intake.ReportInput:
    return intake.ReportInput(kind=ReportKind.COMPLAINT, title=f"Laporan nomor {n}",
                              what=f"Isi laporan rahasia {n}: pungutan liar di loket.")


def test_backup_during_submissions_restores_every_acknowledged_case(
        ctx: Context, demo: Any, settings: Settings, fresh: Settings, clock: Clock,
        tmp_path: Path) -> None:
    before = [(intake.submit(ctx, _report(n), [], Channel.WEB).code, n) for n in range(4)]
    stop = threading.Event()
    during: list[tuple[str, int]] = []

    def keep_submitting() -> None:
        n = 100
        while not stop.is_set() and n < 160:
            during.append((intake.submit(ctx, _report(n), [], Channel.WEB).code, n))
            n += 1

    writers = [threading.Thread(target=keep_submitting) for _ in range(2)]
    for w in writers:
        w.start()
    archive = tmp_path / "wbs.backup"
    try:
        backup.create(settings, archive, passphrase=PASSPHRASE)
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert during, "no submission ran while the backup was taken"
    blob = archive.read_bytes()
    assert b"Laporan nomor" not in blob and b"pungutan" not in blob
    assert settings.keys_dir.joinpath(instance.PEPPER_FILE).read_bytes() not in blob

    done = backup.restore(fresh, archive, passphrase=PASSPHRASE)
    assert {n.split("/")[0] for n in done.manifest["files"]} == {"database", "keys"}
    restored = _context(fresh, clock)
    try:
        with restored.db() as session:
            numbers = set(session.scalars(select(Case.case_number)))
        # Acknowledged before the snapshot began: all there. Meanwhile: each one there is whole.
        present = [(code, n) for code, n in before + during
                   if reporter.access_by_code(restored, code) is not None]
        assert {n for _, n in present} >= {n for _, n in before}
        assert len(present) == len(numbers)
        for code, n in present:
            access = reporter.access_by_code(restored, code)
            assert access is not None
            with restored.db() as session:
                case = session.get(Case, access.case_id)
                assert case is not None
                key = sealing.reporter_unwrap(session, case, "content", access.secret)
                doc = sealing.open_json(key, case, "report", case.report_sealed)
            assert doc["title"] == f"Laporan nomor {n}"
        k = restored.audit_keys
        with restored.db() as session:
            result = audit.verify_log(session, k.public, k.origin, k.key_name)
        assert result.ok, result.problem
        # The receiving unit reads the content with its members' own keys, as before.
        app = create_app(fresh, context=restored)
        app.state.failure_floor = 0.0
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as staff:
            assert sign_in(staff, demo["verifikator"], "verifikator", clock).status_code == 303
            some = sorted(numbers)[0]
            page = staff_open(staff, some)
            assert page.status_code == 200 and "Isi laporan rahasia" in page.text
    finally:
        restored.engine.dispose()


def test_a_changed_byte_anywhere_is_refused_before_anything_is_written(
        ctx: Context, demo: Any, settings: Settings, fresh: Settings, tmp_path: Path) -> None:
    intake.submit(ctx, _report(1), [], Channel.WEB)
    archive = tmp_path / "wbs.backup"
    backup.create(settings, archive, passphrase=PASSPHRASE)
    original = archive.read_bytes()
    header_end = len(backup.MAGIC) + len(b"passphrase\n")
    for where in (0, header_end - 3, header_end + 4, header_end + 60, len(original) // 2,
                  len(original) - 1):
        damaged = bytearray(original)
        damaged[where] ^= 0x01
        archive.write_bytes(bytes(damaged))
        with pytest.raises(backup.BackupError):
            backup.restore(fresh, archive, passphrase=PASSPHRASE)
        assert not fresh.keys_dir.exists() or not any(fresh.keys_dir.iterdir())
        assert not backup._live(fresh)
    archive.write_bytes(original[:-100])  # truncated
    with pytest.raises(backup.BackupError):
        backup.restore(fresh, archive, passphrase=PASSPHRASE)
    archive.write_bytes(original)
    with pytest.raises(backup.BackupError, match="passphrase"):
        backup.restore(fresh, archive, passphrase="a wrong passphrase, long")
    assert not backup._live(fresh)
    backup.restore(fresh, archive, passphrase=PASSPHRASE)
    assert backup._live(fresh)


def test_restore_refuses_a_live_instance_without_force_and_a_key_sealed_backup(
        ctx: Context, demo: Any, settings: Settings, tmp_path: Path) -> None:
    intake.submit(ctx, _report(1), [], Channel.WEB)
    identity = x25519.Identity.generate()
    archive = tmp_path / "to-key.backup"
    backup.create(settings, archive, recipient=str(identity.to_public()))
    with pytest.raises(backup.BackupError, match="overwrite"):
        backup.restore(settings, archive, identity_text=str(identity))
    with pytest.raises(backup.BackupError, match="identity"):
        backup.restore(settings, archive, passphrase=PASSPHRASE)
    other = x25519.Identity.generate()
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.restore(settings, archive, identity_text=str(other), force=True)
    done = backup.restore(settings, archive, identity_text=str(identity), force=True)
    assert done.members >= 4
    with pytest.raises(backup.BackupError, match="exists"):
        backup.create(settings, archive, recipient=str(identity.to_public()))
    with pytest.raises(backup.BackupError, match="recipient"):
        backup.create(settings, tmp_path / "x", recipient="age1notakey")
    with pytest.raises(backup.BackupError, match="12"):
        backup.create(settings, tmp_path / "y", passphrase="short")
    assert pyrage  # the library the archive format depends on


def test_cli_backup_and_restore(ctx: Context, demo: Any, settings: Settings, fresh: Settings,
                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from wbs import cli

    intake.submit(ctx, _report(7), [], Channel.WEB)
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "cli.backup"

    def env(s: Settings) -> None:
        for name, value in (("DATABASE_URL", s.database_url), ("DATA_DIR", str(s.data_dir)),
                            ("KEYS_DIR", str(s.keys_dir)), ("BASE_URL", s.base_url),
                            ("ENV", "development")):
            monkeypatch.setenv(f"WBS_{name}", value)

    env(settings)
    assert cli.main(["backup", str(archive), "--passphrase-file", str(secret)]) == 0
    env(fresh)
    assert cli.main(["restore", str(archive), "--passphrase-file", str(secret)]) == 0
    out = capsys.readouterr().out
    assert "audit log OK" in out
    assert cli.main(["restore", str(archive), "--passphrase-file", str(secret)]) == 2
    assert "--force" in capsys.readouterr().err
