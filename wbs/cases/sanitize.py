"""Metadata stripping for reporters' evidence, in memory, before it is sealed (DESIGN §1, §3).

A phone photo carries GPS coordinates and the phone's model; an office document carries its
author, company and editing times. Any of them can name a whistleblower, so every file is
rewritten before it is sealed:

- Images (JPEG, PNG, GIF, WebP) are decoded and re-encoded from pixels alone, with the EXIF
  orientation applied first. Rebuilding from pixels drops every metadata block at once, known or
  not, and also breaks polyglot files that hide another format inside an image.
- PDFs are rebuilt page by page into a fresh document without document information, XMP,
  scripts, automatic actions or embedded files.
- OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp) archives are rewritten with blank document
  properties, without custom properties or thumbnails, after zip-bomb checks. Photos embedded in
  them are stripped like standalone images.
- Anything else is returned unchanged with `stripped=False` and note `unknown_type`, so the
  interface can warn the reporter.

The real type comes from the file's first bytes: the declared type and the filename are chosen by
the client and are never trusted. Files that cannot be parsed raise `UnsafeFile` with a short
fixed reason, never with file content. These are CPU-bound pure functions: run them in a worker
thread, not on the event loop.

Known limits: document *content* is kept, including comments and tracked changes (with their
authors), template paths and printer settings; JPEG images inside PDFs keep their own EXIF; video,
audio, HEIC and TIFF pass through as `unknown_type`.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from xml.etree import ElementTree

from PIL import Image, ImageOps, ImageSequence, features
from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, PdfObject

# Pillow logs every EXIF tag it parses, values included, at DEBUG level: an operator who turns
# on debug logging would write a photo's GPS position and author into the logs. Its loggers are
# pinned above DEBUG here, whatever the root configuration says.
for _name in ("PIL", "PIL.TiffImagePlugin", "PIL.PngImagePlugin", "PIL.Image"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# pypdf's warnings quote pieces of the file they parse ("Expected annotation arrays: ..."),
# so a malformed PDF would copy report evidence into the logs.
_pypdf_log = logging.getLogger("pypdf")
_pypdf_log.setLevel(logging.CRITICAL)
_pypdf_log.propagate = False

# Our own pixel cap, checked from the header before any pixel is decoded. It sits below Pillow's
# DecompressionBombWarning threshold (about 89.5 megapixels), so every image we accept decodes
# without Pillow's warning. We do not lower `Image.MAX_IMAGE_PIXELS`: it is process-wide state
# shared with every other thread. 80 megapixels covers current phone cameras in normal modes;
# re-encoding one needs a few hundred MB of memory.
MAX_IMAGE_PIXELS: Final = 80_000_000
MAX_FRAMES: Final = 1_000
JPEG_QUALITY: Final = 92

MAX_ZIP_ENTRIES: Final = 1_000
MAX_ZIP_UNCOMPRESSED: Final = 200 * 1024 * 1024
MAX_ZIP_RATIO: Final = 100
# Below this size a member cannot hurt us whatever its ratio (the total cap still applies), and
# small, repetitive XML parts can legitimately compress better than 100:1.
ZIP_RATIO_FLOOR: Final = 64 * 1024
# Package-level XML we parse (relationships, content types, manifest) is small in real files.
MAX_PACKAGE_XML: Final = 1024 * 1024
# ZIP's epoch: every rewritten member gets this time, as member times reveal when, and in which
# time zone, the reporter last edited the document.
_ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)

_UNKNOWN_TYPE: Final = "application/octet-stream"


class UnsafeFile(Exception):
    """The file could not be processed safely; `reason` is a fixed key, safe to log or show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanFile:
    data: bytes = field(repr=False)
    content_type: str
    stripped: bool
    note: str


def strip_metadata(data: bytes, filename: str, declared_type: str) -> CleanFile:
    """Return `data` without identifying metadata, or unchanged if its type is not handled.

    `filename` and `declared_type` are accepted so callers pass what they have, but they are
    deliberately not used: the type is sniffed from the content.
    """
    kind = _sniff(data)
    if kind in _IMAGE_KINDS:
        return _strip_image(data, kind, transpose=True)
    if kind == "pdf":
        return _strip_pdf(data)
    if kind == "zip":
        return _strip_zip(data)
    return CleanFile(data, _UNKNOWN_TYPE, stripped=False, note="unknown_type")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    # PDF readers accept the header anywhere in the first kilobyte, so we must too: otherwise a
    # PDF with a short prefix would pass through unstripped yet open fine for the investigator.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


