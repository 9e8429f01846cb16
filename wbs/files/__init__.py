"""Cleaning of reporters' evidence before it is sealed (DESIGN §1, §2, §3).

A phone photo carries GPS coordinates and the phone's model; an office document carries its
author, company and editing times. Any of them can name a whistleblower, so every file is
rewritten before it is sealed, by one module per format:

- `images`: JPEG, PNG, GIF, WebP re-encoded from pixels alone;
- `pdf`: rebuilt page by page without document info, XMP, scripts, actions or embedded files;
- `office`: OOXML and ODF archives with blank properties, after zip-bomb checks;
- anything else is returned unchanged with `stripped=False` and note `unknown_type`, so the
  interface can warn the reporter.

Parsing hostile files is the riskiest thing the portal does, so the server never does it itself:
`sandbox` runs `strip_metadata` in a fresh worker process per file, under a hard memory limit
and a CPU-time limit, a few at a time. A file that blows a limit costs one worker, never the
server. This package knows nothing of cases; `wbs.cases` and `wbs.web` call it.
"""

from __future__ import annotations

import logging

from wbs.files.common import PARSED_KINDS, UNKNOWN_TYPE, CleanFile, UnsafeFile, sniff
from wbs.files.names import safe_download_name

# Pillow logs every EXIF tag it parses, values included, at DEBUG level: an operator who turns
# on debug logging would write a photo's GPS position and author into the logs. pypdf's warnings
# quote pieces of the file they parse. Both are pinned here, in every process that imports this
# package (the server included, which may touch images elsewhere), whatever the root logging
# configuration says.
for _name in ("PIL", "PIL.TiffImagePlugin", "PIL.PngImagePlugin", "PIL.Image"):
    logging.getLogger(_name).setLevel(logging.WARNING)
_pypdf_log = logging.getLogger("pypdf")
_pypdf_log.setLevel(logging.CRITICAL)
_pypdf_log.propagate = False

__all__ = ["PARSED_KINDS", "UNKNOWN_TYPE", "CleanFile", "UnsafeFile", "safe_download_name",
           "sniff", "strip_metadata"]


def strip_metadata(data: bytes, filename: str, declared_type: str) -> CleanFile:
    """Return `data` without identifying metadata, or unchanged if its type is not handled.

    Runs the parsers in the calling process: the server calls it only through `sandbox`.
    `filename` and `declared_type` are accepted so callers pass what they have, but they are
    deliberately not used: the type is sniffed from the content.
    """
    kind = sniff(data)
    if kind is None:
        return CleanFile(data, UNKNOWN_TYPE, stripped=False, note="unknown_type")
    # Imported here so that a process which only sniffs and seals never loads the parsers.
    from wbs.files.images import IMAGE_KINDS, strip_image

    if kind in IMAGE_KINDS:
        return strip_image(data, kind, transpose=True)
    if kind == "pdf":
        from wbs.files.pdf import strip_pdf

        return strip_pdf(data)
    from wbs.files.office import strip_zip

    return strip_zip(data)
