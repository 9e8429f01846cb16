"""Instance key material in keys/ (DESIGN §3): the pepper and the Ed25519 signing keys.

`wbs init` creates them with mode 0600. Loading refuses files that group or others can read:
a key that leaked into a world-readable file is a key that has leaked, and the operator must know.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from wbs.crypto import keyring, signing

PEPPER_FILE = "pepper"
AUDIT_KEY_FILE = "audit-ed25519"
RECEIPT_KEY_FILE = "receipt-ed25519"
_FILES = (PEPPER_FILE, AUDIT_KEY_FILE, RECEIPT_KEY_FILE)


class KeyFileError(Exception):
    """Instance keys are missing or unsafe; the message tells the operator what to do."""


@dataclass(frozen=True)
class InstanceKeys:
    pepper: bytes = field(repr=False)
    audit_private: bytes = field(repr=False)
    receipt_private: bytes = field(repr=False)

    @property
    def audit_public(self) -> bytes:
        return signing.public_key_of(self.audit_private)

    @property
    def receipt_public(self) -> bytes:
        return signing.public_key_of(self.receipt_private)

    def derived(self, label: str) -> bytes:
        """A key for one purpose (CSRF, TOTP sealing, throttle hashing), derived from the pepper."""
        return keyring.sealed_secret_for_instance(self.pepper, label)


def keys_exist(keys_dir: Path) -> bool:
    return all((keys_dir / name).exists() for name in _FILES)


def _write_secret(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite an existing key; 0o600 from the first byte (no chmod race).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.hex().encode() + b"\n")


def create_keys(keys_dir: Path) -> list[str]:
    """Create any missing key file; return the names created. Existing keys are kept."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = []
    makers = {
        PEPPER_FILE: lambda: secrets.token_bytes(32),
        AUDIT_KEY_FILE: signing.generate_signing_key,
        RECEIPT_KEY_FILE: signing.generate_signing_key,
    }
    for name in _FILES:
        path = keys_dir / name
        if not path.exists():
            _write_secret(path, makers[name]())
            created.append(name)
    return created


def _read_secret(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError(
            f"Instance key {path} is missing. Run `wbs init` to create the instance keys."
        ) from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"Refusing to start: instance key {path} has mode {stat.S_IMODE(st.st_mode):04o} and "
            f"can be read by other users. Run `chmod 600 {path}` (and check who copied it)."
        )
    try:
        return bytes.fromhex(path.read_text().strip())
    except ValueError as exc:
        raise KeyFileError(f"Instance key {path} is corrupt (not hex).") from exc


def load_keys(keys_dir: Path) -> InstanceKeys:
    if keys_dir.exists() and keys_dir.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyFileError(f"Refusing to start: key directory {keys_dir} is writable by others.")
    return InstanceKeys(
        pepper=_read_secret(keys_dir / PEPPER_FILE),
        audit_private=_read_secret(keys_dir / AUDIT_KEY_FILE),
        receipt_private=_read_secret(keys_dir / RECEIPT_KEY_FILE),
    )
