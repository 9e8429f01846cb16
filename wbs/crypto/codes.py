"""Reporter tracking codes: 24 Crockford base-32 characters, 120 random bits.

With 120 bits a fast keyed hash suffices (OWASP ASVS accepts one above 112 bits); a
memory-hard KDF would add no real protection and would make every anonymous request a
denial-of-service lever.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 24
GROUP_SIZE = 4
MAX_INPUT_LENGTH = 64
CASE_SALT_SIZE = 16
MIN_PEPPER_SIZE = 32
REPORTER_KEY_SIZE = 32
_REPORTER_KEY_INFO = b"wbs/v1/reporter-wrap-key"

# Crockford decoding: case-insensitive, and the letters people confuse with digits (O,
# I, L) read as those digits, so a code copied by hand from paper still works. U is
# excluded from the alphabet and, like any other character, is refused.
_DECODE = {c: c for c in ALPHABET} | {c.lower(): c for c in ALPHABET if c.isalpha()}
_DECODE |= {"O": "0", "o": "0", "I": "1", "i": "1", "L": "1", "l": "1"}
_IGNORED = frozenset(" -")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def _canonical_chars(raw: str) -> str | None:
    out: list[str] = []
    for char in raw:
        if char in _IGNORED:
            continue
        mapped = _DECODE.get(char)
        if mapped is None:
            return None
        out.append(mapped)
    code = "".join(out)
    return code if len(code) == CODE_LENGTH else None


def normalize_code(raw: str) -> str | None:
    """Return the canonical code, or None if ``raw`` cannot be one."""
    # Refuse oversized input before any other work, so an anonymous request cannot make
    # the server walk megabytes of text (the limit leaves room for dashes and spaces).
    if len(raw) > MAX_INPUT_LENGTH:
        return None
    return _canonical_chars(raw)


def _require_code(code: str) -> str:
    canonical = normalize_code(code)
    if canonical is None:
        raise ValueError("malformed tracking code")
    return canonical


def format_code(code: str) -> str:
    canonical = _require_code(code)
    groups = (canonical[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))
    return "-".join(groups)


def lookup_hash(pepper: bytes, code: str) -> bytes:
    """Keyed hash under which a case is found.

    Without the pepper, a stolen database cannot be searched for a known code.
    """
    if len(pepper) < MIN_PEPPER_SIZE:
        raise ValueError("pepper too short")
    canonical = _require_code(code)
    mac = hmac.HMAC(pepper, hashes.SHA256())
    mac.update(canonical.encode("ascii"))
    return mac.finalize()


def reporter_key(code: str, salt: bytes) -> bytes:
    """Key that wraps the case keys for the reporter.

    The per-case salt keeps it unrelated to the lookup hash and to the key of any other
    case.
    """
    if len(salt) < CASE_SALT_SIZE:
        raise ValueError("case salt too short")
    canonical = _require_code(code)
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=REPORTER_KEY_SIZE,
        salt=salt,
        info=_REPORTER_KEY_INFO,
    )
    return hkdf.derive(canonical.encode("ascii"))


def new_case_salt() -> bytes:
    return secrets.token_bytes(CASE_SALT_SIZE)
