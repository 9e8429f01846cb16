"""PDF: rebuilt page by page into a fresh document.

The new document has no document information, XMP, scripts, automatic actions, form fields or
embedded files, and a fresh random /ID. Page content is kept as it is (JPEG images inside keep
their own EXIF: a known limit, see SECURITY.md).

A 2.5 MB PDF can hold 20,000 blank pages, and rebuilding each one costs time: the page count is
read from the page tree's root before any page is copied, and counted again while copying (a
lying /Count does not help), against a cap far above what a report's evidence needs.
"""

from __future__ import annotations

import io
from typing import Final

from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, PdfObject

from wbs.files.common import CleanFile, UnsafeFile

# A whole budget document (APBD) with its annexes stays under this; a bomb does not.
MAX_PDF_PAGES: Final = 2_000

# Page keys that hold metadata (XMP, application private data, thumbnails) or automatic actions.
_PDF_PAGE_EXCLUDED: Final = ("/Metadata", "/PieceInfo", "/Thumb", "/AA")
# Catalog entries that could reach a fresh writer and would carry metadata or active content.
# /Names holds document scripts and embedded files (a fresh writer has none, and the check after
# writing refuses any that appear).
_PDF_CATALOG_DROPPED: Final = ("/Metadata", "/OpenAction", "/AA", "/AcroForm", "/PieceInfo",
                               "/Names")
# Link actions that only navigate are kept; JavaScript, Launch, SubmitForm and the rest are not.
_PDF_SAFE_ACTIONS: Final = frozenset({"/GoTo", "/URI", "/Named"})
# Annotations that carry files or media, i.e. embedded files by another name.
_PDF_DROPPED_ANNOTATIONS: Final = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
_PDF_MAX_DEPTH: Final = 8


def strip_pdf(data: bytes) -> CleanFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            # Opened only with a password we do not have: we cannot see, let alone strip, it.
            raise UnsafeFile("encrypted_pdf")
        pages = _page_count(reader)
        writer = PdfWriter()
        for page in reader.pages:
            # Scrubbed before it is copied: the writer copies every object a page references
            # and writes each one, referenced or not, so an annotation dropped after the copy
            # (a file attachment, with the attached file) would still be in the output.
            _scrub_pdf_page(page)
            writer.add_page(page, excluded_keys=_PDF_PAGE_EXCLUDED)
        # A new writer starts with /Info holding only its /Producer; None removes /Info entirely.
        writer.metadata = None
        root = writer.root_object
        for key in _PDF_CATALOG_DROPPED:
            root.pop(NameObject(key), None)
        # A fresh random /ID: the original's would link this copy to the file on the reporter's
        # own machine.
        writer.generate_file_identifiers()
        out = io.BytesIO()
        writer.write(out)
        result = out.getvalue()
        _check_pdf_clean(result, pages)
    except UnsafeFile:
        raise
    except MemoryError:
        raise UnsafeFile("file_too_complex") from None
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


def _page_count(reader: PdfReader) -> int:
    """The number of pages, refused over the cap before the page tree is walked."""
    root = reader.trailer["/Root"].get_object()
    pages_root = root["/Pages"].get_object() if isinstance(root, DictionaryObject) else None
    declared = pages_root.get("/Count") if isinstance(pages_root, DictionaryObject) else None
    if isinstance(declared, int) and declared > MAX_PDF_PAGES:
        raise UnsafeFile("pdf_too_many_pages")
    # pypdf counts by walking the real tree (flattening it), so a /Count that lies is caught
    # here; the worker's CPU limit bounds that walk.
    count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise UnsafeFile("pdf_too_many_pages")
    if count == 0:
        raise UnsafeFile("unreadable_pdf")
    return count
