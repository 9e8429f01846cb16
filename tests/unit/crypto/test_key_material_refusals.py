"""Key material of the wrong shape is refused where it enters, before any cryptography runs:
chunked sealing keys, recovery secrets, hybrid private keys, stored Argon2 parameters."""

from __future__ import annotations

import pytest

from wbs.crypto import aead, hpke
from wbs.crypto.passwords import Argon2Params, PasswordKDF


def test_chunked_sealing_refuses_a_short_key_or_an_empty_chunk() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        aead.ChunkedSealer(b"\x01" * 16, b"prefix")
    with pytest.raises(ValueError, match="positive"):
        aead.ChunkedSealer(aead.new_key(), b"prefix", chunk_size=0)


def test_the_recovery_key_pair_is_a_function_of_secret_and_label() -> None:
    secret = bytes(range(32))
    pair = hpke.keypair_from_secret(secret, "recovery")
    assert pair == hpke.keypair_from_secret(secret, "recovery")
    assert pair.public != hpke.keypair_from_secret(secret, "another label").public
    assert pair.public != hpke.keypair_from_secret(bytes(32), "recovery").public
    assert hpke.public_of(pair.private) == pair.public
    # It is a working key pair, not only a deterministic one.
    wrapped = hpke.wrap(pair.public, b"k" * 32, b"info")
    assert hpke.unwrap(pair.private, wrapped, b"info") == b"k" * 32
    for wrong in (b"", bytes(31), bytes(33), bytes(96)):
        with pytest.raises(ValueError, match="32 bytes"):
            hpke.keypair_from_secret(wrong, "recovery")


def test_the_public_key_of_a_malformed_private_key_is_refused() -> None:
    pair = hpke.generate_keypair()
    assert hpke.public_of(pair.private) == pair.public
    for wrong in (pair.private[:-1], pair.private + b"\0", b""):
        with pytest.raises(ValueError, match="ML-KEM-768"):
            hpke.public_of(wrong)


@pytest.mark.parametrize("stored", [
    "argon2id$m=4194304,t=3,p=1",  # 4 GiB per guess: a tampered row must not exhaust memory
    "argon2id$m=4,t=3,p=1",  # below 8 KiB per lane
    "argon2id$m=65536,t=0,p=1",
    "argon2id$m=65536,t=65,p=1",
    "argon2id$m=65536,t=3,p=0",
    "argon2id$m=65536,t=3,p=17",
    "argon2i$m=65536,t=3,p=1",
    "argon2id$m=65536,t=3",
])
def test_stored_argon2_parameters_out_of_range_are_refused(stored: str) -> None:
    with pytest.raises(ValueError):
        Argon2Params.decode(stored)


def test_stored_argon2_parameters_round_trip() -> None:
    params = Argon2Params(memory_kib=19456, time_cost=2, parallelism=1)
    assert Argon2Params.decode(params.encode()) == params


def test_a_kdf_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="positive"):
        PasswordKDF(Argon2Params(), max_concurrent=0)
