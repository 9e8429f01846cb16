"""Instance keys: created 0600, and refused when others can read them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from wbs import instance


def test_keys_created_with_mode_0600(tmp_path: Path) -> None:
    created = instance.create_keys(tmp_path / "keys")
    assert sorted(created) == sorted(instance._FILES)
    for name in created:
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600, name
    assert instance.create_keys(tmp_path / "keys") == []  # never overwritten
    keys = instance.load_keys(tmp_path / "keys")
    assert keys.pepper.hex() not in repr(keys)


def test_world_readable_key_refused(tmp_path: Path) -> None:
    instance.create_keys(tmp_path / "keys")
    os.chmod(tmp_path / "keys" / instance.PEPPER_FILE, 0o644)
    with pytest.raises(instance.KeyFileError, match="chmod 600"):
        instance.load_keys(tmp_path / "keys")


def test_serve_refuses_to_start_with_0644_keys(tmp_path: Path) -> None:
    env = {**os.environ, "WBS_KEYS_DIR": str(tmp_path / "keys"),
           "WBS_DATA_DIR": str(tmp_path / "data"), "WBS_ENV": "development"}
    init = subprocess.run([sys.executable, "-m", "wbs", "init"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    # The database and everything else wbs creates is for its own user only.
    for created in (tmp_path / "data").rglob("*"):
        assert stat.S_IMODE(created.stat().st_mode) & 0o077 == 0, created
    assert (tmp_path / "data" / "wbs.sqlite3").exists()
    for path in (tmp_path / "keys").iterdir():
        os.chmod(path, 0o644)
    serve = subprocess.run([sys.executable, "-m", "wbs", "serve", "--port", "0"], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert serve.returncode == 2
    assert "Refusing to start" in serve.stderr and "can be read by other users" in serve.stderr