# --- images -------------------------------------------------------------------------------------

# kind -> (Pillow format, media type)
_IMAGE_KINDS: Final = {
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "gif": ("GIF", "image/gif"),
    "webp": ("WEBP", "image/webp"),
}
# Info keys that can carry identifying data; none may survive the rewrite.
_IMAGE_METADATA_KEYS: Final = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile")


def _strip_image(data: bytes, kind: str, *, transpose: bool) -> CleanFile:
    fmt, media_type = _IMAGE_KINDS[kind]
    if kind == "webp" and not features.check("webp"):
        return CleanFile(data, media_type, stripped=False, note="unsupported_image")
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnsafeFile("image_too_large")
            frames = getattr(img, "n_frames", 1)
            if frames > MAX_FRAMES or width * height * frames > MAX_IMAGE_PIXELS:
                raise UnsafeFile("image_too_large")
            if frames > 1:
                out = _reencode_animation(img, fmt, lossless=_webp_lossless(data, kind))
            else:
                out = _reencode_still(img, fmt, transpose, lossless=_webp_lossless(data, kind))
        _check_image_clean(out, fmt)
    except UnsafeFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsafeFile("image_too_large") from None
    except Exception:  # noqa: BLE001 -- see below
        # Pillow reports malformed input with many exception types (OSError for truncation,
        # SyntaxError, ValueError, struct.error, ...); all mean the same to the reporter. The
        # cause is dropped because parser messages may quote bytes of the file into the logs.
        raise UnsafeFile("unreadable_image") from None
    return CleanFile(out, media_type, stripped=True, note="image_reencoded")


def _webp_lossless(data: bytes, kind: str) -> bool:
    # A lossless WebP (a screenshot, usually) stays lossless; the others are re-encoded lossy.
    return kind == "webp" and b"VP8L" in data[12:64]


def _pixels_only(img: Image.Image, keep: Iterable[str] = ()) -> Image.Image:
    """A copy of `img` whose info holds nothing but the rendering keys listed in `keep`.

    Some Pillow encoders fall back to `im.info` for data not passed to `save()` (JPEG takes
    the COM comment from it, PNG the ICC profile), so emptying it is what keeps them out.
    """
    clean = img.copy()
    clean.info = {key: img.info[key] for key in keep if key in img.info}
    return clean


def _reencode_still(img: Image.Image, fmt: str, transpose: bool, *, lossless: bool) -> bytes:
    img.load()
    # Orientation is part of what the photo shows; it must be applied to the pixels before the
    # EXIF block that carries it is dropped. Documents' embedded images are left as stored, since
    # the document's layout was computed for the stored pixels.
    pixels = ImageOps.exif_transpose(img) if transpose else img
    out = io.BytesIO()
    if fmt == "JPEG":
        clean = _pixels_only(pixels)
        if clean.mode not in ("L", "RGB", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=JPEG_QUALITY)
    elif fmt == "WEBP":
        clean = _pixels_only(pixels)
        if lossless:
            clean.save(out, format="WEBP", lossless=True)
        else:
            clean.save(out, format="WEBP", quality=JPEG_QUALITY)
    else:
        # PNG and GIF: transparency is how the picture looks, not who made it.
        _pixels_only(pixels, keep=("transparency",)).save(out, format=fmt)
    return out.getvalue()


def _reencode_animation(img: Image.Image, fmt: str, *, lossless: bool) -> bytes:
    # Frames are composited to RGBA copies first: a copy cannot be re-seeked, so reading the next
    # frame cannot refill its info with the file's comments the way seeking the original does.
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(img):
        durations.append(int(frame.info.get("duration", 100)))
        rgba = frame.convert("RGBA")
        rgba.info = {}
        frames.append(rgba)
    loop = int(img.info.get("loop", 0))
    out = io.BytesIO()
    extra: dict[str, object] = {}
    if fmt == "WEBP":
        extra = {"lossless": True} if lossless else {"quality": JPEG_QUALITY}
    frames[0].save(
        out,
        format=fmt,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=loop,
        **extra,
    )
    return out.getvalue()


