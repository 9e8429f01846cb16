"""Office packages: a damaged archive or package XML we would have to guess at is refused (never
passed through uncleaned); relationship targets are resolved as Office resolves them, so a
property part named in a roundabout way is still dropped; the type follows the main part."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.unit.files.test_cleaning import CONTENT_TYPES, DOCUMENT, RELS, jpeg_with_metadata
from wbs.files import UnsafeFile, office, strip_metadata

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CUSTOM = (b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
          b'custom-properties"><property name="NIP">NIP-198001012005011001</property></Properties>')


def _package(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _reason(data: bytes) -> str:
    with pytest.raises(UnsafeFile) as refused:
        strip_metadata(data, "laporan.docx", "")
    return refused.value.reason


def test_a_damaged_archive_is_unreadable() -> None:
    whole = _package({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": DOCUMENT})
    # Cut inside the central directory: the signature is found, the directory is not whole.
    assert _reason(whole[:-10]) == "unreadable_archive"
    # A member whose bytes were changed fails its CRC when it is read for the rewrite.
    at = whole.index(b"word/document.xml") + len("word/document.xml") + 8
    damaged = whole[:at] + bytes([whole[at] ^ 0xFF]) + whole[at + 1:]
    assert _reason(damaged) == "unreadable_archive"


@pytest.mark.parametrize(("content_types", "why"), [
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Types xmlns="' + CT_NS.encode() + b'">&a;</Types>',
     "entity"),
    (b"<Types xmlns='" + CT_NS.encode() + b"'><Default", "not well-formed"),
    (b"<Types xmlns='urn:other'><Default Extension='xml' ContentType='a/b'/></Types>",
     "another namespace"),
    (b"<Types xmlns='" + CT_NS.encode() + b"' version='1'/>", "root attribute"),
    (b"<Types xmlns='" + CT_NS.encode() + b"'><Default xmlns:x='urn:x' x:Extension='xml'/>"
     b"</Types>", "namespaced attribute"),
    (b"<Types xmlns='" + CT_NS.encode() + b"'><Default Extension='xml'><Inner/></Default>"
     b"</Types>", "nested element"),
    (b"<Types xmlns='" + CT_NS.encode() + b"'>" + b" " * office.MAX_PACKAGE_XML + b"</Types>",
     "oversized"),
])
def test_package_xml_we_would_have_to_guess_at_is_refused(content_types: bytes, why: str) -> None:
    # Stored, so that the oversized one is not refused earlier for its compression ratio.
    data = _package({"[Content_Types].xml": content_types, "word/document.xml": DOCUMENT},
                    zipfile.ZIP_STORED)
    assert _reason(data) == "archive_bad_xml", why


def test_property_parts_named_by_roundabout_targets_are_still_dropped() -> None:
    rels = (f'<Relationships xmlns="{REL_NS}">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="./word/../word/document.xml"/>'
            '<Relationship Id="r2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/custom-properties" Target="/../Props/./Custom.XML"/>'
            '<Relationship Id="r3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/hyperlink" Target="https://wbs.example.go.id/" '
            'TargetMode="External"/></Relationships>').encode()
    types = (f'<Types xmlns="{CT_NS}"><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/props/custom.xml" ContentType="application/vnd.openxml'
             'formats-officedocument.custom-properties+xml"/></Types>').encode()
    clean = strip_metadata(_package({"[Content_Types].xml": types, "_rels/.rels": rels,
                                     "word/document.xml": DOCUMENT, "props/custom.xml": CUSTOM}),
                           "laporan.docx", "")
    members = _members(clean.data)
    assert "props/custom.xml" not in members
    assert b"NIP-" not in b"".join(members.values())
    assert b"custom" not in members["[Content_Types].xml"]
    # The external hyperlink is not a part: kept as it was.
    assert b'TargetMode="External"' in members["_rels/.rels"]
    assert members["word/document.xml"] == DOCUMENT


def test_a_package_without_relationships_still_loses_the_usual_property_parts() -> None:
    clean = strip_metadata(_package({"[Content_Types].xml": CONTENT_TYPES,
                                     "word/document.xml": DOCUMENT,
                                     "docProps/custom.xml": CUSTOM}), "laporan.docx", "")
    assert "docProps/custom.xml" not in _members(clean.data)


@pytest.mark.parametrize(("main", "macro", "expected"), [
    ("xl/workbook.xml", False,
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("xl/workbook.xml", True, "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ("ppt/presentation.xml", False,
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("word/document.xml", True, "application/vnd.ms-word.document.macroEnabled.12"),
    ("visio/document.xml", False, "application/zip"),
])
def test_the_type_follows_the_main_part_and_its_macros(main: str, macro: bool,
                                                       expected: str) -> None:
    members = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS, main: b"<x/>"}
    if macro:
        members[main.split("/")[0] + "/vbaProject.bin"] = b"\xd0\xcf\x11\xe0macro"
    clean = strip_metadata(_package(members), "berkas", "")
    assert clean.content_type == expected
    # A macro is never run here and never removed: the type tells the reader it is there.
    assert any(n.endswith("vbaProject.bin") for n in _members(clean.data)) is macro


def test_an_odf_without_a_manifest_is_rewritten_and_non_images_in_media_kept() -> None:
    photo = jpeg_with_metadata(b"WBSCANARYodf")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as odt:
        odt.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
        odt.writestr("content.xml", b"<office:document-content>isi</office:document-content>")
        odt.writestr("meta.xml", b"<meta:initial-creator>Budi</meta:initial-creator>")
        odt.writestr("Pictures/photo.jpg", photo)
        odt.writestr("Pictures/notes.txt", b"bukan gambar")
    clean = strip_metadata(out.getvalue(), "laporan.odt", "")
    members = _members(clean.data)
    assert b"Budi" not in members["meta.xml"]
    assert members["Pictures/notes.txt"] == b"bukan gambar"
    assert b"WBSCANARYodf" not in members["Pictures/photo.jpg"]
    assert "META-INF/manifest.xml" not in members


def test_an_odf_like_mimetype_that_is_not_odf_passes_as_unknown() -> None:
    data = _package({"mimetype": b"application/epub+zip", "content.opf": b"<package/>"})
    clean = strip_metadata(data, "buku.epub", "")
    assert (clean.data, clean.stripped, clean.note) == (data, False, "unknown_type")


def test_reading_stops_at_the_archive_budget() -> None:
    """The second bound behind the declared-size check: the real bytes read are counted."""
    data = _package({"word/document.xml": DOCUMENT})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        budget = office._Budget()
        budget.left = len(DOCUMENT) - 1
        with pytest.raises(UnsafeFile) as refused:
            office._read_member(archive, archive.getinfo("word/document.xml"), budget)
        assert refused.value.reason == "archive_too_large"
        budget.left = len(DOCUMENT)
        assert office._read_member(archive, archive.getinfo("word/document.xml"),
                                   budget) == DOCUMENT
