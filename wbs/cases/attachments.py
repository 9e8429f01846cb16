"""Evidence files: sealed in fixed-size chunks under the case key, stored in the database.

The stored name is the row id; the original file name and type are sealed with the content.
Chunks carry their index and a last-chunk flag in the associated data, so a truncated or
reordered file fails to open rather than opening short.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs.cases import sealing
from wbs.cases.sanitize import CleanFile, safe_download_name
from wbs.crypto import aead
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


def _prefix(case: Case, attachment_id: int) -> bytes:
    return aead.field_aad(sealing.case_ref(case), f"attachment:{attachment_id}")


def store(session: Session, case: Case, key: bytes, filename: str, clean: CleanFile, *,
          uploader: str, today: date, message_id: int | None = None) -> int:
    row = Attachment(case_id=case.id, message_id=message_id, uploader_kind=uploader,
                     meta_sealed=b"", chunk_count=0, created_on=today)
    session.add(row)
    session.flush()
    row.meta_sealed = sealing.seal_json(key, case, f"attachment-meta:{row.id}", {
        "name": safe_download_name(filename), "type": clean.content_type,
        "size": len(clean.data), "stripped": clean.stripped})
    sealer = aead.ChunkedSealer(key, _prefix(case, row.id))
    blobs = sealer.write(clean.data) + sealer.finish()
    for index, blob in enumerate(blobs):
        session.add(AttachmentChunk(attachment_id=row.id, idx=index, blob=blob))
    row.chunk_count = len(blobs)
    return row.id


def _meta(case: Case, key: bytes, row: Attachment) -> AttachmentMeta:
    meta = sealing.open_json(key, case, f"attachment-meta:{row.id}", row.meta_sealed)
    return AttachmentMeta(id=row.id, name=meta["name"], content_type=meta["type"],
                          size=meta["size"], stripped=meta["stripped"],
                          uploader=row.uploader_kind, created_on=row.created_on)


def ids_of(session: Session, case: Case) -> list[int]:
    return list(session.scalars(select(Attachment.id).where(Attachment.case_id == case.id)
                                .order_by(Attachment.id)))


def list_meta(session: Session, case: Case, key: bytes) -> list[AttachmentMeta]:
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                           .order_by(Attachment.id))
    return [_meta(case, key, row) for row in rows]


def open_file(session: Session, case: Case, key: bytes,
              attachment_id: int) -> tuple[AttachmentMeta, Iterator[bytes]] | None:
    """The file's metadata and a plaintext chunk iterator; None if not part of this case."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.case_id != case.id:
        return None
    blobs = list(session.scalars(select(AttachmentChunk.blob).where(
        AttachmentChunk.attachment_id == row.id).order_by(AttachmentChunk.idx)))
    return _meta(case, key, row), aead.open_chunks(key, _prefix(case, row.id), blobs)
