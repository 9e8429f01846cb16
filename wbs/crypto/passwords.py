"""Staff passwords: one argon2id evaluation per sign-in, split by HKDF in two."""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT_SIZE = 16
HASH_SIZE = 32
KEY_SIZE = 32
MAX_PASSWORD_LENGTH = 1024

# Upper bounds keep a tampered or mistyped parameter string in the database from turning
# one sign-in into a multi-gigabyte or minute-long computation.
_MAX_MEMORY_KIB = 1024 * 1024
_MAX_TIME_COST = 64
_MAX_PARALLELISM = 16
_PARAMS_RE = re.compile(
    r"argon2id\$m=([1-9][0-9]{0,7}),t=([1-9][0-9]{0,2}),p=([1-9][0-9]?)"
)

_VERIFIER_INFO = b"wbs/v1/password/verifier"
_SEALING_KEY_INFO = b"wbs/v1/password/sealing-key"


@dataclass(frozen=True)
class Argon2Params:
    # OWASP ASVS appendix C: argon2id with 64 MiB, 3 passes, 1 lane.
    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.parallelism <= _MAX_PARALLELISM:
            raise ValueError("parallelism out of range")
        if not 8 * self.parallelism <= self.memory_kib <= _MAX_MEMORY_KIB:
            raise ValueError("memory_kib out of range")
        if not 1 <= self.time_cost <= _MAX_TIME_COST:
            raise ValueError("time_cost out of range")

    def encode(self) -> str:
        return f"argon2id$m={self.memory_kib},t={self.time_cost},p={self.parallelism}"

    @classmethod
    def decode(cls, s: str) -> Argon2Params:
        match = _PARAMS_RE.fullmatch(s)
        if match is None:
            raise ValueError("malformed argon2 parameters")
        memory, time_cost, parallelism = (int(group) for group in match.groups())
        return cls(memory_kib=memory, time_cost=time_cost, parallelism=parallelism)


PRODUCTION_PARAMS = Argon2Params()
# Only for tests: these parameters give no protection against offline guessing.
TEST_PARAMS = Argon2Params(memory_kib=8, time_cost=1, parallelism=1)


@dataclass(frozen=True)
class DerivedKeys:
    verifier: bytes = field(repr=False)
    sealing_key: bytes = field(repr=False)


def _expand(master: bytes, info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info
    ).derive(master)


def _password_bytes(password: str) -> bytes:
    # The length check comes before normalisation so an oversized input costs nothing.
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError("password too long")
    # NFKC makes one password typed on different keyboards or input methods hash alike.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


class PasswordKDF:
    def __init__(self, params: Argon2Params, max_concurrent: int = 2) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be positive")
        self.params = params
        # Each evaluation holds memory_kib of RAM; bounding how many run at once bounds
        # the memory a login flood can claim, even one that gets past the throttle.
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def derive(
        self, password: str, salt: bytes, params: Argon2Params | None = None
    ) -> DerivedKeys:
        """Run argon2id once and split it into the stored verifier and the sealing key.

        HKDF with distinct labels makes the two outputs independent: the verifier sits
        in the database, and knowing it must not reveal the key that unseals the user's
        private key.
        """
        if len(salt) != SALT_SIZE:
            raise ValueError("salt must be 16 bytes")
        secret = _password_bytes(password)
        chosen = self.params if params is None else params
        with self._slots:
            master = hash_secret_raw(
                secret=secret,
                salt=salt,
                time_cost=chosen.time_cost,
                memory_cost=chosen.memory_kib,
                parallelism=chosen.parallelism,
                hash_len=HASH_SIZE,
                type=Type.ID,
            )
        return DerivedKeys(
            verifier=_expand(master, _VERIFIER_INFO),
            sealing_key=_expand(master, _SEALING_KEY_INFO),
        )

    @staticmethod
    def new_salt() -> bytes:
        return secrets.token_bytes(SALT_SIZE)

    @staticmethod
    def verify(expected_verifier: bytes, derived: DerivedKeys) -> bool:
        # Constant time: timing must not reveal how many leading bytes matched.
        return hmac.compare_digest(expected_verifier, derived.verifier)


verify = PasswordKDF.verify
