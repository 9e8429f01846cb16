"""Receipts held briefly for the browser that sent the report (issue 9, blocker 2).

The receipt page is reached by a redirect after the report is stored (Post/Redirect/Get), so a
reload, Back or a language switch asks for the receipt again instead of sending the report
again. What it shows comes from here: the receipt with the code, sealed under a key derived from
two random values, the form's one-time nonce and a secret that lives only in the reporter's
cookie. The database holds a keyed hash of the nonce, the sealed blob and a day: a copy of it
opens nothing, places nobody within the day (the moment the receipt stops being shown is inside
the seal, never in clear), and any worker can serve the page. After `HOLD_MINUTES` the receipt
is no longer shown, and the row is dropped once the next day has ended; until then a form sent
again is still recognised (and refused as a duplicate) even after the code is gone.

The same store serves the API's Idempotency-Key, with the key itself as the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from wbs.context import Context
from wbs.crypto import aead, keyring
from wbs.models import ReceiptHold

HOLD_MINUTES = 30
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_PURPOSE = "receipt-hold"


@dataclass(frozen=True)
class HeldReceipt:
    case_number: str
    code: str = field(repr=False)
    receipt: str
    received_on: str
    first_response_on: str
    identity_given: bool = False
    # The API's: a digest of the request the key was first used with (a reused key is refused).
    request_digest: str = ""


@dataclass(frozen=True)
class Found:
    """What a nonce finds: nothing (a new report), or a report already sent, and its receipt if
    this browser may still see it."""

    sent: bool
    receipt: HeldReceipt | None = None


def new_token() -> str:
    """A nonce for a form, or the browser's secret: 256 random bits."""
    return secrets.token_urlsafe(32)


def valid_token(value: str | None) -> bool:
    return bool(value) and _TOKEN.fullmatch(value or "") is not None


def _lookup(ctx: Context, scope: str, nonce: str) -> bytes:
    key = ctx.keys.derived("receipt-hold-lookup")
    return hmac.new(key, f"{scope}\x00{nonce}".encode(), hashlib.sha256).digest()


def _token(secret: str, nonce: str) -> bytes:
    # Both values are random and at least 32 characters, so the joined token is well above
    # keyring.MIN_TOKEN_SIZE; the separator keeps the pair unambiguous.
    return f"{secret}\x00{nonce}".encode()


def purge(session: Session, ctx: Context) -> int:
    """Drop the rows of days that have ended (`wbs jobs run`, and before every new hold)."""
    result = session.execute(delete(ReceiptHold).where(ReceiptHold.forget_on < ctx.today()))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_job(ctx: Context) -> int:
    with ctx.db.begin() as session:
        return purge(session, ctx)


def hold(session: Session, ctx: Context, scope: str, nonce: str, secret: str,
         receipt: HeldReceipt) -> None:
    """Keep `receipt` for the holder of `secret`; in the caller's transaction, so the report and
    its hold are stored together, and the primary key makes a second report under the same nonce
    fail as a whole (a race of two identical posts files one case)."""
    purge(session, ctx)
    until = ctx.now() + timedelta(minutes=HOLD_MINUTES)
    document = {"receipt": asdict(receipt), "until": until.isoformat()}
    blob = keyring.seal_for_session(json.dumps(document).encode(), _token(secret, nonce),
                                    _PURPOSE)
    session.add(ReceiptHold(lookup=_lookup(ctx, scope, nonce), sealed=blob,
                            # Tomorrow: a form sent again just after midnight is still known.
                            forget_on=ctx.today() + timedelta(days=1)))
    session.flush()


def find(ctx: Context, scope: str, nonce: str, secret: str | None) -> Found:
    with ctx.read() as session:
        row = session.get(ReceiptHold, _lookup(ctx, scope, nonce))
        if row is None or row.forget_on < ctx.today():
            return Found(sent=False)
        if row.sealed is None or secret is None:
            return Found(sent=True)
        try:
            document = json.loads(keyring.open_for_session(row.sealed, _token(secret, nonce),
                                                           _PURPOSE))
        except (aead.DecryptionError, ValueError):
            return Found(sent=True)
    if datetime.fromisoformat(document["until"]) < ctx.now():
        return Found(sent=True)
    return Found(sent=True, receipt=HeldReceipt(**document["receipt"]))


def forget(ctx: Context, scope: str, nonce: str, secret: str) -> bool:
    """The reporter is done with the receipt: wipe it now (the row stays until tomorrow).

    Only for the browser that can open it: the nonce alone (a cached form page on a shared
    computer) must not let a stranger wipe a receipt before its reporter has copied the code.
    """
    lookup = _lookup(ctx, scope, nonce)
    with ctx.db.begin() as session:
        row = session.get(ReceiptHold, lookup, with_for_update=True)
        if row is None or row.sealed is None:
            return False
        try:
            keyring.open_for_session(row.sealed, _token(secret, nonce), _PURPOSE)
        except (aead.DecryptionError, ValueError):
            return False
        session.execute(update(ReceiptHold).where(ReceiptHold.lookup == lookup)
                        .values(sealed=None))
    return True
