"""Review of the late merges (cov-core, PDF cleaning): a page is scrubbed before it is copied, but
the writer copies every object the kept annotations (and the page) reference. A script that hangs
from a form field (the /Parent of a kept /Widget) and an attached file referenced from a key the
cleaner does not know both survive into the "clean" copy."""

from __future__ import annotations

import secrets

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

from tests.pdf_builders import pdf_bytes, rect
from wbs.files.pdf import strip_pdf


def test_review_late_widget_parent_field_script_is_removed() -> None:
    canary = f"WBSCANARY{secrets.token_hex(8)}"
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    js = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                           NameObject("/JS"): TextStringObject(f"app.alert('{canary}')")})
    field = writer._add_object(DictionaryObject({
        NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject("f"),
        # Keystroke / format scripts live on the field, not on the widget.
        NameObject("/AA"): DictionaryObject({NameObject("/K"): js}),
    }))
    widget = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
        NameObject("/Rect"): rect(), NameObject("/Parent"): field}))
    field.get_object()[NameObject("/Kids")] = ArrayObject([widget])
    page[NameObject("/Annots")] = ArrayObject([widget])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([field])})
    original = pdf_bytes(writer)
    assert canary.encode() in original

    clean = strip_pdf(original)

    assert b"/JavaScript" not in clean.data
    assert canary.encode() not in clean.data


def test_review_late_embedded_file_behind_an_unknown_key_is_removed() -> None:
    canary = f"WBSCANARY{secrets.token_hex(8)}"
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    embedded = StreamObject()
    embedded.set_data(f"the reporter's own draft, {canary}".encode())
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Filespec"),
        NameObject("/F"): TextStringObject("draft.docx"),
        NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(embedded)})}))
    # A kept link annotation that also points at the file (any key an editor might write).
    link = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): rect(), NameObject("/XAttachment"): spec}))
    page[NameObject("/Annots")] = ArrayObject([link])
    original = pdf_bytes(writer)
    assert canary.encode() in original

    clean = strip_pdf(original)

    assert b"/EmbeddedFile" not in clean.data
    assert canary.encode() not in clean.data
