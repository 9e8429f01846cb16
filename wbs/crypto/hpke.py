"""Key wrapping with HPKE (RFC 9180, base mode), ML-KEM-768+X25519 hybrid by default.

Whistleblower identities must stay secret for decades, so wrapped keys use a hybrid KEM:
a recorded ciphertext stays safe unless both ML-KEM-768 and X25519 are broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke as _hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wbs.crypto.aead import DecryptionError
from wbs.crypto.encoding import labeled

MLKEM_SEED_SIZE = 64
MLKEM_PUBLIC_SIZE = 1184
X25519_KEY_SIZE = 32
PRIVATE_KEY_SIZE = MLKEM_SEED_SIZE + X25519_KEY_SIZE
PUBLIC_KEY_SIZE = MLKEM_PUBLIC_SIZE + X25519_KEY_SIZE

HYBRID_SUITE = _hpke.Suite(
    _hpke.KEM.MLKEM768_X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.AES_256_GCM
)
# Classical DHKEM(X25519) exists only so tests can prove our wire format against an
# independent RFC 9180 implementation (pyhpke has no ML-KEM). generate_keypair never
# yields such keys, and keyring refuses them, so production wrapping cannot be
# downgraded through this path.
X25519_SUITE = _hpke.Suite(
    _hpke.KEM.X25519, _hpke.KDF.HKDF_SHA256, _hpke.AEAD.AES_256_GCM
)

_PublicKey = _hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey
_PrivateKey = _hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    private: bytes = field(repr=False)
    public: bytes


def generate_keypair() -> KeyPair:
    mlkem_key = mlkem.MLKEM768PrivateKey.generate()
    x_key = x25519.X25519PrivateKey.generate()
    # ML-KEM private keys are stored as the 64-byte seed of FIPS 203, from which the
    # expanded key is regenerated: the smallest form, and the one cryptography loads.
    return KeyPair(
        private=mlkem_key.private_bytes_raw() + x_key.private_bytes_raw(),
        public=mlkem_key.public_key().public_bytes_raw()
        + x_key.public_key().public_bytes_raw(),
    )


def keypair_from_secret(secret: bytes, label: str) -> KeyPair:
    """The hybrid key pair derived (HKDF-SHA256) from a 32-byte secret.

    For the organisational recovery key, which exists only as Shamir shares of this secret:
    shares of 32 bytes are 33 words each, shares of the 96-byte private key would be 97.
    """
    if len(secret) != 32:
        raise ValueError("the secret must be 32 bytes")
    material = HKDF(algorithm=SHA256(), length=PRIVATE_KEY_SIZE, salt=None,
                    info=labeled("wbs/v1/hpke-keypair-from-secret", label)).derive(secret)
    mlkem_key = mlkem.MLKEM768PrivateKey.from_seed_bytes(material[:MLKEM_SEED_SIZE])
    x_key = x25519.X25519PrivateKey.from_private_bytes(material[MLKEM_SEED_SIZE:])
    return KeyPair(private=material,
                   public=mlkem_key.public_key().public_bytes_raw()
                   + x_key.public_key().public_bytes_raw())


def public_of(private: bytes) -> bytes:
    """The public key of a hybrid private key (to check a recovered key is the right one)."""
    if len(private) != PRIVATE_KEY_SIZE:
        raise ValueError("not an ML-KEM-768+X25519 private key")
    return (mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:MLKEM_SEED_SIZE]).public_key()
            .public_bytes_raw()
            + x25519.X25519PrivateKey.from_private_bytes(private[MLKEM_SEED_SIZE:]).public_key()
            .public_bytes_raw())


def _load_public(public: bytes) -> tuple[_hpke.Suite, _PublicKey]:
    if len(public) == PUBLIC_KEY_SIZE:
        key = _hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(public[:MLKEM_PUBLIC_SIZE]),
            x25519.X25519PublicKey.from_public_bytes(public[MLKEM_PUBLIC_SIZE:]),
        )
        return HYBRID_SUITE, key
    if len(public) == X25519_KEY_SIZE:
        return X25519_SUITE, x25519.X25519PublicKey.from_public_bytes(public)
    raise ValueError("unsupported public key size")


def _load_private(private: bytes) -> tuple[_hpke.Suite, _PrivateKey]:
    if len(private) == PRIVATE_KEY_SIZE:
        key = _hpke.MLKEM768X25519PrivateKey(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(private[:MLKEM_SEED_SIZE]),
            x25519.X25519PrivateKey.from_private_bytes(private[MLKEM_SEED_SIZE:]),
        )
        return HYBRID_SUITE, key
    if len(private) == X25519_KEY_SIZE:
        return X25519_SUITE, x25519.X25519PrivateKey.from_private_bytes(private)
    raise ValueError("unsupported private key size")


def wrap(public: bytes, secret: bytes, info: bytes) -> bytes:
    """Encrypt ``secret`` to ``public``; the result is exactly RFC 9180's enc ‖ ct."""
    suite, key = _load_public(public)
    return suite.encrypt(secret, key, info=info)


def unwrap(private: bytes, blob: bytes, info: bytes) -> bytes:
    try:
        suite, key = _load_private(private)
        return suite.decrypt(blob, key, info=info)
    except (InvalidTag, ValueError):
        # One opaque error for bad keys, wrong info and tampering alike, so callers
        # cannot (and need not) tell which check failed.
        raise DecryptionError("key unwrap failed") from None


def wrap_info(case_ref: str, purpose: str, recipient: str) -> bytes:
    """HPKE info binding a wrapped key to its case, purpose and recipient.

    The info enters the HPKE key schedule, so a wrapped key copied to another case,
    relabelled (say, an identity key presented as a content key) or attributed to
    another recipient fails to unwrap.
    """
    return labeled("wbs/v1/hpke-wrap-info", case_ref, purpose, recipient)
