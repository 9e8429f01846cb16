"""A PDF is copied by allow-list: a page, its annotations, its resources and its images keep only
the keys that draw or navigate, so an attached file hung from a key the cleaner does not know
never reaches the copy; and the check after writing walks every object in the written file, so a
gap in that copy refuses the file instead of publishing the attachment."""

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
from wbs.files.pdf import _check_pdf_clean, strip_pdf


@pytest.fixture
def canary() -> str:
    return new_canary()


def _image(writer: PdfWriter, pixel: bytes = b"\xff\x00\x00") -> StreamObject:
    image = StreamObject()
    image.set_data(pixel)
    image.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(1), NameObject("/Height"): NumberObject(1),
                  NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                  NameObject("/BitsPerComponent"): NumberObject(8)})
    return image


def _content(writer: PdfWriter, data: bytes) -> object:
    stream = StreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _assert_attachment_gone(clean: bytes, canary: str) -> None:
    assert canary.encode() not in clean
    assert b"/EmbeddedFile" not in clean and b"/Filespec" not in clean and b"/EF" not in clean


def test_a_page_key_the_cleaner_does_not_know_loses_its_attached_file(canary: str) -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    page[NameObject("/XDraft")] = file_spec(writer, canary, "draft.docx")
    page[NameObject("/Contents")] = _content(writer, b"0 0 1 rg 10 10 50 50 re f")
    original = pdf_bytes(writer)
    assert canary.encode() in original

    clean = strip_pdf(original).data

    _assert_attachment_gone(clean, canary)
    result = PdfReader(io.BytesIO(clean)).pages[0]
    assert "/XDraft" not in result
    assert result.get_contents() is not None
    assert result.get_contents().get_data() == b"0 0 1 rg 10 10 50 50 re f"  # type: ignore[union-attr]


def test_an_image_with_an_extra_key_keeps_its_pixels_and_loses_the_attached_file(
        canary: str) -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    image = _image(writer, b"\x12\x34\x56")
    image[NameObject("/XSource")] = file_spec(writer, canary, "draft.docx")
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
        {NameObject("/Im0"): writer._add_object(image)})})
    original = pdf_bytes(writer)
    assert canary.encode() in original

    clean = strip_pdf(original).data

    _assert_attachment_gone(clean, canary)
    kept = PdfReader(io.BytesIO(clean)).pages[0]["/Resources"]["/XObject"]["/Im0"].get_object()
    assert kept["/Subtype"] == "/Image" and "/XSource" not in kept
    assert kept.get_data() == b"\x12\x34\x56"


def test_an_xobject_entry_naming_an_attached_file_is_dropped(canary: str) -> None:
    """A name in /XObject that is not an image or a form (here: the attached file itself)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    spec = file_spec(writer, canary, "draft.docx")
    embedded = spec.get_object()["/EF"]["/F"]  # type: ignore[attr-defined]
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/XObject"): DictionaryObject({
            NameObject("/Im0"): writer._add_object(_image(writer)),
            NameObject("/Att"): embedded}),
        # And a made-up resource category pointing at the spec.
        NameObject("/XFiles"): DictionaryObject({NameObject("/F0"): spec})})
    original = pdf_bytes(writer)
    assert canary.encode() in original

    clean = strip_pdf(original).data

    _assert_attachment_gone(clean, canary)
    resources = PdfReader(io.BytesIO(clean)).pages[0]["/Resources"]
    assert sorted(resources) == ["/XObject"]
    assert sorted(resources["/XObject"]) == ["/Im0"]


def test_a_link_to_another_page_does_not_carry_that_page_s_unknown_keys(canary: str) -> None:
    """A link's destination is another page: it is copied with the link, so it must be cleaned
    before any page is copied, not when its own turn comes."""
    writer = PdfWriter()
    first = writer.add_blank_page(width=200, height=200)
    second = writer.add_blank_page(width=200, height=200)
    second[NameObject("/XDraft")] = file_spec(writer, canary, "draft.docx")
    first[NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): rect(),
        NameObject("/Dest"): ArrayObject([second.indirect_reference, NameObject("/Fit")])}))])
    original = pdf_bytes(writer)

    clean = strip_pdf(original).data

    _assert_attachment_gone(clean, canary)
    result = PdfReader(io.BytesIO(clean))
    assert len(result.pages) == 2
    link = result.pages[0]["/Annots"][0].get_object()
    assert link["/Dest"][0].get_object() == result.pages[1]


def test_a_link_to_a_page_with_an_attachment_annotation_does_not_bring_the_file_back(
        canary: str) -> None:
    """The attachment annotation on the second page is dropped from that page; the link on the
    first page must not copy the second page's original dictionary, which still lists it."""
    writer = PdfWriter()
    first = writer.add_blank_page(width=200, height=200)
    second = writer.add_blank_page(width=200, height=200)
    second[NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/FileAttachment"),
        NameObject("/Rect"): rect(), NameObject("/FS"): file_spec(writer, canary, "draft.docx")}))])
    first[NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): rect(),
        NameObject("/A"): DictionaryObject({
            NameObject("/S"): NameObject("/GoTo"),
            NameObject("/D"): ArrayObject([second.indirect_reference, NameObject("/Fit")])})}))])

    clean = strip_pdf(pdf_bytes(writer)).data

    _assert_attachment_gone(clean, canary)
    assert b"/FileAttachment" not in clean
    result = PdfReader(io.BytesIO(clean))
    assert "/Annots" not in result.pages[1]
    link = result.pages[0]["/Annots"][0].get_object()
    assert link["/A"]["/D"][0].get_object() == result.pages[1]


