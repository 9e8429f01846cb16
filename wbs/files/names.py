"""Filenames offered back to staff and reporters when they download an attachment."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_MAX_NAME: Final = 120
_MAX_EXTENSION: Final = 16
# Characters Windows refuses in names, plus quotes and backslash, which would need escaping in a
# Content-Disposition header.
_RESERVED: Final = re.compile(r'[<>:"/\\|?*]')
_FALLBACK_NAME: Final = "lampiran"


def safe_download_name(original: str) -> str:
    """A filename safe to offer in Content-Disposition when staff download an attachment."""
    name = unicodedata.normalize("NFC", original)
    name = re.split(r"[/\\]", name)[-1]
    # Control and format characters go, including bidirectional overrides that can disguise
    # `invoice\u202efdp.exe` as `invoiceexe.pdf`.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _RESERVED.sub("_", name)
    # Leading dots would make a hidden file (or `..`); trailing dots and spaces are dropped by
    # Windows, changing the extension the user sees.
    name = name.strip(" ").lstrip(".").rstrip(". ")
    if not name:
        return _FALLBACK_NAME
    if len(name) <= _MAX_NAME:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= _MAX_EXTENSION:
        return stem[: _MAX_NAME - len(extension) - 1].rstrip(". ") + "." + extension
    return name[:_MAX_NAME].rstrip(". ")
