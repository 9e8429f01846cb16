from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, OpenError

from wbs.crypto.aead import DecryptionError
from wbs.crypto.hpke import (
    PRIVATE_KEY_SIZE,
    PUBLIC_KEY_SIZE,
    generate_keypair,
    unwrap,
    wrap,
    wrap_info,
)

SECRET = bytes(range(32))
INFO = wrap_info("WBS-2025-0001", "content", "unit:inspektorat")
HYBRID_ENC_SIZE = 1120
X25519_ENC_SIZE = 32
TAG_SIZE = 16


def test_key_sizes() -> None:
    pair = generate_keypair()
    assert PRIVATE_KEY_SIZE == 64 + 32 and PUBLIC_KEY_SIZE == 1184 + 32
    assert len(pair.private) == PRIVATE_KEY_SIZE
    assert len(pair.public) == PUBLIC_KEY_SIZE
    assert generate_keypair().public != pair.public


def test_private_key_not_in_repr() -> None:
    pair = generate_keypair()
    assert "private" not in repr(pair)
    assert repr(pair.private) not in repr(pair)


def test_hybrid_round_trip() -> None:
    pair = generate_keypair()
    blob = wrap(pair.public, SECRET, INFO)
    assert len(blob) == HYBRID_ENC_SIZE + len(SECRET) + TAG_SIZE
    assert unwrap(pair.private, blob, INFO) == SECRET


@pytest.mark.parametrize(
    "other_info",
    [
        wrap_info("WBS-2025-0002", "content", "unit:inspektorat"),
        wrap_info("WBS-2025-0001", "identity", "unit:inspektorat"),
        wrap_info("WBS-2025-0001", "content", "user:alice"),
        b"",
    ],
)
def test_wrong_info_fails(other_info: bytes) -> None:
    pair = generate_keypair()
    blob = wrap(pair.public, SECRET, INFO)
    with pytest.raises(DecryptionError):
        unwrap(pair.private, blob, other_info)


def test_wrap_info_is_unambiguous() -> None:
    assert wrap_info("a", "bc", "d") != wrap_info("ab", "c", "d")
    assert wrap_info("a", "b", "c:d") != wrap_info("a", "b:c", "d")


def test_wrong_key_fails() -> None:
    blob = wrap(generate_keypair().public, SECRET, INFO)
    with pytest.raises(DecryptionError):
        unwrap(generate_keypair().private, blob, INFO)


def test_malformed_private_key_or_blob_fails() -> None:
    pair = generate_keypair()
    blob = wrap(pair.public, SECRET, INFO)
    with pytest.raises(DecryptionError):
        unwrap(pair.private[:-1], blob, INFO)
    flipped = blob[:100] + bytes([blob[100] ^ 1]) + blob[101:]
    for bad in (b"", blob[:HYBRID_ENC_SIZE], blob[:-1], flipped):
        with pytest.raises(DecryptionError):
            unwrap(pair.private, bad, INFO)


def test_unsupported_public_key_size_refused() -> None:
    with pytest.raises(ValueError):
        wrap(bytes(33), SECRET, INFO)


def _pyhpke_suite() -> CipherSuite:
    return CipherSuite.new(
        KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM
    )


def _x25519_pair() -> tuple[bytes, bytes]:
    key = x25519.X25519PrivateKey.generate()
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def test_pyhpke_wrapped_secret_unwraps_here() -> None:
    private, public = _x25519_pair()
    suite = _pyhpke_suite()
    enc, sender = suite.create_sender_context(
        suite.kem.deserialize_public_key(public), info=INFO
    )
    ciphertext = sender.seal(SECRET)
    assert unwrap(private, enc + ciphertext, INFO) == SECRET
    with pytest.raises(DecryptionError):
        unwrap(private, enc + ciphertext, b"other info")


def test_secret_wrapped_here_opens_with_pyhpke() -> None:
    private, public = _x25519_pair()
    blob = wrap(public, SECRET, INFO)
    assert len(blob) == X25519_ENC_SIZE + len(SECRET) + TAG_SIZE
    enc, ciphertext = blob[:X25519_ENC_SIZE], blob[X25519_ENC_SIZE:]
    # The blob opens with the 32-byte ephemeral public key (enc), not a private header.
    x25519.X25519PublicKey.from_public_bytes(enc)
    assert enc != public
    suite = _pyhpke_suite()
    recipient_key = suite.kem.deserialize_private_key(private)
    recipient = suite.create_recipient_context(enc, recipient_key, info=INFO)
    assert recipient.open(ciphertext) == SECRET
    wrong = suite.create_recipient_context(enc, recipient_key, info=b"other info")
    with pytest.raises(OpenError):
        wrong.open(ciphertext)
