"""A PDF's pages keep their links but lose every script, launch, attached file and per-object XMP
packet; a PDF only a password opens is refused, one with an empty password is cleaned."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from tests.pdf_builders import file_spec, new_canary, pdf_bytes, rect
from wbs.files import UnsafeFile
from wbs.files.pdf import strip_pdf


@pytest.fixture
def canary() -> str:
    return new_canary()


def _action(kind: str, **extra: object) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in extra.items():
        action[NameObject(f"/{key}")] = value  # type: ignore[assignment]
    return action


def _annotation(writer: PdfWriter, subtype: str, **entries: object) -> object:
    annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                              NameObject("/Subtype"): NameObject(subtype),
                              NameObject("/Rect"): rect()})
    for key, value in entries.items():
        annot[NameObject(f"/{key}")] = value  # type: ignore[assignment]
    return writer._add_object(annot)


def _js(canary: str, what: str) -> DictionaryObject:
    return _action("/JavaScript", JS=TextStringObject(f"app.alert('{what}-{canary}')"))


def _pdf_with_annotations(canary: str) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    link = _action("/URI", URI=TextStringObject("https://wbs.example.go.id/"))
    # A safe action that chains to a script: the chain must go, the link stay.
    link[NameObject("/Next")] = _js(canary, "NEXT")
    annots = ArrayObject([
        _annotation(writer, "/Link", A=link),
        _annotation(writer, "/Link", A=_js(canary, "LINK")),
        _annotation(writer, "/Link", A=_action("/Launch", F=TextStringObject(f"{canary}.exe"))),
        _annotation(writer, "/Widget", AA=DictionaryObject({NameObject("/E"): _js(canary, "AA")})),
        _annotation(writer, "/Link", A=writer._add_object(_js(canary, "INDIRECT"))),
        _annotation(writer, "/FileAttachment", FS=file_spec(writer, canary),
                    Contents=TextStringObject(f"attached {canary}")),
        _annotation(writer, "/Screen", Contents=TextStringObject(f"media {canary}")),
        writer._add_object(NumberObject(3)),  # not an annotation at all
    ])
    page[NameObject("/Annots")] = writer._add_object(annots)
    return pdf_bytes(writer)


def test_pdf_links_stay_and_scripts_launches_and_attachments_go(canary: str) -> None:
    clean = strip_pdf(_pdf_with_annotations(canary))
    assert canary.encode() not in clean.data
    assert b"/JavaScript" not in clean.data and b"/Launch" not in clean.data
    assert b"/EmbeddedFile" not in clean.data and b"/FileAttachment" not in clean.data
    page = PdfReader(io.BytesIO(clean.data)).pages[0]
    annots = [a.get_object() for a in page["/Annots"]]
    subtypes = sorted(str(a["/Subtype"]) for a in annots if isinstance(a, DictionaryObject))
    # The attachment and the media annotation are gone; the rest stay, defused.
    assert subtypes == ["/Link", "/Link", "/Link", "/Link", "/Widget"]
    actions = [a["/A"].get_object() for a in annots
               if isinstance(a, DictionaryObject) and "/A" in a]
    assert [str(a["/S"]) for a in actions] == ["/URI"]
    assert "/Next" not in actions[0]
    assert not any("/AA" in a for a in annots if isinstance(a, DictionaryObject))


def test_a_page_whose_annots_is_not_an_array_loses_it() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    page[NameObject("/Annots")] = DictionaryObject({NameObject("/S"): NameObject("/JavaScript")})
    clean = strip_pdf(pdf_bytes(writer))
    assert "/Annots" not in PdfReader(io.BytesIO(clean.data)).pages[0]


def _xmp(writer: PdfWriter, canary: str, where: str) -> object:
    packet = StreamObject()
    packet.set_data(f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{where} {canary}</x:xmpmeta>'.encode())
    packet[NameObject("/Type")] = NameObject("/Metadata")
    packet[NameObject("/Subtype")] = NameObject("/XML")
    return writer._add_object(packet)


def _resources(xobjects: dict[str, object]) -> DictionaryObject:
    named = DictionaryObject({NameObject(name): ref for name, ref in xobjects.items()})
    return DictionaryObject({NameObject("/XObject"): named})


def test_image_and_nested_form_xobjects_lose_their_xmp(canary: str) -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    image = StreamObject()
    image.set_data(b"\xff\x00\x00")
    image.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(1), NameObject("/Height"): NumberObject(1),
                  NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                  NameObject("/BitsPerComponent"): NumberObject(8),
                  NameObject("/Metadata"): _xmp(writer, canary, "IMAGE"),
                  NameObject("/PieceInfo"): DictionaryObject(
                      {NameObject("/Editor"): TextStringObject(f"piece {canary}")})})
    image_ref = writer._add_object(image)
    inner = StreamObject()
    inner.set_data(b"")
    inner.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Form"),
                  NameObject("/BBox"): rect(),
                  NameObject("/Metadata"): _xmp(writer, canary, "INNER"),
                  NameObject("/Resources"): _resources({
                      "/Im0": image_ref, "/Bad": writer._add_object(NumberObject(1))})})
    inner_ref = writer._add_object(inner)
    outer = StreamObject()
    outer.set_data(b"")
    outer.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Form"),
                  NameObject("/BBox"): rect(),
                  NameObject("/Metadata"): _xmp(writer, canary, "OUTER"),
                  NameObject("/Resources"): _resources({"/Fm1": inner_ref,
                                                        "/Im0": image_ref})})
    page[NameObject("/Resources")] = _resources({"/Fm0": writer._add_object(outer)})
    original = pdf_bytes(writer)
    assert original.count(canary.encode()) == 4

    clean = strip_pdf(original)
    assert canary.encode() not in clean.data
    resources = PdfReader(io.BytesIO(clean.data)).pages[0]["/Resources"]
    form = resources["/XObject"]["/Fm0"].get_object()
    assert form["/Subtype"] == "/Form" and "/Metadata" not in form
    assert "/Metadata" not in form["/Resources"]["/XObject"]["/Fm1"].get_object()


def test_form_xobjects_nested_past_the_depth_bound_still_clean(canary: str) -> None:
    """A deep nest is cut off at the bound; the file is still rebuilt (the catalog checks hold)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    child: object | None = None
    for depth in range(12):
        form = StreamObject()
        form.set_data(b"")
        form.update({NameObject("/Type"): NameObject("/XObject"),
                     NameObject("/Subtype"): NameObject("/Form"), NameObject("/BBox"): rect()})
        if child is not None:
            form[NameObject("/Resources")] = _resources({f"/F{depth}": child})
        child = writer._add_object(form)
    page[NameObject("/Resources")] = _resources({"/Top": child})
    clean = strip_pdf(pdf_bytes(writer))
    assert clean.note == "pdf_rebuilt" and len(PdfReader(io.BytesIO(clean.data)).pages) == 1


def _encrypted(user_password: str, canary: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": f"Author {canary}"})
    writer.encrypt(user_password=user_password, owner_password="pemilik-" + canary,
                   algorithm="AES-128")
    return pdf_bytes(writer)


def test_a_pdf_that_needs_a_password_is_refused(canary: str) -> None:
    with pytest.raises(UnsafeFile) as refused:
        strip_pdf(_encrypted("rahasia", canary))
    assert refused.value.reason == "encrypted_pdf"


def test_a_pdf_encrypted_with_an_empty_password_is_opened_and_cleaned(canary: str) -> None:
    clean = strip_pdf(_encrypted("", canary))
    result = PdfReader(io.BytesIO(clean.data))
    assert not result.is_encrypted and result.metadata is None and len(result.pages) == 1
    assert canary.encode() not in clean.data


def test_a_pdf_without_pages_is_unreadable() -> None:
    with pytest.raises(UnsafeFile) as refused:
        strip_pdf(pdf_bytes(PdfWriter()))
    assert refused.value.reason == "unreadable_pdf"
