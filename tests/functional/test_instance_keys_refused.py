"""Instance keys that are missing, corrupt, or in a folder others may write to stop the start
with a message saying what to do; /readyz reports them without saying which or why."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from wbs import instance
from wbs.context import Context
from wbs.ops import health


def test_a_missing_key_names_wbs_init(tmp_path: Path) -> None:
    instance.create_keys(tmp_path / "keys")
    (tmp_path / "keys" / instance.RECEIPT_KEY_FILE).unlink()
    with pytest.raises(instance.KeyFileError, match="wbs init"):
        instance.load_keys(tmp_path / "keys")
    assert instance.create_keys(tmp_path / "keys") == [instance.RECEIPT_KEY_FILE]
    instance.load_keys(tmp_path / "keys")


def test_a_corrupt_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    instance.create_keys(tmp_path / "keys")
    path = tmp_path / "keys" / instance.PEPPER_FILE
    path.write_text("zz-not-hex-but-secret-looking")
    with pytest.raises(instance.KeyFileError, match="corrupt") as refused:
        instance.load_keys(tmp_path / "keys")
    assert "secret-looking" not in str(refused.value)


def test_a_key_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    instance.create_keys(tmp_path / "keys")
    os.chmod(tmp_path / "keys", 0o720)  # group-writable: a colleague could swap a key in
    with pytest.raises(instance.KeyFileError, match="writable by others"):
        instance.load_keys(tmp_path / "keys")
    os.chmod(tmp_path / "keys", 0o700)
    instance.load_keys(tmp_path / "keys")


def test_readiness_names_the_failing_check_only(ctx: Context, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert health.readiness(ctx) == {"database": True, "keys": True, "disk": True}
    keyless = replace(ctx, settings=replace(ctx.settings, keys_dir=tmp_path / "nowhere"))
    assert health.readiness(keyless) == {"database": True, "keys": False, "disk": True}

    def unreadable(_path: object) -> object:
        raise PermissionError("the data folder's file system cannot be asked")

    monkeypatch.setattr(shutil, "disk_usage", unreadable)
    assert health.readiness(ctx) == {"database": True, "keys": True, "disk": False}


def test_free_space_is_asked_of_the_nearest_existing_folder(tmp_path: Path) -> None:
    deep = tmp_path / "not" / "made" / "yet"
    # The same file system as tmp_path (others write meanwhile: equal within a margin).
    assert abs(health.free_bytes(deep) - shutil.disk_usage(tmp_path).free) < 64 * 1024 * 1024
    assert not deep.exists()
