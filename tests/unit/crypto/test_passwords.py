from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from argon2.low_level import Type, hash_secret_raw

from wbs.crypto import passwords
from wbs.crypto.passwords import (
    MAX_PASSWORD_LENGTH,
    PRODUCTION_PARAMS,
    TEST_PARAMS,
    Argon2Params,
    PasswordKDF,
    verify,
)

SALT = bytes(range(16))
OTHER_SALT = bytes(range(1, 17))


@pytest.fixture
def kdf() -> PasswordKDF:
    return PasswordKDF(TEST_PARAMS)


def test_production_params_follow_owasp() -> None:
    assert PRODUCTION_PARAMS.memory_kib == 65536
    assert PRODUCTION_PARAMS.time_cost == 3
    assert PRODUCTION_PARAMS.parallelism == 1
    assert PRODUCTION_PARAMS.encode() == "argon2id$m=65536,t=3,p=1"


def test_same_input_same_keys(kdf: PasswordKDF) -> None:
    first = kdf.derive("correct horse", SALT)
    second = kdf.derive("correct horse", SALT)
    assert first == second
    assert len(first.verifier) == 32 and len(first.sealing_key) == 32


def test_different_salt_or_password_different_keys(kdf: PasswordKDF) -> None:
    base = kdf.derive("correct horse", SALT)
    other_salt = kdf.derive("correct horse", OTHER_SALT)
    other_password = kdf.derive("correct horsf", SALT)
    for other in (other_salt, other_password):
        assert other.verifier != base.verifier
        assert other.sealing_key != base.sealing_key


def test_params_override_changes_keys(kdf: PasswordKDF) -> None:
    stronger = Argon2Params(memory_kib=16, time_cost=1, parallelism=1)
    assert kdf.derive("pw", SALT, stronger) != kdf.derive("pw", SALT)


def test_verifier_and_sealing_key_are_independent(kdf: PasswordKDF) -> None:
    keys = kdf.derive("correct horse", SALT)
    assert keys.verifier != keys.sealing_key


def test_verify(kdf: PasswordKDF) -> None:
    stored = kdf.derive("correct horse", SALT).verifier
    assert verify(stored, kdf.derive("correct horse", SALT))
    assert PasswordKDF.verify(stored, kdf.derive("correct horse", SALT))
    assert not verify(stored, kdf.derive("wrong horse", SALT))
    assert not verify(stored[:-1], kdf.derive("correct horse", SALT))


def test_unicode_is_nfkc_normalised(kdf: PasswordKDF) -> None:
    assert kdf.derive("caf\u00e9", SALT) == kdf.derive("cafe\u0301", SALT)
    assert kdf.derive("\ufb01le", SALT) == kdf.derive("file", SALT)


def test_keys_not_in_repr(kdf: PasswordKDF) -> None:
    keys = kdf.derive("pw", SALT)
    assert keys.verifier.hex() not in repr(keys)
    assert repr(keys.sealing_key) not in repr(keys)


def test_new_salt() -> None:
    assert len(PasswordKDF.new_salt()) == 16
    assert PasswordKDF.new_salt() != PasswordKDF.new_salt()


def test_bad_salt_refused(kdf: PasswordKDF) -> None:
    with pytest.raises(ValueError):
        kdf.derive("pw", b"short")


def _count_hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    real = hash_secret_raw

    def recording(**kwargs: Any) -> bytes:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(passwords, "hash_secret_raw", recording)
    return calls


def test_overlong_password_refused_before_hashing(
    kdf: PasswordKDF, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_hash_calls(monkeypatch)
    with pytest.raises(ValueError):
        kdf.derive("x" * (MAX_PASSWORD_LENGTH + 1), SALT)
    assert calls == []
    kdf.derive("x" * MAX_PASSWORD_LENGTH, SALT)
    assert len(calls) == 1


def test_one_argon2id_evaluation_per_derive(
    kdf: PasswordKDF, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_hash_calls(monkeypatch)
    kdf.derive("pw", SALT)
    assert len(calls) == 1
    assert calls[0]["type"] is Type.ID
    assert calls[0]["memory_cost"] == TEST_PARAMS.memory_kib
    assert calls[0]["hash_len"] == 32


def test_params_encode_decode_round_trip() -> None:
    for params in (PRODUCTION_PARAMS, TEST_PARAMS, Argon2Params(131072, 4, 2)):
        assert Argon2Params.decode(params.encode()) == params


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "argon2i$m=65536,t=3,p=1",
        "argon2id$m=65536,t=3",
        "argon2id$t=3,m=65536,p=1",
        "argon2id$m=65536,t=3,p=1 ",
        "argon2id$m=65536,t=3,p=1\n",
        " argon2id$m=65536,t=3,p=1",
        "argon2id$m=065536,t=3,p=1",
        "argon2id$m=0,t=3,p=1",
        "argon2id$m=-1,t=3,p=1",
        "argon2id$m=4,t=3,p=1",
        "argon2id$m=65536,t=0,p=1",
        "argon2id$m=99999999,t=3,p=1",
        "argon2id$m=65536,t=3,p=1,x=2",
        "argon2id$m=\u0666\u0665\u0665\u0663\u0666,t=3,p=1",
    ],
)
def test_params_decode_refuses_junk(junk: str) -> None:
    with pytest.raises(ValueError):
        Argon2Params.decode(junk)


def test_params_constructor_refuses_invalid() -> None:
    with pytest.raises(ValueError):
        Argon2Params(memory_kib=8, time_cost=1, parallelism=2)
    with pytest.raises(ValueError):
        Argon2Params(time_cost=0)


def test_semaphore_bounds_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    real = hash_secret_raw
    lock = threading.Lock()
    active = 0
    peak = 0

    def slow_hash(**kwargs: Any) -> bytes:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return real(**kwargs)

    monkeypatch.setattr(passwords, "hash_secret_raw", slow_hash)
    kdf = PasswordKDF(TEST_PARAMS, max_concurrent=2)
    threads = [
        threading.Thread(target=kdf.derive, args=(f"pw{i}", SALT)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Eight callers overlapped, yet never more than two hashes ran at once.
    assert peak == 2