def test_a_kept_annotation_loses_its_author_and_dates_and_keeps_its_text(canary: str) -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Text"),
        NameObject("/Rect"): rect(),
        NameObject("/Contents"): TextStringObject("lihat halaman 2"),
        NameObject("/T"): TextStringObject(f"Budi {canary}"),
        NameObject("/M"): TextStringObject(f"D:20261129{canary}"),
        NameObject("/NM"): TextStringObject(canary)}))])

    clean = strip_pdf(pdf_bytes(writer)).data

    assert canary.encode() not in clean
    note = PdfReader(io.BytesIO(clean)).pages[0]["/Annots"][0].get_object()
    assert note["/Subtype"] == "/Text" and note["/Contents"] == "lihat halaman 2"


def test_a_normal_pdf_keeps_its_pages_links_and_images() -> None:
    writer = PdfWriter()
    pages = [writer.add_blank_page(width=595, height=842) for _ in range(3)]
    for number, page in enumerate(pages):
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
            {NameObject("/Im0"): writer._add_object(_image(writer, bytes([number, 1, 2])))})})
        page[NameObject("/Contents")] = _content(writer, b"q 100 0 0 100 0 0 cm /Im0 Do Q")
    pages[0][NameObject("/Annots")] = ArrayObject([
        writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect(),
            NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
            NameObject("/A"): DictionaryObject({
                NameObject("/S"): NameObject("/URI"),
                NameObject("/URI"): TextStringObject("https://wbs.example.go.id/lapor")})})),
        writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect(),
            NameObject("/A"): DictionaryObject({
                NameObject("/S"): NameObject("/GoTo"),
                NameObject("/D"): ArrayObject([pages[2].indirect_reference,
                                               NameObject("/Fit")])})})),
    ])

    clean = strip_pdf(pdf_bytes(writer))

    result = PdfReader(io.BytesIO(clean.data))
    assert clean.note == "pdf_rebuilt" and len(result.pages) == 3
    for number, page in enumerate(result.pages):
        assert [float(v) for v in page.mediabox] == [0, 0, 595, 842]
        image = page["/Resources"]["/XObject"]["/Im0"].get_object()
        assert image.get_data() == bytes([number, 1, 2])
        assert page.get_contents().get_data() == b"q 100 0 0 100 0 0 cm /Im0 Do Q"  # type: ignore[union-attr]
    uri, goto = (a.get_object() for a in result.pages[0]["/Annots"])
    assert uri["/Subtype"] == "/Link" and uri["/A"]["/S"] == "/URI"
    assert uri["/A"]["/URI"] == "https://wbs.example.go.id/lapor"
    assert list(uri["/Border"]) == [0, 0, 0]
    assert goto["/A"]["/S"] == "/GoTo"
    assert goto["/A"]["/D"][0].get_object() == result.pages[2]


def test_a_gap_in_the_copy_refuses_the_file_instead_of_keeping_the_attachment(
        canary: str) -> None:
    """Fonts are not cut down key by key: an attached file hung from one reaches the written
    copy, and the check over every object refuses it."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({
        NameObject("/F1"): writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/XSource"): file_spec(writer, canary, "draft.docx")}))})})

    with pytest.raises(UnsafeFile) as refused:
        strip_pdf(pdf_bytes(writer))
    assert refused.value.reason == "strip_failed"


@pytest.mark.parametrize("orphan", [
    DictionaryObject({NameObject("/Type"): NameObject("/EmbeddedFile")}),
    DictionaryObject({NameObject("/S"): NameObject("/Launch")}),
    DictionaryObject({NameObject("/JS"): TextStringObject("app.alert(1)")}),
    DictionaryObject({NameObject("/Subtype"): NameObject("/RichMedia")}),
    ArrayObject([DictionaryObject({NameObject("/XFA"): ArrayObject()})]),
])
def test_the_check_after_writing_sees_objects_the_catalog_does_not_reach(orphan: object) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.metadata = None
    writer._add_object(orphan)  # type: ignore[arg-type]  # unreferenced, still written
    with pytest.raises(UnsafeFile) as refused:
        _check_pdf_clean(pdf_bytes(writer), 1)
    assert refused.value.reason == "strip_failed"


def test_the_check_after_writing_passes_a_clean_file() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.metadata = None
    _check_pdf_clean(pdf_bytes(writer), 1)


def test_a_link_to_a_named_destination_is_kept_without_its_target_and_the_file_accepted() -> None:
    """pdfTeX and office suites write internal links as /GoTo to a name looked up in the catalog's
    /Names. The catalog's names are not copied, so the link stays without a target; the writer
    must not put a /Names back (the check after writing refused every such file)."""
    writer = PdfWriter()
    first = writer.add_blank_page(width=200, height=200)
    second = writer.add_blank_page(width=200, height=200)
    writer.add_named_destination("bab.2", 1)
    first[NameObject("/Annots")] = ArrayObject([writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): rect(),
        NameObject("/A"): DictionaryObject({NameObject("/S"): NameObject("/GoTo"),
                                            NameObject("/D"): TextStringObject("bab.2")})}))])
    second[NameObject("/Contents")] = _content(writer, b"0 0 1 rg 10 10 50 50 re f")
    original = pdf_bytes(writer)
    assert b"/Names" in original

    clean = strip_pdf(original)

    result = PdfReader(io.BytesIO(clean.data))
    assert len(result.pages) == 2 and "/Names" not in result.root_object
    link = result.pages[0]["/Annots"][0].get_object()
    assert link["/Subtype"] == "/Link" and "/A" not in link
