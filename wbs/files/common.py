"""What every format module shares: the result, the refusal, and the type sniffing.

The real type comes from the file's first bytes: the declared type and the filename are chosen by
the client and are never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

UNKNOWN_TYPE: Final = "application/octet-stream"


class UnsafeFile(Exception):
    """The file could not be processed safely; `reason` is a fixed key, safe to log or show.

    Reasons: `image_too_large`, `unreadable_image`, `strip_failed`, `encrypted_pdf`,
    `unreadable_pdf`, `pdf_too_many_pages`, `unreadable_archive`, `archive_*`, and, from the
    sandbox, `file_too_complex` (the worker hit its memory or time limit).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanFile:
    """A file ready to be sealed. `data` may be a bytearray: a file nobody could clean is handed
    on in the buffer it arrived in, rather than copied once more."""

    data: bytes | bytearray = field(repr=False)
    content_type: str
    stripped: bool
    note: str


def sniff(data: bytes | bytearray | memoryview) -> str | None:
    head = bytes(data[:1024])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    # PDF readers accept the header anywhere in the first kilobyte, so we must too: otherwise a
    # PDF with a short prefix would pass through unstripped yet open fine for the investigator.
    if b"%PDF-" in head:
        return "pdf"
    return None


# Kinds whose cleaning parses the file: only these go to a sandboxed worker. Anything else is
# handed on unchanged (and the reporter is warned), which needs no parsing at all.
PARSED_KINDS: Final = frozenset({"jpeg", "png", "gif", "webp", "zip", "pdf"})
