"""Signed proof of submission (DESIGN §4a).

A receipt commits to the case number, the date of receipt and the SHA-256 of the sealed report,
signed with the instance's Ed25519 receipt key. It proves that the portal accepted this report on
that day, without naming the reporter, and lets anyone check later that the stored sealed report
was not swapped (its digest still matches).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date

from wbs.crypto import signing

PREFIX = "WBS1"
_DOMAIN = b"wbs/v1/receipt\x00"
MAX_RECEIPT_LENGTH = 2000


@dataclass(frozen=True)
class ReceiptCheck:
    valid: bool
    case_number: str | None = None
    received_on: date | None = None
    digest: bytes | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_receipt(private: bytes, case_number: str, received_on: date, digest: bytes) -> str:
    payload = json.dumps({"v": 1, "case": case_number, "on": received_on.isoformat(),
                          "digest": digest.hex()}, sort_keys=True, separators=(",", ":")).encode()
    signature = signing.sign(private, _DOMAIN + payload)
    return f"{PREFIX}.{_b64(payload)}.{_b64(signature)}"


def verify_receipt(public: bytes, text: str) -> ReceiptCheck:
    """Never raises: anything malformed, altered or forged is simply not valid."""
    compact = "".join(text.split())
    if len(compact) > MAX_RECEIPT_LENGTH:
        return ReceiptCheck(valid=False)
    parts = compact.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return ReceiptCheck(valid=False)
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
    except ValueError:
        return ReceiptCheck(valid=False)
    if not signing.verify(public, _DOMAIN + payload, signature):
        return ReceiptCheck(valid=False)
    try:
        data = json.loads(payload)
        return ReceiptCheck(valid=True, case_number=str(data["case"]),
                            received_on=date.fromisoformat(data["on"]),
                            digest=bytes.fromhex(data["digest"]))
    except (ValueError, KeyError, TypeError):
        return ReceiptCheck(valid=False)
