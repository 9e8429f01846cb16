"""`wbs backup` / `wbs restore` refuse damaged, altered or mismatched archives with a message the
operator can act on, and write nothing to the instance before every check passed (DESIGN §6).

The archives here are re-sealed with the right key after their contents were changed: age's
authentication passes, so only the manifest checks stand between them and the instance.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pyrage import x25519

from wbs.cases import intake
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.ops import backup
from wbs.settings import Settings

HEADER = backup.MAGIC + b"recipient\n"


@pytest.fixture
def empty(settings: Settings, tmp_path: Path) -> Settings:
    """Where a restore would go: nothing there yet (SQLite; the checks run before any install)."""
    root = tmp_path / "restored"
    return replace(settings, data_dir=root / "data", keys_dir=root / "keys",
                   database_url=f"sqlite:///{root / 'data' / 'wbs.sqlite3'}")


@pytest.fixture
def sealed(ctx: Context, demo: Any, settings: Settings,
           tmp_path: Path) -> tuple[x25519.Identity, dict[str, bytes]]:
    """A real backup to a key, opened: its identity and its members by name."""
    intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="Laporan cadangan",
                                          what="Isi laporan rahasia untuk cadangan."),
                  [], Channel.WEB)
    identity = x25519.Identity.generate()
    archive = tmp_path / "real.backup"
    backup.create(settings, archive, recipient=str(identity.to_public()))
    raw = archive.read_bytes()
    assert raw.startswith(HEADER)
    clear = pyrage.decrypt(raw[len(HEADER):], [identity])
    with tarfile.open(fileobj=io.BytesIO(clear), mode="r:") as tar:
        members = {}
        for info in tar.getmembers():
            data = tar.extractfile(info)
            assert data is not None
            members[info.name] = data.read()
    return identity, members


def _reseal(identity: x25519.Identity, members: list[tuple[str, bytes]],
            header: bytes = HEADER) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return header + pyrage.encrypt(out.getvalue(), [identity.to_public()])


def _manifest(members: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> bytes:
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    return json.dumps(manifest).encode()


def _refused(empty: Settings, tmp_path: Path, identity: x25519.Identity, archive: bytes,
             match: str) -> None:
    path = tmp_path / "altered.backup"
    path.write_bytes(archive)
    with pytest.raises(backup.BackupError, match=match):
        backup.restore(empty, path, identity_text=str(identity))
    assert not empty.keys_dir.exists()
    assert not Path(empty.database_url.removeprefix("sqlite:///")).exists()
    assert not backup._live(empty)
    # The private folder the archive was opened into is gone too.
    assert not list(empty.data_dir.resolve().parent.glob(".wbs-restore-*"))


def test_the_untouched_reseal_restores(sealed: tuple[x25519.Identity, dict[str, bytes]],
                                      settings: Settings, tmp_path: Path) -> None:
    """The control: re-sealing alone changes nothing the checks look at (restored in place,
    so on either database)."""
    identity, members = sealed
    path = tmp_path / "resealed.backup"
    path.write_bytes(_reseal(identity, list(members.items())))
    stages: list[str] = []
    done = backup.restore(settings, path, identity_text=str(identity), force=True,
                          progress=lambda stage, _d, _t: stages.append(stage))
    assert done.members == len(members) - 1 and set(stages) == {"restore"}
    for name, data in members.items():
        if name.startswith("keys/"):
            assert (settings.keys_dir / name.removeprefix("keys/")).read_bytes() == data


def test_a_member_the_manifest_does_not_list_is_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path) -> None:
    identity, members = sealed
    smuggled = [*members.items(), ("keys/extra.key", b"planted")]
    _refused(empty, tmp_path, identity, _reseal(identity, smuggled), "does not list")


def test_a_changed_member_fails_its_checksum(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path) -> None:
    identity, members = sealed
    name = next(n for n in members if n.startswith("keys/"))
    changed = [(n, d if n != name else b"x" + d[1:]) for n, d in members.items()]
    _refused(empty, tmp_path, identity, _reseal(identity, changed), "checksum")


@pytest.mark.parametrize("bad_name", ["keys/../../evil", "keys/.hidden", "elsewhere/file",
                                      "database/", "keys/a/b"])
def test_a_member_outside_database_and_keys_is_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path,
        bad_name: str) -> None:
    identity, members = sealed
    payload = b"planted"

    def add(manifest: dict[str, Any]) -> None:
        manifest["files"][bad_name] = {"sha256": hashlib.sha256(payload).hexdigest(),
                                       "bytes": len(payload)}

    altered = [(n, d) for n, d in members.items() if n != "manifest.json"]
    altered += [(bad_name, payload), ("manifest.json", _manifest(members, add))]
    _refused(empty, tmp_path, identity, _reseal(identity, altered), "unexpected member")


def test_duplicate_members_or_no_manifest_are_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path) -> None:
    identity, members = sealed
    name = next(n for n in members if n.startswith("keys/"))
    twice = [(name, members[name]), *members.items()]
    _refused(empty, tmp_path, identity, _reseal(identity, twice), "manifest")
    without = [(n, d) for n, d in members.items() if n != "manifest.json"]
    _refused(empty, tmp_path, identity, _reseal(identity, without), "manifest")


def test_a_newer_format_or_another_header_is_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path) -> None:
    identity, members = sealed

    def newer(manifest: dict[str, Any]) -> None:
        manifest["format"] = backup.FORMAT + 1

    def other_header(manifest: dict[str, Any]) -> None:
        manifest["header_sha256"] = hashlib.sha256(b"another header").hexdigest()

    for change, match in ((newer, "newer wbs"), (other_header, "header was altered")):
        altered = [(n, d if n != "manifest.json" else _manifest(members, change))
                   for n, d in members.items()]
        _refused(empty, tmp_path, identity, _reseal(identity, altered), match)


def test_a_backup_of_the_other_database_kind_is_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings, tmp_path: Path) -> None:
    identity, members = sealed

    def other_kind(manifest: dict[str, Any]) -> None:
        manifest["database"] = "postgresql"  # `empty` names a SQLite database

    altered = [(n, d if n != "manifest.json" else _manifest(members, other_kind))
               for n, d in members.items()]
    _refused(empty, tmp_path, identity, _reseal(identity, altered), "WBS_DATABASE_URL")


@pytest.mark.parametrize(("header", "match"), [
    (b"NOTABACKUP\n", "not a wbs backup"),
    (backup.MAGIC + b"sideways\n", "header is damaged"),
    (backup.MAGIC + b"passphrase\n" + (0).to_bytes(8, "big"), "header is damaged"),
    (backup.MAGIC + b"passphrase\n" + (backup._MAX_IDENTITY_BLOB + 1).to_bytes(8, "big"),
     "header is damaged"),
])
def test_a_damaged_header_is_refused(empty: Settings, tmp_path: Path, header: bytes,
                                     match: str) -> None:
    path = tmp_path / "damaged.backup"
    path.write_bytes(header + b"\0" * 64)
    with pytest.raises(backup.BackupError, match=match):
        backup.restore(empty, path, passphrase="kata sandi yang panjang sekali")
    assert not backup._live(empty)


def test_the_wrong_secret_for_the_sealing_is_refused(
        sealed: tuple[x25519.Identity, dict[str, bytes]], empty: Settings,
        tmp_path: Path) -> None:
    identity, members = sealed
    path = tmp_path / "to-key.backup"
    path.write_bytes(_reseal(identity, list(members.items())))
    with pytest.raises(backup.BackupError, match="no age secret key"):
        backup.restore(empty, path, identity_text="AGE-SECRET-KEY-1NOTAKEY")
    passphrase_sealed = backup.MAGIC + b"passphrase\n" + (16).to_bytes(8, "big") + b"\0" * 80
    path.write_bytes(passphrase_sealed)
    with pytest.raises(backup.BackupError, match="sealed with a passphrase"):
        backup.restore(empty, path, identity_text=str(identity))
    with pytest.raises(backup.BackupError, match="wrong passphrase"):
        backup.restore(empty, path, passphrase="kata sandi yang panjang sekali")
    assert not backup._live(empty)


def test_create_refuses_what_it_cannot_seal_or_snapshot(settings: Settings, ctx: Context,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    identity = x25519.Identity.generate()
    with pytest.raises(backup.BackupError, match="either a passphrase or a recipient"):
        backup.create(settings, tmp_path / "a.backup")
    with pytest.raises(backup.BackupError, match="either a passphrase or a recipient"):
        backup.create(settings, tmp_path / "a.backup", passphrase="x" * 20,
                      recipient=str(identity.to_public()))
    in_memory = replace(settings, database_url="sqlite://")
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.create(in_memory, tmp_path / "b.backup", recipient=str(identity.to_public()))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    no_tools = replace(settings, database_url="postgresql+psycopg://wbs@127.0.0.1:1/wbs")
    with pytest.raises(backup.BackupError, match="pg_dump is not installed"):
        backup.create(no_tools, tmp_path / "c.backup", recipient=str(identity.to_public()))
    # Nothing half-written is left behind by any of them.
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == []


def test_a_failing_pg_dump_is_reported_and_leaves_nothing(settings: Settings, ctx: Context,
                                                          tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    # Port 1 refuses at once: pg_dump exits non-zero and its message reaches the operator.
    unreachable = replace(settings,
                          database_url="postgresql+psycopg://wbs:sandi-rahasia@127.0.0.1:1/wbs")
    dest = tmp_path / "out" / "pg.backup"
    with pytest.raises(backup.BackupError, match="pg_dump failed") as refused:
        backup.create(unreachable, dest, recipient=str(identity.to_public()))
    assert "sandi-rahasia" not in str(refused.value)
    assert list(dest.parent.iterdir()) == []


def test_the_database_password_goes_to_the_environment_never_the_command_line() -> None:
    libpq, env, schema = backup._pg_target(
        "postgresql+psycopg://wbs:sandi%20rahasia@db.internal:5433/wbs"
        "?options=-csearch_path%3Dtenant_a,public")
    assert "sandi" not in libpq and libpq.startswith("postgresql://wbs@db.internal:5433/wbs")
    assert env["PGPASSWORD"] == "sandi rahasia"
    assert schema == "tenant_a"
    plain, plain_env, no_schema = backup._pg_target("postgresql://wbs@db/wbs")
    assert no_schema is None and plain == "postgresql://wbs@db/wbs"
    assert plain_env.get("PGPASSWORD") == __import__("os").environ.get("PGPASSWORD")
