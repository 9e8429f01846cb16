"""`wbs audit verify` on a real instance: an honest log, a tampered row, a saved checkpoint, and a
log rewritten and re-signed from the first entry on."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from wbs import instance
from wbs.app import build_context
from wbs.audit import checkpoint as cp
from wbs.audit import merkle
from wbs.audit.leaf import LEAF_FIELDS, leaf_bytes
from wbs.cli import main
from wbs.jobs import publish_checkpoint_job
from wbs.settings import Settings


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "wbs.sqlite3"
    monkeypatch.setenv("WBS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("WBS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WBS_DATABASE_URL", f"sqlite:///{path}")
    assert main(["init"]) == 0
    return path


def add_units(*slugs: str) -> None:
    """Each unit created leaves a `unit.create` entry: honest appends through the CLI."""
    for slug in slugs:
        assert main(["unit", "add", slug, "--name", f"Dinas {slug}", "--kind", "agency"]) == 0


def verify(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify", *extra])
    return code, capsys.readouterr().out


def save_checkpoint(path: Path) -> Path:
    ctx = build_context(Settings.from_env())
    note_file = path.parent / "saved-checkpoint.txt"
    note_file.write_text(publish_checkpoint_job(ctx))
    ctx.engine.dispose()
    return note_file


def test_honest_log_then_a_tampered_row(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(capsys)
    assert code == 0 and "OK: 0 entries" in out
    add_units("a", "b", "c")
    code, out = verify(capsys)
    assert code == 0 and "OK: 3 entries" in out

    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE audit_entries SET reason = 'nothing happened' WHERE seq = 2")
    code, out = verify(capsys)
    assert code == 1
    assert "FAILED" in out and "entry 2" in out


def test_saved_checkpoint_holds_while_the_log_only_grows(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_units("a", "b")
    note_file = save_checkpoint(db_path)
    add_units("c", "d", "e")
    code, out = verify(capsys, "--checkpoint", str(note_file))
    assert code == 0 and "OK: 5 entries" in out


def _rewrite_log(db_path: Path, origin: str, private: bytes) -> None:
    """What an intruder with database access does: change entry 1, then recompute every leaf,
    root and signed tree head after it, and the head row, under the key he holds."""
    with sqlite3.connect(db_path) as con:
        con.row_factory = sqlite3.Row
        con.execute("UPDATE audit_entries SET reason = 'created by mistake' WHERE seq = 1")
        rows = con.execute("SELECT * FROM audit_entries ORDER BY seq").fetchall()
        frontier: list[bytes] = []
        for size, row in enumerate(rows, start=1):
            fields = {name: row[name] for name in LEAF_FIELDS}
            leaf = merkle.leaf_hash(leaf_bytes(fields))
            frontier = merkle.frontier_append(frontier, size - 1, leaf)
            root = merkle.frontier_root(frontier, size)
            signature = cp.signature_of(cp.checkpoint_body(origin, size, root), private)
            con.execute("UPDATE audit_entries SET leaf_hash = ?, root_hash = ?, signature = ? "
                        "WHERE seq = ?", (leaf, root, signature, size))
        con.execute("UPDATE audit_head SET frontier = ? WHERE id = 1",
                    (merkle.encode_frontier(frontier),))


def _replace_audit_key(keys_dir: Path, private: bytes) -> None:
    path = keys_dir / instance.AUDIT_KEY_FILE
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private.hex() + "\n")


@pytest.mark.parametrize("intruder", ["own key", "own key installed", "stolen key"])
def test_rewritten_log_fails_against_the_saved_checkpoint(
        db_path: Path, capsys: pytest.CaptureFixture[str], intruder: str) -> None:
    add_units("a", "b", "c")
    note_file = save_checkpoint(db_path)
    add_units("d")
    settings = Settings.from_env()
    ctx = build_context(settings)
    origin = ctx.audit_keys.origin
    ctx.engine.dispose()
    if intruder == "stolen key":
        private = instance.load_keys(settings.keys_dir).audit_private
    else:
        private = Ed25519PrivateKey.generate().private_bytes_raw()
    _rewrite_log(db_path, origin, private)
    if intruder == "own key installed":
        _replace_audit_key(settings.keys_dir, private)

    code, out = verify(capsys)
    if intruder == "own key":
        # The signed heads no longer match the instance key, from the first entry on.
        assert code == 1 and "entry 1" in out
    else:
        # The checkpoints stored when the log was honest no longer match it (finding 11)...
        assert code == 1 and "stored checkpoint" in out
        # ...so the intruder removes them too: the log is then consistent under the key that
        # signed it, and only a checkpoint saved outside the server helps.
        with sqlite3.connect(db_path) as con:
            con.execute("DELETE FROM audit_checkpoints")
        code, out = verify(capsys)
        assert code == 0
    code, out = verify(capsys, "--checkpoint", str(note_file))
    assert code == 1 and "FAILED" in out
    if intruder == "stolen key":
        assert "the first 3 entries are not the ones the checkpoint signed" in out
    elif intruder == "own key installed":
        assert "checkpoint rejected" in out
