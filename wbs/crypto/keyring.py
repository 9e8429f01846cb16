"""User, unit, session and instance keys, built from aead and hpke."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wbs.crypto import aead, hpke
from wbs.crypto.encoding import labeled

# The database holds a fast hash of each session token, so the token's entropy is all
# that stops a database thief from guessing it; 256 random bits rule guessing out.
MIN_TOKEN_SIZE = 32
MIN_PEPPER_SIZE = 32
_SESSION_SEAL_INFO = b"wbs/v1/session-seal"
_TOKEN_HASH_DOMAIN = labeled("wbs/v1/session-token-hash")
_INSTANCE_SEAL_DOMAIN = "wbs/v1/instance-seal"


def _hkdf(ikm: bytes, info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=aead.KEY_SIZE, salt=None, info=info
    ).derive(ikm)


def _user_key_aad(username: str) -> bytes:
    return labeled("wbs/v1/user-private-key", username)


def seal_user_private_key(private: bytes, sealing_key: bytes, username: str) -> bytes:
    """Seal a user's HPKE private key under the key derived from their password.

    The username in the associated data stops one user's sealed key from being copied
    onto another account whose password the attacker knows.
    """
    return aead.seal(sealing_key, private, _user_key_aad(username))


def open_user_private_key(sealed: bytes, sealing_key: bytes, username: str) -> bytes:
    return aead.open_sealed(sealing_key, sealed, _user_key_aad(username))


def _check_token(token: bytes) -> None:
    if len(token) < MIN_TOKEN_SIZE:
        raise ValueError("session token too short")


def session_sealing_key(token: bytes) -> bytes:
    """Key that seals session secrets; derivable only from the token itself.

    ``token_hash`` and this key are two unrelated one-way functions of the token (HKDF
    under one label, SHA-256 under another domain), so the hash the database stores
    reveals nothing about this key: a database thief holds the lookup hash and the
    sealed blobs but cannot open them without the token, which lives only in the
    browser's cookie.
    """
    _check_token(token)
    return _hkdf(token, _SESSION_SEAL_INFO)


def token_hash(token: bytes) -> bytes:
    """What the database stores to find a session; see ``session_sealing_key``."""
    _check_token(token)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(_TOKEN_HASH_DOMAIN)
    digest.update(token)
    return digest.finalize()


def _session_aad(purpose: str) -> bytes:
    return labeled("wbs/v1/session-secret", purpose)


def seal_for_session(secret: bytes, token: bytes, purpose: str) -> bytes:
    """Seal ``secret`` (a user's private key, a reporter's case key) to one session.

    The purpose in the associated data keeps a blob sealed for one use from being
    accepted for another within the same session.
    """
    return aead.seal(session_sealing_key(token), secret, _session_aad(purpose))


def open_for_session(blob: bytes, token: bytes, purpose: str) -> bytes:
    return aead.open_sealed(session_sealing_key(token), blob, _session_aad(purpose))


def _unit_key_info(unit_slug: str, username: str) -> bytes:
    # The recipient names both the unit and the member, so a member's wrapped key for
    # one unit cannot be passed off as their key for another. Slugs cannot contain "/",
    # which keeps the joined string unambiguous whatever the username contains.
    if not unit_slug or "/" in unit_slug:
        raise ValueError("invalid unit slug")
    recipient = f"unit:{unit_slug}/user:{username}"
    return hpke.wrap_info(case_ref="-", purpose="unit-key", recipient=recipient)


def wrap_unit_key(
    unit_private: bytes, member_public: bytes, unit_slug: str, username: str
) -> bytes:
    # Only hybrid keys are accepted: the classical X25519 path in hpke exists for
    # interop tests, and a unit key wrapped with it would lose post-quantum protection.
    if len(member_public) != hpke.PUBLIC_KEY_SIZE:
        raise ValueError("member key is not an ML-KEM-768+X25519 public key")
    if len(unit_private) != hpke.PRIVATE_KEY_SIZE:
        raise ValueError("unit key is not an ML-KEM-768+X25519 private key")
    return hpke.wrap(member_public, unit_private, _unit_key_info(unit_slug, username))


def unwrap_unit_key(
    blob: bytes, member_private: bytes, unit_slug: str, username: str
) -> bytes:
    if len(member_private) != hpke.PRIVATE_KEY_SIZE:
        raise aead.DecryptionError("member key is not an ML-KEM-768+X25519 private key")
    return hpke.unwrap(member_private, blob, _unit_key_info(unit_slug, username))


def sealed_secret_for_instance(pepper: bytes, label: str) -> bytes:
    """Instance key for sealing small server-side secrets such as TOTP seeds.

    Each use passes its own label, so the keys are independent of each other and of the
    pepper's direct use in tracking-code lookups.
    """
    if len(pepper) < MIN_PEPPER_SIZE:
        raise ValueError("pepper too short")
    if not label:
        raise ValueError("label must not be empty")
    return _hkdf(pepper, labeled(_INSTANCE_SEAL_DOMAIN, label))
