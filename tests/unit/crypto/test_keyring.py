from __future__ import annotations

import hashlib
import secrets

import pytest

from wbs.crypto import aead, keyring
from wbs.crypto.aead import DecryptionError
from wbs.crypto.hpke import generate_keypair

TOKEN = bytes(range(32))
OTHER_TOKEN = bytes(range(1, 33))
PEPPER = bytes(32)


def test_user_private_key_round_trip() -> None:
    private, sealing_key = generate_keypair().private, aead.new_key()
    sealed = keyring.seal_user_private_key(private, sealing_key, "alice")
    assert keyring.open_user_private_key(sealed, sealing_key, "alice") == private


def test_user_private_key_bound_to_username_and_key() -> None:
    private, sealing_key = generate_keypair().private, aead.new_key()
    sealed = keyring.seal_user_private_key(private, sealing_key, "alice")
    with pytest.raises(DecryptionError):
        keyring.open_user_private_key(sealed, sealing_key, "mallory")
    with pytest.raises(DecryptionError):
        keyring.open_user_private_key(sealed, aead.new_key(), "alice")


def test_session_key_and_token_hash_are_unrelated() -> None:
    key, lookup = keyring.session_sealing_key(TOKEN), keyring.token_hash(TOKEN)
    assert len(key) == 32 and len(lookup) == 32
    assert key != lookup
    # The stored hash carries its own domain label, unlike a bare SHA-256 of the token.
    assert lookup != hashlib.sha256(TOKEN).digest()
    assert keyring.session_sealing_key(TOKEN) == key
    assert keyring.token_hash(TOKEN) == lookup
    assert keyring.session_sealing_key(OTHER_TOKEN) != key
    assert keyring.token_hash(OTHER_TOKEN) != lookup


def test_short_token_refused() -> None:
    with pytest.raises(ValueError):
        keyring.token_hash(bytes(16))
    with pytest.raises(ValueError):
        keyring.session_sealing_key(bytes(16))


def test_session_seal_round_trip() -> None:
    secret = generate_keypair().private
    blob = keyring.seal_for_session(secret, TOKEN, "user-private-key")
    assert keyring.open_for_session(blob, TOKEN, "user-private-key") == secret


def test_session_seal_bound_to_token_and_purpose() -> None:
    blob = keyring.seal_for_session(aead.new_key(), TOKEN, "case-key")
    with pytest.raises(DecryptionError):
        keyring.open_for_session(blob, OTHER_TOKEN, "case-key")
    with pytest.raises(DecryptionError):
        keyring.open_for_session(blob, TOKEN, "user-private-key")


def test_session_blob_does_not_open_with_token_hash() -> None:
    # What a database thief holds: the stored hash and the sealed blob.
    blob = keyring.seal_for_session(aead.new_key(), TOKEN, "case-key")
    stolen = keyring.token_hash(TOKEN)
    with pytest.raises(DecryptionError):
        aead.open_sealed(stolen, blob, b"")
    with pytest.raises(DecryptionError):
        keyring.open_for_session(blob, stolen, "case-key")


def test_unit_key_unwraps_for_the_right_member_only() -> None:
    unit, alice, bob = generate_keypair(), generate_keypair(), generate_keypair()
    blob = keyring.wrap_unit_key(unit.private, alice.public, "inspektorat", "alice")
    assert (
        keyring.unwrap_unit_key(blob, alice.private, "inspektorat", "alice")
        == unit.private
    )
    with pytest.raises(DecryptionError):
        keyring.unwrap_unit_key(blob, bob.private, "inspektorat", "alice")
    with pytest.raises(DecryptionError):
        keyring.unwrap_unit_key(blob, alice.private, "inspektorat", "bob")
    with pytest.raises(DecryptionError):
        keyring.unwrap_unit_key(blob, alice.private, "dinas-pu", "alice")


def test_unit_key_refuses_classical_or_malformed_keys() -> None:
    unit, alice = generate_keypair(), generate_keypair()
    with pytest.raises(ValueError):
        keyring.wrap_unit_key(unit.private, alice.public[-32:], "inspektorat", "a")
    with pytest.raises(ValueError):
        keyring.wrap_unit_key(unit.private[:32], alice.public, "inspektorat", "a")
    with pytest.raises(ValueError):
        keyring.wrap_unit_key(unit.private, alice.public, "unit/x", "a")
    blob = keyring.wrap_unit_key(unit.private, alice.public, "inspektorat", "a")
    with pytest.raises(DecryptionError):
        keyring.unwrap_unit_key(blob, alice.private[-32:], "inspektorat", "a")


def test_instance_secret_keys() -> None:
    totp = keyring.sealed_secret_for_instance(PEPPER, "totp")
    assert len(totp) == 32
    assert keyring.sealed_secret_for_instance(PEPPER, "totp") == totp
    assert keyring.sealed_secret_for_instance(PEPPER, "other") != totp
    assert keyring.sealed_secret_for_instance(secrets.token_bytes(32), "totp") != totp
    seed = b"JBSWY3DPEHPK3PXP"
    assert aead.open_sealed(totp, aead.seal(totp, seed, b"u"), b"u") == seed


def test_instance_secret_refuses_weak_input() -> None:
    with pytest.raises(ValueError):
        keyring.sealed_secret_for_instance(b"short", "totp")
    with pytest.raises(ValueError):
        keyring.sealed_secret_for_instance(PEPPER, "")
