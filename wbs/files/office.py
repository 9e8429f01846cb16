"""Office documents: OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp) archives.

They are rewritten with blank document properties (author, company, editing times), without
custom properties or thumbnails, and with every member's time set to the ZIP epoch, after
zip-bomb checks. Photos embedded in them are stripped like standalone images. Any other zip is
handed on unchanged, marked as not stripped.

Document *content* is kept, including comments and tracked changes (with their authors),
template paths and printer settings: a known limit, see SECURITY.md.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final
from xml.etree import ElementTree

from wbs.files.common import UNKNOWN_TYPE, CleanFile, UnsafeFile, sniff
from wbs.files.images import IMAGE_KINDS, strip_image

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


def strip_zip(data: bytes) -> CleanFile:
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
    return CleanFile(data, UNKNOWN_TYPE, stripped=False, note="unknown_type")


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
        kind = sniff(content)
        if kind in IMAGE_KINDS:
            return bytes(strip_image(content, kind, transpose=False).data)
    return content


def _write_member(result: zipfile.ZipFile, name: str, content: bytes, compression: int) -> None:
    # A fresh ZipInfo drops the original's timestamps, comments, permissions and extra fields
    # (which may hold NTFS times or Unix owner ids).
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = compression
    result.writestr(info, content)

