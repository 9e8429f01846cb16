from __future__ import annotations

import io
import secrets
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator

import pytest
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DictionaryObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

from wbs.files import CleanFile, UnsafeFile, safe_download_name, strip_metadata
from wbs.files.office import MAX_ZIP_ENTRIES

RED = (220, 20, 20)
BLUE = (20, 20, 220)


@pytest.fixture
def canary() -> bytes:
    return f"WBSCANARY{secrets.token_hex(8)}".encode()


# --- images --------------------------------------------------------------------------------------


def two_tone(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue, so a rotation is visible in the pixels."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


def exif_with_gps(canary: bytes, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CanaryPhoneMaker"  # Make
    exif[0x0110] = "Model WBS-9"  # Model
    exif[0x013B] = "Budi Santoso"  # Artist
    exif[0x010E] = canary.decode()  # ImageDescription
    exif[0x0112] = orientation  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"  # GPSLatitudeRef
    gps[2] = (6.0, 10.0, 30.0)  # GPSLatitude: Jakarta
    gps[3] = "E"
    gps[4] = (106.0, 49.0, 0.0)
    return exif


def jpeg_with_metadata(canary: bytes, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    two_tone().save(
        out,
        format="JPEG",
        exif=exif_with_gps(canary, orientation),
        comment=b"COM " + canary,
        icc_profile=b"FAKEICC " + canary,
        xmp=b"<x:xmpmeta>" + canary + b"</x:xmpmeta>",
    )
    return out.getvalue()


def test_jpeg_loses_all_exif_gps_and_canary(canary: bytes) -> None:
    original = jpeg_with_metadata(canary)
    with Image.open(io.BytesIO(original)) as img:  # the test input really carries it all
        assert img.getexif().get_ifd(0x8825)[2] == (6.0, 10.0, 30.0)
        assert img.getexif()[0x013B] == "Budi Santoso"
    assert canary in original

    clean = strip_metadata(original, "foto.jpg", "image/jpeg")

    assert (clean.content_type, clean.stripped, clean.note) == (
        "image/jpeg",
        True,
        "image_reencoded",
    )
    assert canary not in clean.data
    for marker in (b"Budi Santoso", b"CanaryPhoneMaker", b"Exif\x00\x00", b"FAKEICC", b"xmpmeta"):
        assert marker not in clean.data
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.format == "JPEG"
        assert img.size == (40, 20)
        assert len(img.getexif()) == 0
        assert not img.getexif().get_ifd(0x8825)
        assert not any(key in img.info for key in ("exif", "comment", "icc_profile", "xmp"))


def test_jpeg_orientation_is_applied_to_the_pixels(canary: bytes) -> None:
    clean = strip_metadata(jpeg_with_metadata(canary, orientation=6), "foto.jpg", "image/jpeg")
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.size == (20, 40)  # rotated: width and height swapped
        rgb = img.convert("RGB")
        # Orientation 6 means "rotate 90° clockwise to display": the left (red) half goes on top.
        top, bottom = rgb.getpixel((10, 5)), rgb.getpixel((10, 35))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100


def test_truncated_jpeg_is_unsafe(canary: bytes) -> None:
    noise = Image.frombytes("RGB", (256, 256), secrets.token_bytes(256 * 256 * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(data[: len(data) // 2], "foto.jpg", "image/jpeg")
    assert excinfo.value.reason == "unreadable_image"


def png_chunk_types(data: bytes) -> list[bytes]:
    types, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        types.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return types


def test_png_loses_text_chunks_and_exif(canary: bytes) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", canary.decode())
    info.add_text("Comment", canary.decode(), zip=True)
    info.add_itxt("Description", canary.decode(), lang="id")
    out = io.BytesIO()
    two_tone().save(out, format="PNG", pnginfo=info, exif=exif_with_gps(canary), dpi=(300, 300))
    original = out.getvalue()
    assert canary in original
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} <= set(png_chunk_types(original))

    clean = strip_metadata(original, "layar.png", "image/png")

    assert (clean.content_type, clean.stripped) == ("image/png", True)
    assert canary not in clean.data
    assert set(png_chunk_types(clean.data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
    with Image.open(io.BytesIO(clean.data)) as img:
        assert img.size == (40, 20)
        assert len(img.getexif()) == 0
        assert img.convert("RGB").getpixel((5, 5)) == RED


def test_png_palette_transparency_is_kept() -> None:
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    img.save(out, format="PNG", transparency=0)
    clean = strip_metadata(out.getvalue(), "x.png", "image/png")
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.info.get("transparency") == 0


def test_gif_comment_is_removed_and_animation_kept(canary: bytes) -> None:
    frames = [Image.new("P", (8, 8), color) for color in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=canary,
    )
    assert canary in out.getvalue()

    clean = strip_metadata(out.getvalue(), "anim.gif", "image/gif")

    assert canary not in clean.data
    with Image.open(io.BytesIO(clean.data)) as img:
        assert getattr(img, "n_frames", 1) == 3
        assert "comment" not in img.info


def test_webp_exif_is_removed(canary: bytes) -> None:
    out = io.BytesIO()
    two_tone().save(out, format="WEBP", exif=exif_with_gps(canary), xmp=b"<x>" + canary + b"</x>")
    assert canary in out.getvalue()
    clean = strip_metadata(out.getvalue(), "foto.webp", "image/webp")
    assert clean.content_type == "image/webp"
    assert canary not in clean.data
    with Image.open(io.BytesIO(clean.data)) as img:
        assert len(img.getexif()) == 0


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(
            (10_000, 9_000),  # 90 MP: Pillow only warns, our own cap refuses it
            id="over-our-cap",
            marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
        ),
        pytest.param((20_000, 20_000), id="pillow-bomb-error"),  # 400 MP: Pillow refuses
    ],
)
def test_decompression_bomb_image_is_unsafe(size: tuple[int, int]) -> None:
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(png_header_only(*size), "bomb.png", "image/png")
    assert excinfo.value.reason == "image_too_large"


# --- PDF -----------------------------------------------------------------------------------------


def pdf_with_metadata(canary: bytes, pages: int = 3) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": f"Author {canary.decode()}", "/Title": f"T {canary.decode()}"})
    xmp = StreamObject()
    xmp.set_data(b'<x:xmpmeta xmlns:x="adobe:ns:meta/">XMP ' + canary + b"</x:xmpmeta>")
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('JS-" + canary.decode() + "')"),
        }
    )
    writer.add_attachment("rahasia.txt", b"ATTACHED " + canary)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_loses_info_xmp_scripts_and_attachments(canary: bytes) -> None:
    original = pdf_with_metadata(canary)
    reader = PdfReader(io.BytesIO(original))
    assert reader.metadata is not None and canary.decode() in str(reader.metadata.author)
    assert "/Metadata" in reader.root_object

    clean = strip_metadata(original, "laporan.pdf", "application/pdf")

    assert (clean.content_type, clean.stripped, clean.note) == (
        "application/pdf",
        True,
        "pdf_rebuilt",
    )
    assert canary not in clean.data
    result = PdfReader(io.BytesIO(clean.data))
    assert len(result.pages) == 3
    assert result.metadata is None
    assert "/Info" not in result.trailer
    root = result.root_object
    for key in ("/Metadata", "/OpenAction", "/Names", "/AA", "/AcroForm"):
        assert key not in root
    assert b"/JavaScript" not in clean.data
    assert b"/EmbeddedFile" not in clean.data


def test_pdf_gets_a_fresh_file_identifier(canary: bytes) -> None:
    original = pdf_with_metadata(canary, pages=1)
    before = PdfReader(io.BytesIO(original)).trailer.get("/ID")
    after = PdfReader(io.BytesIO(strip_metadata(original, "a.pdf", "").data)).trailer.get("/ID")
    assert after is not None and after != before


def test_pdf_named_as_jpeg_is_treated_as_pdf(canary: bytes) -> None:
    clean = strip_metadata(pdf_with_metadata(canary), "evil.jpg", "image/jpeg")
    assert (clean.content_type, clean.note) == ("application/pdf", "pdf_rebuilt")
    assert canary not in clean.data


def test_broken_pdf_is_unsafe() -> None:
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(b"%PDF-1.7\n" + b"\x00garbage" * 100, "a.pdf", "application/pdf")
    assert excinfo.value.reason == "unreadable_pdf"


# --- office documents ----------------------------------------------------------------------------

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="jpeg" ContentType="image/jpeg"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>
</Types>"""  # noqa: E501

RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>
<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/>
</Relationships>"""  # noqa: E501

DOCUMENT = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Bukti pungutan liar di Dinas PU.</w:t></w:r></w:p></w:body></w:document>"""


def docx_like(canary: bytes) -> bytes:
    core = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:creator>CREATOR-" + canary + b"</dc:creator>"
        b"<cp:lastModifiedBy>EDITOR-" + canary + b"</cp:lastModifiedBy></cp:coreProperties>"
    )
    app = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
        b'schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Company>COMPANY-'
        + canary
        + b"</Company></Properties>"
    )
    custom = b"<Properties><property>CUSTOM-" + canary + b"</property></Properties>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("[Content_Types].xml", CONTENT_TYPES)
        docx.writestr("_rels/.rels", RELS)
        docx.writestr("word/document.xml", DOCUMENT)
        docx.writestr("word/media/image1.jpeg", jpeg_with_metadata(canary))
        docx.writestr("docProps/core.xml", core)
        docx.writestr("docProps/app.xml", app)
        docx.writestr("docProps/custom.xml", custom)
        docx.writestr("docProps/thumbnail.jpeg", b"THUMB-" + canary)
    return out.getvalue()


def all_member_bytes(data: bytes) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            yield info.filename, archive.read(info)


def test_docx_loses_properties_custom_thumbnail_and_photo_exif(canary: bytes) -> None:
    clean = strip_metadata(docx_like(canary), "laporan.docx", "application/msword")

    assert clean.content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert (clean.stripped, clean.note) == (True, "office_properties_removed")
    members = dict(all_member_bytes(clean.data))
    assert not any(canary in content for content in members.values())
    assert b"Budi Santoso" not in members["word/media/image1.jpeg"]
    assert members["word/document.xml"] == DOCUMENT
    assert "docProps/custom.xml" not in members
    assert "docProps/thumbnail.jpeg" not in members
    assert b"custom" not in members["_rels/.rels"]
    assert b"thumbnail" not in members["_rels/.rels"]
    assert b"core-properties" in members["_rels/.rels"]
    # Rewritten in the default namespace, as Office writes them, not with ElementTree's `ns0:`.
    assert members["_rels/.rels"].startswith(b'<?xml version="1.0" encoding="UTF-8"')
    assert b"ns0" not in members["_rels/.rels"] + members["[Content_Types].xml"]
    assert b"/docProps/custom.xml" not in members["[Content_Types].xml"]
    assert b"/word/document.xml" in members["[Content_Types].xml"]
    assert b"creator" not in members["docProps/core.xml"]
    with zipfile.ZipFile(io.BytesIO(clean.data)) as archive:
        assert archive.testzip() is None
        # Member times would tell when (and in which time zone) the reporter edited the file.
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_odf_loses_meta_and_thumbnail(canary: bytes) -> None:
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        b' manifest:version="1.2">'
        b'<manifest:file-entry manifest:full-path="/" '
        b'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        b'<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        b'<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" '
        b'manifest:media-type="image/png"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as odt:
        odt.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
        odt.writestr("content.xml", b"<office:document-content>isi</office:document-content>")
        odt.writestr("meta.xml", b"<meta:initial-creator>" + canary + b"</meta:initial-creator>")
        odt.writestr("Thumbnails/thumbnail.png", b"PNG" + canary)
        odt.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)

    clean = strip_metadata(out.getvalue(), "laporan.odt", "")

    assert (clean.content_type, clean.note) == (
        "application/vnd.oasis.opendocument.text",
        "odf_meta_removed",
    )
    members = dict(all_member_bytes(clean.data))
    assert not any(canary in content for content in members.values())
    assert "Thumbnails/thumbnail.png" not in members
    assert b"Thumbnails" not in members["META-INF/manifest.xml"]
    assert (
        b'<manifest:file-entry manifest:full-path="content.xml"' in members["META-INF/manifest.xml"]
    )
    with zipfile.ZipFile(io.BytesIO(clean.data)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)


def office_zip(extra: Iterable[tuple[str, bytes]] = ()) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        for name, content in extra:
            archive.writestr(name, content)
    return out


def test_zip_bomb_is_unsafe() -> None:
    out = office_zip()
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        zeros = bytes(1024 * 1024)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(zeros)
    assert len(out.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(out.getvalue(), "bom.docx", "")
    assert excinfo.value.reason == "archive_too_large"


def test_highly_compressed_member_is_unsafe() -> None:
    out = office_zip([("word/document.xml", bytes(10 * 1024 * 1024))])
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(out.getvalue(), "bom.docx", "")
    assert excinfo.value.reason == "archive_ratio"


def test_too_many_entries_is_unsafe() -> None:
    out = office_zip((f"word/part{i}.xml", b"<a/>") for i in range(MAX_ZIP_ENTRIES))
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(out.getvalue(), "many.docx", "")
    assert excinfo.value.reason == "archive_too_many_entries"


def test_case_variant_duplicate_parts_are_unsafe() -> None:
    out = office_zip([("docProps/core.xml", b"<a/>"), ("DOCPROPS/CORE.XML", b"<b/>")])
    with pytest.raises(UnsafeFile):
        strip_metadata(out.getvalue(), "dup.docx", "")


def test_plain_zip_passes_through_unchanged() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("catatan.txt", b"isi")
    clean = strip_metadata(out.getvalue(), "bukti.zip", "application/zip")
    assert (clean.data, clean.stripped, clean.note) == (out.getvalue(), False, "unknown_type")


# --- unknown types and names ---------------------------------------------------------------------


def test_text_file_is_returned_unchanged() -> None:
    data = b"Catatan rapat: Kepala Dinas meminta setoran.\n"
    clean = strip_metadata(data, "catatan.txt", "text/plain")
    assert clean == CleanFile(data, "application/octet-stream", stripped=False, note="unknown_type")


def test_clean_file_repr_hides_the_content(canary: bytes) -> None:
    assert canary.decode() not in repr(strip_metadata(canary, "a.txt", "text/plain"))


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\budi\\Desktop\\bukti.pdf", "bukti.pdf"),
        ("foto\r\nSet-Cookie: x.jpg", "fotoSet-Cookie_ x.jpg"),
        ('a"b;c.pdf', "a_b;c.pdf"),
        ("tagihan\u202efdp.exe", "tagihanfdp.exe"),
        ("..", "lampiran"),
        ("", "lampiran"),
        (".bashrc", "bashrc"),
        ("laporan. . .", "laporan"),
    ],
)
def test_safe_download_name(original: str, expected: str) -> None:
    assert safe_download_name(original) == expected


def test_safe_download_name_limits_length_and_keeps_extension() -> None:
    name = safe_download_name("a" * 500 + ".docx")
    assert len(name) == 120
    assert name.endswith(".docx")
    assert len(safe_download_name("b" * 500)) == 120


# --- caps that a real report never reaches ------------------------------------------------------


def test_png_bomb_is_refused_from_its_header() -> None:
    from tests.bombs import png_bomb

    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(png_bomb(8944, 8944), "bom.png", "image/png")
    assert excinfo.value.reason == "image_too_large"


def test_a_48_megapixel_photo_is_still_accepted() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8064, 6048), (120, 130, 140)).save(out, "JPEG", quality=50)
    clean = strip_metadata(out.getvalue(), "foto.jpg", "image/jpeg")
    assert clean.stripped and Image.open(io.BytesIO(clean.data)).size == (8064, 6048)


def test_pdf_over_the_page_cap_is_refused_by_its_count() -> None:
    from tests.bombs import pdf_of_blank_pages
    from wbs.files.pdf import MAX_PDF_PAGES

    assert strip_metadata(pdf_of_blank_pages(MAX_PDF_PAGES), "ok.pdf", "").stripped
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(pdf_of_blank_pages(MAX_PDF_PAGES + 1), "bom.pdf", "")
    assert excinfo.value.reason == "pdf_too_many_pages"


def test_pdf_whose_count_lies_is_refused_by_its_real_pages() -> None:
    from tests.bombs import pdf_of_blank_pages

    liar = pdf_of_blank_pages(3000).replace(b"/Count 3000", b"/Count 1   ")
    with pytest.raises(UnsafeFile) as excinfo:
        strip_metadata(liar, "bom.pdf", "")
    assert excinfo.value.reason == "pdf_too_many_pages"