def _check_image_clean(data: bytes, fmt: str) -> None:
    # Fail closed: if a Pillow change ever let metadata through, we refuse the file rather than
    # seal it with the reporter's location inside.
    with Image.open(io.BytesIO(data), formats=[fmt]) as img:
        dirty = any(img.info.get(key) for key in _IMAGE_METADATA_KEYS) or len(img.getexif()) > 0
        if fmt == "PNG":
            dirty = dirty or bool(getattr(img, "text", {}))
    if dirty:
        raise UnsafeFile("strip_failed")


# --- PDF ----------------------------------------------------------------------------------------

# Page keys that hold metadata (XMP, application private data, thumbnails) or automatic actions.
_PDF_PAGE_EXCLUDED: Final = ("/Metadata", "/PieceInfo", "/Thumb", "/AA")
# Catalog entries that could reach a fresh writer and would carry metadata or active content.
_PDF_CATALOG_DROPPED: Final = ("/Metadata", "/OpenAction", "/AA", "/AcroForm", "/PieceInfo")
# Link actions that only navigate are kept; JavaScript, Launch, SubmitForm and the rest are not.
_PDF_SAFE_ACTIONS: Final = frozenset({"/GoTo", "/URI", "/Named"})
# Annotations that carry files or media, i.e. embedded files by another name.
_PDF_DROPPED_ANNOTATIONS: Final = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
_PDF_MAX_DEPTH: Final = 8


def _strip_pdf(data: bytes) -> CleanFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            # Opened only with a password we do not have: we cannot see, let alone strip, it.
            raise UnsafeFile("encrypted_pdf")
        pages = len(reader.pages)
        if pages == 0:
            raise UnsafeFile("unreadable_pdf")
        writer = PdfWriter()
        for page in reader.pages:
            copy = writer.add_page(page, excluded_keys=_PDF_PAGE_EXCLUDED)
            _scrub_pdf_page(copy)
        # A new writer starts with /Info holding only its /Producer; None removes /Info entirely.
        writer.metadata = None
        root = writer.root_object
        for key in _PDF_CATALOG_DROPPED:
            root.pop(NameObject(key), None)
        names = root.get("/Names")
        if isinstance(names, PdfObject):
            names_dict = names.get_object()
            if isinstance(names_dict, DictionaryObject):
                names_dict.pop(NameObject("/JavaScript"), None)
                names_dict.pop(NameObject("/EmbeddedFiles"), None)
        # A fresh random /ID: the original's would link this copy to the file on the reporter's
        # own machine.
        writer.generate_file_identifiers()
        out = io.BytesIO()
        writer.write(out)
        result = out.getvalue()
        _check_pdf_clean(result, pages)
    except UnsafeFile:
        raise
    except Exception:  # noqa: BLE001 -- see below
        # pypdf signals malformed input with many exception types; all mean "cannot process".
        # The cause is dropped because pypdf messages quote bytes of the file.
        raise UnsafeFile("unreadable_pdf") from None
    return CleanFile(result, "application/pdf", stripped=True, note="pdf_rebuilt")


def _scrub_pdf_page(page: DictionaryObject) -> None:
    annots = page.get("/Annots")
    annots_list = annots.get_object() if isinstance(annots, PdfObject) else None
    if isinstance(annots_list, ArrayObject):
        kept = ArrayObject()
        for ref in annots_list:
            annot = ref.get_object()
            if not isinstance(annot, DictionaryObject):
                continue
            if annot.get("/Subtype") in _PDF_DROPPED_ANNOTATIONS:
                continue
            annot.pop(NameObject("/AA"), None)
            action = annot.get("/A")
            if action is not None:
                action_dict = action.get_object()
                if (
                    not isinstance(action_dict, DictionaryObject)
                    or action_dict.get("/S") not in _PDF_SAFE_ACTIONS
                ):
                    annot.pop(NameObject("/A"), None)
                else:
                    # A safe action can chain to an unsafe one.
                    action_dict.pop(NameObject("/Next"), None)
            kept.append(ref)
        page[NameObject("/Annots")] = kept
    elif annots is not None:
        page.pop(NameObject("/Annots"), None)
    _scrub_pdf_resources(page.get("/Resources"), 0, set())


