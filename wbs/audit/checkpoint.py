"""Signed checkpoints in the C2SP formats (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint says "the log `origin` has `size` entries and this root". Publishing it in the
standard text format lets anyone keep a copy and later check, with any C2SP-aware tool, that the
log they are shown only grew since; the Ed25519 signature stops a database thief from minting
checkpoints of his own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wbs.audit.merkle import HASH_SIZE

_ED25519 = b"\x01"  # signed-note signature type of Ed25519
_SIG_PREFIX = "\u2014 "  # em dash and space open every signature line
_MAX_SIGNATURES = 100  # the cap the Go reference applies; more is a malformed note
_MAX_NOTE_CHARS = 64 * 1024  # a checkpoint is a few hundred bytes; refuse to parse a novel
# Tree sizes are plain decimals without leading zeros, so each size has exactly one spelling.
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(ValueError):
    """A note that is malformed, not signed by the expected key, or not a checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def _check_text(text: str, what: str) -> None:
    # Both specs forbid control characters other than newline anywhere in a note.
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError(f"{what} contains a control character")


def _check_key_name(key_name: str) -> None:
    # A name must be non-empty, without spaces (they delimit the signature line) and without
    # "+" (it delimits the verifier key string).
    if not key_name or "+" in key_name or any(ch.isspace() for ch in key_name):
        raise CheckpointError("key name must be non-empty, without spaces or '+'")
    _check_text(key_name, "key name")


def key_id(key_name: str, public: bytes) -> bytes:
    """The 4-byte key hint: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]."""
    _check_key_name(key_name)
    if len(public) != 32:
        raise CheckpointError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(key_name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def verifier_key_string(key_name: str, public: bytes) -> str:
    """The vkey that auditors configure in their tools: name+hex(key id)+base64(0x01 ‖ key)."""
    encoded = base64.b64encode(_ED25519 + public).decode()
    return f"{key_name}+{key_id(key_name, public).hex()}+{encoded}"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin or origin != origin.strip():
        raise CheckpointError("origin must be one non-empty line without outer spaces")
    _check_text(origin, "origin")
    if size < 0 or len(root) != HASH_SIZE:
        raise CheckpointError("size must be >= 0 and root 32 bytes")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def signature_of(body: str, private: bytes) -> bytes:
    """Raw Ed25519 signature of a checkpoint body, as stored beside each audit entry."""
    return Ed25519PrivateKey.from_private_bytes(private).sign(body.encode())


def verify_signature(body: str, signature: bytes, public: bytes) -> bool:
    # Stored values come back from a database an attacker may have edited, so a malformed key
    # or signature is simply "does not verify", never an exception that aborts verification.
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, body.encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sign_checkpoint(body: str, key_name: str, private: bytes) -> str:
    """The full signed note: body, blank line, one signature line."""
    _check_text(body, "body")
    if not body.endswith("\n") or "\n\n" in body:
        raise CheckpointError("a note body ends with one newline and has no blank line")
    public = Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    blob = base64.b64encode(key_id(key_name, public) + signature_of(body, private)).decode()
    return f"{body}\n{_SIG_PREFIX}{key_name} {blob}\n"


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not standard base64") from exc
    # Refuse non-canonical spellings (stray padding bits) so one value has one text.
    if base64.b64encode(raw).decode() != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointError("malformed signature line")
    name, _, blob = line[len(_SIG_PREFIX) :].partition(" ")
    raw = _b64(blob, "signature")
    if not name or len(raw) < 5:
        raise CheckpointError("malformed signature line")
    return name, raw


def _verified_body(note: str, key_name: str, public: bytes) -> str:
    if len(note) > _MAX_NOTE_CHARS:
        raise CheckpointError("note too large")
    _check_text(note, "note")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckpointError("note has no signature block")
    body, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError("too many signatures")
    wanted = key_id(key_name, public)
    signatures = [_signature_line(line) for line in lines]  # all well-formed, or none count
    for name, raw in signatures:
        if name != key_name or raw[:4] != wanted:
            continue  # Signatures by other keys (witnesses, say) are ignored, as the spec says.
        # The first line of our key decides: a bad signature by a known key rejects the note.
        if len(raw) != 4 + 64 or not verify_signature(body, raw[4:], public):
            raise CheckpointError("signature does not verify")
        return body
    raise CheckpointError(f"no signature by key {key_name} with id {wanted.hex()}")


def parse_and_verify(note: str, key_name: str, public: bytes) -> Checkpoint:
    """Verify the note's signature by (key_name, public), then parse its checkpoint body."""
    body = _verified_body(note, key_name, public)
    lines = body[:-1].split("\n")
    # Lines after the third are extensions; we neither write nor need any, and ignore them.
    if len(lines) < 3 or not lines[0]:
        raise CheckpointError("a checkpoint has an origin, a size and a root hash")
    if not _SIZE.fullmatch(lines[1]):
        raise CheckpointError("tree size is not a canonical decimal")
    root = _b64(lines[2], "root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError("root hash is not 32 bytes")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root)
