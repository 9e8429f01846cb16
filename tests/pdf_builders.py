"""Small PDFs built piece by piece, for the tests of the PDF cleaner (wbs.files.pdf): a canary
to look for in the output, a rectangle, a file attached the way PDF editors attach one, and
a writer's bytes."""

from __future__ import annotations

import io
import secrets

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    StreamObject,
    TextStringObject,
)


def new_canary() -> str:
    return f"WBSCANARY{secrets.token_hex(8)}"


def rect() -> ArrayObject:
    return ArrayObject([FloatObject(10), FloatObject(10), FloatObject(50), FloatObject(50)])


def pdf_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def file_spec(writer: PdfWriter, canary: str, name: str = "draft.txt") -> object:
    """What a PDF editor writes for an attached file: a spec with the file inside."""
    embedded = StreamObject()
    embedded.set_data(f"the reporter's own draft, {canary}".encode())
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Filespec"),
        NameObject("/F"): TextStringObject(name),
        NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(embedded)}),
    }))
