"""Evidence files: sealed in fixed-size chunks under the case key, stored in the database.

The stored name is the row id; the original file name and type are sealed with the content.
Chunks carry their index and a last-chunk flag in the associated data, so a truncated or
reordered file fails to open rather than opening short.

Storing streams: chunks are sealed a few at a time and inserted as plain rows (no ORM objects
kept in the session), so a 25 MB file costs the server its plaintext and about one megabyte
more, not a second and third copy held until the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from wbs.cases import sealing
from wbs.crypto import aead
from wbs.files import CleanFile, safe_download_name
from wbs.models import Attachment, AttachmentChunk, Case


@dataclass(frozen=True)
class AttachmentMeta:
    id: int
    name: str
    content_type: str
    size: int
    stripped: bool
    uploader: str
    created_on: date
    message_id: int | None = None  # the message (a staff answer) the file was sent with


def _prefix(case: Case, attachment_id: int) -> bytes:
    return aead.field_aad(sealing.case_ref(case), f"attachment:{attachment_id}")


def store(session: Session, case: Case, keys: sealing.EpochKeys, filename: str,
          clean: CleanFile, *, uploader: str, today: date, message_id: int | None = None) -> int:
    key = sealing.current(keys, case)
    row = Attachment(case_id=case.id, message_id=message_id, uploader_kind=uploader,
                     meta_sealed=b"", chunk_count=0, created_on=today, key_epoch=case.key_epoch)
    session.add(row)
    session.flush()
    row.meta_sealed = sealing.seal_json(key, case, f"attachment-meta:{row.id}", {
        "name": safe_download_name(filename), "type": clean.content_type,
        "size": len(clean.data), "stripped": clean.stripped})
    sealer = aead.ChunkedSealer(key, _prefix(case, row.id))
    count = 0
    view = memoryview(clean.data)
    for start in range(0, max(len(view), 1), _STORE_BATCH):
        blobs = sealer.write(bytes(view[start:start + _STORE_BATCH]))
        if start + _STORE_BATCH >= len(view):
            blobs += sealer.finish()
        if blobs:
            session.execute(insert(AttachmentChunk), [
                {"attachment_id": row.id, "idx": count + i, "blob": blob}
                for i, blob in enumerate(blobs)])
            count += len(blobs)
    row.chunk_count = count
    return row.id


# Plaintext bytes sealed and inserted per statement: 16 chunks of 64 KiB.
_STORE_BATCH = 16 * aead.CHUNK_SIZE


def _meta(case: Case, key: bytes, row: Attachment) -> AttachmentMeta:
    meta = sealing.open_json(key, case, f"attachment-meta:{row.id}", row.meta_sealed)
    return AttachmentMeta(id=row.id, name=meta["name"], content_type=meta["type"],
                          size=meta["size"], stripped=meta["stripped"],
                          uploader=row.uploader_kind, created_on=row.created_on,
                          message_id=row.message_id)


def ids_of(session: Session, case: Case) -> list[int]:
    return list(session.scalars(select(Attachment.id).where(Attachment.case_id == case.id)
                                .order_by(Attachment.id)))


def list_meta(session: Session, case: Case, keys: sealing.EpochKeys) -> list[AttachmentMeta]:
    """The files the reader can open: one sealed under an epoch the reader lacks is left out."""
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                           .order_by(Attachment.id))
    return [_meta(case, keys[row.key_epoch], row) for row in rows if row.key_epoch in keys]


def open_file(session: Session, case: Case, keys: sealing.EpochKeys,
              attachment_id: int) -> tuple[AttachmentMeta, Iterator[bytes]] | None:
    """The file's metadata and a plaintext chunk iterator; None if not part of this case or
    sealed under an epoch the reader lacks (the same answer: nothing to open)."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.case_id != case.id or row.key_epoch not in keys:
        return None
    key = keys[row.key_epoch]
    blobs = list(session.scalars(select(AttachmentChunk.blob).where(
        AttachmentChunk.attachment_id == row.id).order_by(AttachmentChunk.idx)))
    return _meta(case, key, row), aead.open_chunks(key, _prefix(case, row.id), blobs)
