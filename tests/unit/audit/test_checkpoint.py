"""C2SP checkpoints and signed notes: round trip, tampering, and the Go reference vector."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from wbs.audit import checkpoint as cp
from wbs.audit.merkle import EMPTY_ROOT

ORIGIN = "wbs.contoh.go.id/audit"
NAME = "wbs.contoh.go.id/audit"
ROOT = hashlib.sha256(b"some root").digest()

# golang.org/x/mod/sumdb/note's documented example: the same key and text must give the same
# note byte for byte (Ed25519 is deterministic), which shows Go tooling accepts our notes.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


@pytest.fixture
def key() -> tuple[bytes, bytes]:
    private = Ed25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes_raw()


def _note(private: bytes, size: int = 42, root: bytes = ROOT) -> str:
    return cp.sign_checkpoint(cp.checkpoint_body(ORIGIN, size, root), NAME, private)


def test_round_trip(key: tuple[bytes, bytes]) -> None:
    private, public = key
    note = _note(private)
    body = f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert note.startswith(body + "\n\u2014 " + NAME + " ")
    assert note.endswith("\n")
    assert cp.parse_and_verify(note, NAME, public) == cp.Checkpoint(ORIGIN, 42, ROOT)


def test_empty_tree_checkpoint(key: tuple[bytes, bytes]) -> None:
    private, public = key
    note = _note(private, 0, EMPTY_ROOT)
    assert note.splitlines()[1:3] == ["0", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]
    assert cp.parse_and_verify(note, NAME, public).size == 0


def test_key_id_matches_an_independent_computation(key: tuple[bytes, bytes]) -> None:
    _, public = key
    expected = hashlib.sha256(NAME.encode() + b"\n" + b"\x01" + public).digest()[:4]
    assert cp.key_id(NAME, public) == expected
    blob = base64.b64decode(_note(key[0]).rsplit(" ", 1)[1])
    assert blob[:4] == expected and len(blob) == 68
    vkey = cp.verifier_key_string(NAME, public)
    material = base64.b64encode(b"\x01" + public).decode()
    assert vkey == f"{NAME}+{expected.hex()}+{material}"


def test_go_reference_note_is_reproduced_byte_for_byte() -> None:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    public = base64.b64decode(GO_VKEY.split("+", 2)[2])[1:]
    assert Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw() == public
    assert cp.verifier_key_string("PeterNeumann", public) == GO_VKEY
    assert cp.sign_checkpoint(GO_TEXT, "PeterNeumann", seed) == GO_NOTE
    # The signature is good, but two lines are not a checkpoint.
    with pytest.raises(cp.CheckpointError, match="origin, a size and a root"):
        cp.parse_and_verify(GO_NOTE, "PeterNeumann", public)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n42\n", "\n43\n"),  # size
        (base64.b64encode(ROOT).decode(), base64.b64encode(EMPTY_ROOT).decode()),  # root
        (ORIGIN + "\n", "evil.example/audit\n"),  # origin
    ],
)
def test_altered_body_fails(key: tuple[bytes, bytes], old: str, new: str) -> None:
    private, public = key
    note = _note(private)
    assert old in note
    with pytest.raises(cp.CheckpointError, match="does not verify"):
        cp.parse_and_verify(note.replace(old, new, 1), NAME, public)


def test_altered_signature_fails(key: tuple[bytes, bytes]) -> None:
    private, public = key
    note = _note(private)
    head, blob = note[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    with pytest.raises(cp.CheckpointError):
        cp.parse_and_verify(f"{head} {base64.b64encode(raw).decode()}\n", NAME, public)


def test_other_key_name_or_key_fails(key: tuple[bytes, bytes]) -> None:
    private, public = key
    note = _note(private)
    with pytest.raises(cp.CheckpointError, match="no signature by key"):
        cp.parse_and_verify(note, "other.example/audit", public)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(cp.CheckpointError, match="no signature by key"):
        cp.parse_and_verify(note, NAME, other)
    # Renaming the signer in the note changes nothing the signature covers, but the key id
    # is bound to the name, so the line no longer belongs to any key we know.
    renamed = note.replace(f"\u2014 {NAME} ", "\u2014 other.example/audit ")
    with pytest.raises(cp.CheckpointError):
        cp.parse_and_verify(renamed, "other.example/audit", public)


def test_signatures_by_unknown_keys_are_ignored(key: tuple[bytes, bytes]) -> None:
    private, public = key
    witness = Ed25519PrivateKey.generate().private_bytes_raw()
    body = cp.checkpoint_body(ORIGIN, 7, ROOT)
    cosigned = cp.sign_checkpoint(body, "witness.example", witness)
    ours = _note(private, 7).split("\n\n", 1)[1]
    note = cosigned + ours  # a witness line first, then ours
    assert cp.parse_and_verify(note, NAME, public).size == 7


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\u2014", "--"),  # not an em dash
        lambda n: n.replace("\n42\n", "\n\t42\n"),  # control character
        lambda n: n + "\u2014 x\n",  # truncated signature line
    ],
)
def test_malformed_notes_are_refused(key: tuple[bytes, bytes], mangle: object) -> None:
    private, public = key
    assert callable(mangle)
    with pytest.raises(cp.CheckpointError):
        cp.parse_and_verify(mangle(_note(private)), NAME, public)


_B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n042\n{_B64_ROOT}\n",  # a size has one spelling
        f"{ORIGIN}\n+42\n{_B64_ROOT}\n",
        f"{ORIGIN}\n-1\n{_B64_ROOT}\n",
        f"{ORIGIN}\n\uff14\uff12\n{_B64_ROOT}\n",  # fullwidth digits pass str.isdigit()
        f"{ORIGIN}\n42\n{_B64_ROOT.rstrip('=')}\n",  # unpadded base64
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short root
        f"{ORIGIN}\n42\n",  # no root
    ],
)
def test_signed_but_malformed_checkpoints_are_refused(key: tuple[bytes, bytes], body: str) -> None:
    # Signed properly, so only the checkpoint parser stands between these and acceptance.
    private, public = key
    with pytest.raises(cp.CheckpointError):
        cp.parse_and_verify(cp.sign_checkpoint(body, NAME, private), NAME, public)


def test_extension_lines_are_ignored(key: tuple[bytes, bytes]) -> None:
    private, public = key
    body = cp.checkpoint_body(ORIGIN, 5, ROOT) + "extension line\n"
    assert cp.parse_and_verify(cp.sign_checkpoint(body, NAME, private), NAME, public).size == 5


def test_bad_names_and_origins_are_refused(key: tuple[bytes, bytes]) -> None:
    private, _ = key
    for name in ["", "has space", "has+plus"]:
        with pytest.raises(cp.CheckpointError):
            cp.sign_checkpoint(cp.checkpoint_body(ORIGIN, 1, ROOT), name, private)
    for origin in ["", "two\nlines", " padded"]:
        with pytest.raises(cp.CheckpointError):
            cp.checkpoint_body(origin, 1, ROOT)
    with pytest.raises(cp.CheckpointError):
        cp.checkpoint_body(ORIGIN, 1, b"short")


def test_entry_signature_helpers(key: tuple[bytes, bytes]) -> None:
    private, public = key
    body = cp.checkpoint_body(ORIGIN, 3, ROOT)
    signature = cp.signature_of(body, private)
    assert cp.verify_signature(body, signature, public)
    assert not cp.verify_signature(cp.checkpoint_body(ORIGIN, 4, ROOT), signature, public)
    assert not cp.verify_signature(body, signature[:-1], public)
    assert not cp.verify_signature(body, signature, b"\x00" * 31)