def _scrub_pdf_resources(resources: object, depth: int, seen: set[int]) -> None:
    # Image and form XObjects can carry their own XMP packet; forms nest, so recurse with a bound
    # and a visited set against reference cycles.
    if depth > _PDF_MAX_DEPTH or not isinstance(resources, PdfObject):
        return
    resources_dict = resources.get_object()
    if not isinstance(resources_dict, DictionaryObject):
        return
    xobjects = resources_dict.get("/XObject")
    if not isinstance(xobjects, PdfObject):
        return
    xobjects_dict = xobjects.get_object()
    if not isinstance(xobjects_dict, DictionaryObject):
        return
    for ref in xobjects_dict.values():
        xobject = ref.get_object()
        if not isinstance(xobject, DictionaryObject) or id(xobject) in seen:
            continue
        seen.add(id(xobject))
        xobject.pop(NameObject("/Metadata"), None)
        xobject.pop(NameObject("/PieceInfo"), None)
        if xobject.get("/Subtype") == "/Form":
            _scrub_pdf_resources(xobject.get("/Resources"), depth + 1, seen)


def _check_pdf_clean(data: bytes, pages: int) -> None:
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"].get_object()
    dirty = (
        not isinstance(root, DictionaryObject)
        or "/Info" in reader.trailer
        or any(key in root for key in _PDF_CATALOG_DROPPED)
        or len(reader.pages) != pages
    )
    if dirty:
        raise UnsafeFile("strip_failed")


# --- OOXML and ODF archives ---------------------------------------------------------------------

_CORE_BLANK: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_APP_BLANK: Final = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'docPropsVTypes"/>'
)
_ODF_META_BLANK: Final = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.2">'
    b"<office:meta/></office:document-meta>"
)

_REL_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS: Final = "http://schemas.openxmlformats.org/package/2006/content-types"
_MANIFEST_NS: Final = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
# Serialize the rewritten ODF manifest with its customary prefix, not ElementTree's `ns0`. This
# registry is process-wide, but it only chooses a prefix for this one namespace.
ElementTree.register_namespace("manifest", _MANIFEST_NS)
_REL_CORE: Final = "/metadata/core-properties"
_REL_APP: Final = "/extended-properties"
_REL_DROPPED: Final = ("/custom-properties", "/metadata/thumbnail")

_OOXML_TYPES: Final = (
    # (main part, type, macro-enabled type)
    (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-word.document.macroEnabled.12",
    ),
    (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroEnabled.12",
    ),
    (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ),
)
_ODF_MIMETYPE: Final = re.compile(rb"application/vnd\.oasis\.opendocument\.[a-z][a-z.\-]{0,60}")
_MEDIA_DIRS: Final = ("word/media/", "xl/media/", "ppt/media/", "pictures/")


def _strip_zip(data: bytes) -> CleanFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise UnsafeFile("unreadable_archive") from None
    # OPC part names are case-insensitive, so two names differing only in case are the same part
    # to Office, and a duplicate would let one copy slip past a rewrite of the other.
    by_name = {info.filename.lower(): info for info in infos}
    if len(by_name) != len(infos):
        raise UnsafeFile("archive_duplicate_names")

    if "[content_types].xml" in by_name:
        _check_zip_limits(infos)
        return _rewrite_ooxml(archive, infos, by_name)
    mimetype = by_name.get("mimetype")
    if mimetype is not None and mimetype.file_size <= 128:
        declared = _read_member(archive, mimetype, _Budget()).strip()
        if _ODF_MIMETYPE.fullmatch(declared):
            _check_zip_limits(infos)
            return _rewrite_odf(archive, infos, by_name, declared.decode("ascii"))
    # Some other zip (an archive of files, an EPUB, ...): we do not know its metadata.
    return CleanFile(data, _UNKNOWN_TYPE, stripped=False, note="unknown_type")


