"""Cleaned evidence files held for a form that came back with an error (issue 9, item 6).

A reporter on a phone who forgot the title should not have to find and pick five photos again.
When the form is shown again with errors, the files it carried (already cleaned of metadata) are
sealed and stored under a one-time token that the form carries in a hidden field; the next post
of that form takes them back (and deletes them) and treats them as attached again. The seal's key
comes from the token and the browser's secret cookie (`receipt_hold`'s), so neither a database
copy nor a copied page opens them. Name, type and the moment they stop being usable
(`receipt_hold.HOLD_MINUTES`) are inside the seal; the row keeps a day only, and is dropped once
the next day has ended.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from wbs.cases.receipt_hold import HOLD_MINUTES, new_token
from wbs.context import Context
from wbs.crypto import aead, keyring
from wbs.files import CleanFile
from wbs.models import HeldUpload

_PURPOSE_META = "held-upload-meta"
_PURPOSE_DATA = "held-upload-data"

HeldFile = tuple[str, CleanFile]


def _lookup(ctx: Context, token: str) -> bytes:
    key = ctx.keys.derived("held-upload-lookup")
    return hmac.new(key, token.encode(), hashlib.sha256).digest()


def _key_token(secret: str, token: str, idx: int) -> bytes:
    # Per file: the index is part of the key, so files cannot be swapped between rows.
    return f"{secret}\x00{token}\x00{idx}".encode()


def purge(session: Session, ctx: Context) -> int:
    result = session.execute(delete(HeldUpload).where(HeldUpload.forget_on < ctx.today()))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_job(ctx: Context) -> int:
    with ctx.db.begin() as session:
        return purge(session, ctx)


def hold(ctx: Context, secret: str, files: Sequence[HeldFile]) -> str | None:
    """Seal and store `files`; return the one-time token naming them (None for no files)."""
    if not files:
        return None
    token = new_token()
    lookup = _lookup(ctx, token)
    until = (ctx.now() + timedelta(minutes=HOLD_MINUTES)).isoformat()
    with ctx.db.begin() as session:
        purge(session, ctx)
        for idx, (name, clean) in enumerate(files):
            meta = {"name": name, "type": clean.content_type, "stripped": clean.stripped,
                    "note": clean.note, "until": until}
            key_token = _key_token(secret, token, idx)
            session.add(HeldUpload(
                lookup=lookup, idx=idx, forget_on=ctx.today() + timedelta(days=1),
                meta_sealed=keyring.seal_for_session(json.dumps(meta).encode(), key_token,
                                                     _PURPOSE_META),
                data_sealed=keyring.seal_for_session(bytes(clean.data), key_token,
                                                     _PURPOSE_DATA)))
            session.flush()  # one file at a time leaves the session's memory
            session.expunge_all()
    return token


def held_size(ctx: Context, token: str) -> int:
    """The bytes the held files will take once opened (to count them before loading)."""
    with ctx.read() as session:
        total = session.scalar(select(func.sum(func.length(HeldUpload.data_sealed))).where(
            HeldUpload.lookup == _lookup(ctx, token)))
    return int(total or 0)


@dataclass(frozen=True)
class Taken:
    """What a form's token brought back. `lost`: the form said files were kept, but they are
    not (their time passed, the token was used, or it is not this browser's): the report must
    not go without them unnoticed. `names`: the lost files' names, when this browser may know."""

    files: list[HeldFile]
    lost: bool = False
    names: list[str] = field(default_factory=list)


def take(ctx: Context, secret: str, token: str) -> Taken:
    """Open and delete the held files: a token is good once. Only this browser's secret opens
    (and so uses up) them: a copied token neither opens nor destroys another reporter's files."""
    lookup = _lookup(ctx, token)
    files: list[HeldFile] = []
    names: list[str] = []
    expired = False
    with ctx.db.begin() as session:
        rows = session.scalars(select(HeldUpload).where(HeldUpload.lookup == lookup)
                               .order_by(HeldUpload.idx).with_for_update()).all()
        if not rows:
            return Taken([], lost=True)
        try:
            for row in rows:
                key_token = _key_token(secret, token, row.idx)
                meta = json.loads(keyring.open_for_session(row.meta_sealed, key_token,
                                                           _PURPOSE_META))
                names.append(str(meta["name"]))
                if datetime.fromisoformat(meta["until"]) < ctx.now():
                    expired = True
                    continue
                data = keyring.open_for_session(row.data_sealed, key_token, _PURPOSE_DATA)
                files.append((str(meta["name"]), CleanFile(
                    data=data, content_type=str(meta["type"]), stripped=bool(meta["stripped"]),
                    note=str(meta["note"]))))
        except (aead.DecryptionError, ValueError):
            return Taken([], lost=True)  # not this browser's: left for its owner
        session.execute(delete(HeldUpload).where(HeldUpload.lookup == lookup))
    if expired:
        return Taken([], lost=True, names=names)
    return Taken(files)
