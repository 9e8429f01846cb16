"""A PDF with a Unicode font, so Indonesian names and any script in a unit's or person's name
print as typed (the built-in PDF fonts stop at Latin-1).

DejaVu Sans is looked up in the Debian package `fonts-dejavu-core` (installed with the app and in
CI), or in the directory `WBS_PDF_FONT_DIR` names. Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

from fpdf import FPDF

FAMILY = "DejaVu"
_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
         "/usr/local/share/fonts/dejavu")


class FontMissing(RuntimeError):
    pass


def font_dir() -> Path:
    configured = os.environ.get("WBS_PDF_FONT_DIR")
    for candidate in ([configured] if configured else []) + list(_DIRS):
        path = Path(candidate)
        if (path / "DejaVuSans.ttf").is_file() and (path / "DejaVuSans-Bold.ttf").is_file():
            return path
    raise FontMissing("DejaVu Sans not found: install fonts-dejavu-core or set "
                      "WBS_PDF_FONT_DIR")


def unicode_pdf(title: str) -> FPDF:
    directory = font_dir()
    pdf = FPDF(format="A4")
    pdf.add_font(FAMILY, "", str(directory / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(directory / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("wbs")
    pdf.set_font(FAMILY, size=10)
    return pdf