def _check_zip_limits(infos: list[zipfile.ZipInfo]) -> None:
    # Declared sizes come from the central directory; zipfile never inflates a member beyond its
    # declared size, and _read_member counts the real bytes too, so a lying header cannot help.
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UnsafeFile("archive_too_many_entries")
    if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED:
        raise UnsafeFile("archive_too_large")
    for info in infos:
        if info.file_size > ZIP_RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise UnsafeFile("archive_ratio")


class _Budget:
    """Uncompressed bytes still allowed while rewriting one archive."""

    def __init__(self) -> None:
        self.left = MAX_ZIP_UNCOMPRESSED


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    chunks: list[bytes] = []
    try:
        with archive.open(info) as member:
            while chunk := member.read(64 * 1024):
                budget.left -= len(chunk)
                if budget.left < 0:
                    raise UnsafeFile("archive_too_large")
                chunks.append(chunk)
    except UnsafeFile:
        raise
    except Exception:  # noqa: BLE001 -- see below
        # Bad CRC, unsupported compression, encryption, truncated data: zipfile and the
        # decompressors raise a different type for each, and all mean "cannot process".
        raise UnsafeFile("unreadable_archive") from None
    return b"".join(chunks)


def _parse_package_xml(raw: bytes) -> ElementTree.Element:
    # Entity declarations are refused outright (OPC forbids DTDs; ODF manifests never declare
    # entities). ElementTree never fetches external entities, and expat >= 2.4 (Python 3.11
    # bundles 2.5) bounds entity amplification, so parsing what is left is safe.
    if len(raw) > MAX_PACKAGE_XML or b"<!ENTITY" in raw:
        raise UnsafeFile("archive_bad_xml")
    try:
        return ElementTree.fromstring(raw)  # noqa: S314 -- safe as explained above
    except ElementTree.ParseError:
        raise UnsafeFile("archive_bad_xml") from None


_XML_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def _serialize_opc(root: ElementTree.Element, namespace: str) -> bytes:
    """Write back a flat OPC part (relationships, content types) in its usual textual form.

    ElementTree would rename the default namespace to `ns0:`, which strict OPC readers may not
    expect. These parts are a root holding empty elements with plain attributes; anything else
    is refused rather than guessed at.
    """
    prefix = f"{{{namespace}}}"

    def local(element: ElementTree.Element) -> str:
        if not element.tag.startswith(prefix) or any(key.startswith("{") for key in element.attrib):
            raise UnsafeFile("archive_bad_xml")
        return element.tag[len(prefix) :]

    root_name = local(root)
    if root.attrib:
        raise UnsafeFile("archive_bad_xml")
    lines = [_XML_DECLARATION, f'<{root_name} xmlns="{namespace}">']
    for child in root:
        if len(child):
            raise UnsafeFile("archive_bad_xml")
        attributes = "".join(
            f' {key}="{_xml_attribute(value)}"' for key, value in child.attrib.items()
        )
        lines.append(f"<{local(child)}{attributes}/>")
    lines.append(f"</{root_name}>")
    return "".join(lines).encode("utf-8")


def _xml_attribute(value: str) -> str:
    for char, reference in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        ('"', "&quot;"),
        ("\t", "&#9;"),
        ("\n", "&#10;"),
        ("\r", "&#13;"),
    ):
        value = value.replace(char, reference)
    return value


