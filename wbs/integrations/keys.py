"""The connector's key pair (keys/lapor-connector, mode 0600, created by `wbs init`).

Outbox documents hold report content, so they are sealed (HPKE, the same hybrid suite as every
other wrap) to this key at the moment of the act, by the staff member who could read the case
then. Only a process holding keys/ (the connector in `wbs jobs run`, and the audited manual
export) can open them; a copy of the database cannot.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from wbs import instance
from wbs.crypto import hpke

KEY_FILE = "lapor-connector"


def ensure_key(keys_dir: Path) -> bool:
    """Create the key file if missing; True if created. Safe when two processes race."""
    path = keys_dir / KEY_FILE
    if path.exists():
        return False
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pair = hpke.generate_keypair()
    try:
        # O_EXCL inside: never overwrites a key another process has just written.
        # The public half is stored beside the private one: hpke derives no public key.
        instance._write_secret(path, pair.private + pair.public)
    except FileExistsError:
        return False
    return True


@lru_cache(maxsize=8)
def _pair(path: str, mtime_ns: int) -> tuple[bytes, bytes]:
    data = instance._read_secret(Path(path))
    if len(data) != hpke.PRIVATE_KEY_SIZE + hpke.PUBLIC_KEY_SIZE:
        raise instance.KeyFileError(f"Connector key {path} is corrupt (wrong length).")
    return data[:hpke.PRIVATE_KEY_SIZE], data[hpke.PRIVATE_KEY_SIZE:]


def _load(keys_dir: Path) -> tuple[bytes, bytes]:
    ensure_key(keys_dir)
    path = keys_dir / KEY_FILE
    return _pair(str(path), os.stat(path).st_mtime_ns)


def private_key(keys_dir: Path) -> bytes:
    return _load(keys_dir)[0]


def public_key(keys_dir: Path) -> bytes:
    return _load(keys_dir)[1]


def info(case_number: str, idempotency_key: str) -> bytes:
    """Binds a sealed document to its case and outbox item: a blob moved to another row fails."""
    return hpke.wrap_info(case_number, "lapor-outbox", f"outbox:{idempotency_key}")
