"""Unambiguous byte encodings for associated data, HPKE info and KDF labels."""

from __future__ import annotations

_LENGTH_BYTES = 4


def labeled(domain: str, *parts: str | bytes) -> bytes:
    """Encode a domain label and parts, each prefixed with its 4-byte length.

    Length prefixes make the encoding injective: ("ab", "c") and ("a", "bc") can never
    collide, which plain concatenation or a separator character would allow once
    user-chosen strings (usernames, case references) are involved. The domain label,
    which carries the format version (``wbs/v1/...``), keeps encodings made for one
    purpose from being valid for another.
    """
    out = bytearray()
    for part in (domain, *parts):
        raw = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        out += len(raw).to_bytes(_LENGTH_BYTES, "big")
        out += raw
    return bytes(out)