def _part_name(target: str) -> str:
    # Package-level relationship targets and content-type part names are relative to, or absolute
    # from, the package root; both reduce to a lower-case zip member name (OPC names ignore case).
    path = target.lstrip("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if parts:
                parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
    return "/".join(parts).lower()


def _rewrite_ooxml(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    by_name: dict[str, zipfile.ZipInfo],
) -> CleanFile:
    budget = _Budget()
    blank: dict[str, bytes] = {"docprops/core.xml": _CORE_BLANK, "docprops/app.xml": _APP_BLANK}
    dropped = {"docprops/custom.xml"}
    dropped.update(
        name for name in by_name if name.startswith("docprops/thumbnail") and "/" not in name[9:]
    )
    replaced: dict[str, bytes] = {}

    # The package relationships name the real property parts; the fixed names above only cover
    # files whose relationships we could not read.
    rels_info = by_name.get("_rels/.rels")
    if rels_info is not None:
        rels = _parse_package_xml(_read_member(archive, rels_info, budget))
        for rel in list(rels):
            kind = rel.get("Type", "")
            if rel.get("TargetMode") == "External":
                continue
            target = _part_name(rel.get("Target", ""))
            if kind.endswith(_REL_CORE):
                blank[target] = _CORE_BLANK
            elif kind.endswith(_REL_APP):
                blank[target] = _APP_BLANK
            elif kind.endswith(_REL_DROPPED):
                dropped.add(target)
        for rel in list(rels):
            if _part_name(rel.get("Target", "")) in dropped:
                rels.remove(rel)
        replaced["_rels/.rels"] = _serialize_opc(rels, _REL_NS)

    # Office refuses a package whose content types name a part that is missing.
    types = _parse_package_xml(_read_member(archive, by_name["[content_types].xml"], budget))
    for override in list(types):
        if _part_name(override.get("PartName", "")) in dropped:
            types.remove(override)
    replaced["[content_types].xml"] = _serialize_opc(types, _CT_NS)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as result:
        for info in infos:
            name = info.filename.lower()
            if name in dropped:
                continue
            if name in replaced:
                content = replaced[name]
            elif name in blank:
                content = blank[name]
            else:
                content = _clean_member(name, _read_member(archive, info, budget))
            _write_member(result, info.filename, content, zipfile.ZIP_DEFLATED)

    macro = any(name.endswith("vbaproject.bin") for name in by_name)
    content_type = "application/zip"
    for main_part, plain, macro_enabled in _OOXML_TYPES:
        if main_part in by_name:
            content_type = macro_enabled if macro else plain
            break
    return CleanFile(out.getvalue(), content_type, stripped=True, note="office_properties_removed")


def _rewrite_odf(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    by_name: dict[str, zipfile.ZipInfo],
    mimetype: str,
) -> CleanFile:
    budget = _Budget()
    dropped = {name for name in by_name if name.startswith("thumbnails/")}
    replaced: dict[str, bytes] = {"meta.xml": _ODF_META_BLANK}

    manifest_info = by_name.get("meta-inf/manifest.xml")
    if manifest_info is not None:
        manifest = _parse_package_xml(_read_member(archive, manifest_info, budget))
        path_key = f"{{{_MANIFEST_NS}}}full-path"
        for entry in list(manifest):
            if entry.get(path_key, "").lower().startswith("thumbnails/"):
                manifest.remove(entry)
        replaced["meta-inf/manifest.xml"] = bytes(
            ElementTree.tostring(manifest, encoding="utf-8", xml_declaration=True)
        )

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as result:
        # ODF requires `mimetype` first and stored uncompressed, so readers can sniff it.
        _write_member(result, "mimetype", mimetype.encode("ascii"), zipfile.ZIP_STORED)
        for info in infos:
            name = info.filename.lower()
            if name == "mimetype" or name in dropped:
                continue
            if name in replaced:
                content = replaced[name]
            else:
                content = _clean_member(name, _read_member(archive, info, budget))
            _write_member(result, info.filename, content, zipfile.ZIP_DEFLATED)
    return CleanFile(out.getvalue(), mimetype, stripped=True, note="odf_meta_removed")


def _clean_member(name: str, content: bytes) -> bytes:
    # Photos pasted into a document keep their EXIF, GPS included; strip them like uploads.
    if name.startswith(_MEDIA_DIRS):
        kind = _sniff(content)
        if kind in _IMAGE_KINDS:
            return _strip_image(content, kind, transpose=False).data
    return content


def _write_member(result: zipfile.ZipFile, name: str, content: bytes, compression: int) -> None:
    # A fresh ZipInfo drops the original's timestamps, comments, permissions and extra fields
    # (which may hold NTFS times or Unix owner ids).
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = compression
    result.writestr(info, content)


# --- download names -----------------------------------------------------------------------------

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
