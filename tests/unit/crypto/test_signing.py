from __future__ import annotations

from typing import Any, cast

import pytest

from wbs.crypto.signing import generate_signing_key, public_key_of, sign, verify

MESSAGE = b"audit row 42: case WBS-2025-0001 identity disclosed to user:alice"

# RFC 8032 section 7.1, test 1.
RFC_PRIVATE = bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
)
RFC_PUBLIC = bytes.fromhex(
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)
RFC_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8032_vector() -> None:
    assert public_key_of(RFC_PRIVATE) == RFC_PUBLIC
    assert sign(RFC_PRIVATE, b"") == RFC_SIGNATURE
    assert verify(RFC_PUBLIC, b"", RFC_SIGNATURE)


def test_sign_and_verify() -> None:
    private = generate_signing_key()
    assert len(private) == 32 and generate_signing_key() != private
    public = public_key_of(private)
    signature = sign(private, MESSAGE)
    assert len(signature) == 64
    assert verify(public, MESSAGE, signature)


def test_altered_message_or_signature_fails() -> None:
    private = generate_signing_key()
    public = public_key_of(private)
    signature = sign(private, MESSAGE)
    assert not verify(public, MESSAGE + b"!", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify(public, MESSAGE, flipped)
    assert not verify(public_key_of(generate_signing_key()), MESSAGE, signature)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (b"", RFC_SIGNATURE),
        (b"\x00" * 31, RFC_SIGNATURE),
        (RFC_PUBLIC, b""),
        (RFC_PUBLIC, b"\xff" * 63),
        (RFC_PUBLIC, b"\xff" * 65),
        (b"\xff" * 32, b"\xff" * 64),
        (cast(Any, None), RFC_SIGNATURE),
        (RFC_PUBLIC, cast(Any, "not bytes")),
    ],
)
def test_garbage_returns_false(public: bytes, signature: bytes) -> None:
    assert verify(public, b"", signature) is False
