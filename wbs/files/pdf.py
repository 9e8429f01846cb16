"""PDF: rebuilt page by page into a fresh document.

The new document has no document information, XMP, scripts, automatic actions, form fields or
embedded files, and a fresh random /ID. Page content is kept as it is (JPEG images inside keep
their own EXIF: a known limit, see SECURITY.md). Pages, annotations, resources and images are
copied by allow-list, and the written file is refused if any object in it still holds a script,
a launch, an embedded file, media or an XML form.

A 2.5 MB PDF can hold 20,000 blank pages, and rebuilding each one costs time: the page count is
read from the page tree's root before any page is copied, and counted again while copying (a
lying /Count does not help), against a cap far above what a report's evidence needs.
"""

from __future__ import annotations

import io
from typing import Final

from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from wbs.files.common import CleanFile, UnsafeFile

# A whole budget document (APBD) with its annexes stays under this; a bomb does not.
MAX_PDF_PAGES: Final = 2_000

# Page keys copied; everything else (XMP, application private data, thumbnails, automatic
# actions, transitions, and any key an editor makes up, which can reach an attached file) is
# dropped. Inherited keys are already on each page: the reader flattens the page tree.
_PDF_PAGE_KEYS: Final = frozenset({
    "/Type", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit",
    "/Resources", "/Contents", "/Annots", "/Group",
})
# Still passed to the writer, which leaves these out of every object it copies.
_PDF_PAGE_EXCLUDED: Final = ("/Metadata", "/PieceInfo", "/Thumb", "/AA")
# Catalog entries that could reach a fresh writer and would carry metadata or active content.
# /Names holds document scripts and embedded files (a fresh writer has none, and the check after
# writing refuses any that appear).
_PDF_CATALOG_DROPPED: Final = ("/Metadata", "/OpenAction", "/AA", "/AcroForm", "/PieceInfo",
                               "/Names")
# Link actions that only navigate are kept, rebuilt with the one entry each needs; JavaScript,
# Launch, SubmitForm and the rest are not.
_PDF_SAFE_ACTIONS: Final = {"/GoTo": "/D", "/URI": "/URI", "/Named": "/N"}
# Annotations that carry files or media, i.e. embedded files by another name.
_PDF_DROPPED_ANNOTATIONS: Final = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
# A kept annotation is rebuilt from these keys only (no author /T, dates, /Parent field, /AA, ...).
_PDF_ANNOT_KEYS: Final = frozenset({
    "/Type", "/Subtype", "/Rect", "/Contents", "/F", "/Border", "/BS", "/C", "/H", "/QuadPoints",
    "/AP", "/AS",
})
_PDF_RESOURCE_KEYS: Final = frozenset({
    "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/XObject", "/Font", "/ProcSet",
    "/Properties",
})
_PDF_STREAM_KEYS: Final = frozenset({"/Length", "/Filter", "/DecodeParms"})
_PDF_IMAGE_KEYS: Final = _PDF_STREAM_KEYS | {
    "/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/BitsPerComponent", "/Intent",
    "/ImageMask", "/Mask", "/Decode", "/Interpolate", "/SMask", "/SMaskInData", "/Matte", "/OC",
}
_PDF_FORM_KEYS: Final = _PDF_STREAM_KEYS | {
    "/Type", "/Subtype", "/FormType", "/BBox", "/Matrix", "/Resources", "/Group", "/OC",
}
_PDF_GROUP_KEYS: Final = frozenset({"/Type", "/S", "/CS", "/I", "/K"})
# Refused anywhere in the written file, as a dictionary key or as a name: scripts, launches,
# attached and embedded files, media and XML forms. The copy above should never let one through;
# this check makes a gap in it refuse the file instead of publishing it.
_PDF_FORBIDDEN_KEYS: Final = frozenset({
    "/JS", "/JavaScript", "/EF", "/RF", "/EmbeddedFiles", "/RichMediaContent", "/XFA", "/AA",
    "/OpenAction",
})
_PDF_FORBIDDEN_NAMES: Final = frozenset({
    "/JavaScript", "/Launch", "/EmbeddedFile", "/FileAttachment", "/RichMedia", "/SubmitForm",
    "/ImportData", "/GoToE", "/GoToR", "/Sound", "/Movie", "/Screen", "/3D", "/Rendition",
    "/Filespec",
}) | _PDF_FORBIDDEN_KEYS
_PDF_MAX_DEPTH: Final = 8


def strip_pdf(data: bytes) -> CleanFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            # Opened only with a password we do not have: we cannot see, let alone strip, it.
            raise UnsafeFile("encrypted_pdf")
        pages = _page_count(reader)
        # Every page is cut down before any is copied: the writer copies every object a page
        # references and writes each one, referenced or not, so anything left on a page at copy
        # time is in the output.
        seen: set[int] = set()
        annotations = [_scrub_pdf_page(page, seen) for page in reader.pages]
        writer = PdfWriter()
        targets: dict[tuple[int, int], IndirectObject] = {}
        for page in reader.pages:
            # Without its annotations: a link's destination is another page, and copying it
            # with the link would copy that page's original dictionary (every key of it) as well.
            copied = writer.add_page(page, excluded_keys=(*_PDF_PAGE_EXCLUDED, "/Annots"))
            source = page.indirect_reference
            if source is not None and copied.indirect_reference is not None:
                targets[(source.idnum, source.generation)] = copied.indirect_reference
        for copied, kept in zip(writer.pages, annotations, strict=True):
            if kept:
                copied[NameObject("/Annots")] = ArrayObject(
                    _copy_annotation(annot, writer, targets) for annot in kept)
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


def _keep_only(obj: DictionaryObject, keys: frozenset[str]) -> None:
    for key in [k for k in obj if k not in keys]:
        del obj[key]


def _dict(obj: object) -> DictionaryObject | None:
    resolved = obj.get_object() if isinstance(obj, PdfObject) else None
    return resolved if isinstance(resolved, DictionaryObject) else None


def _scrub_pdf_page(page: DictionaryObject, seen: set[int]) -> list[DictionaryObject]:
    """Cut the page down to its allowed keys; its kept annotations, rebuilt, are returned."""
    annots = page.get("/Annots")
    annots_list = annots.get_object() if isinstance(annots, PdfObject) else None
    kept: list[DictionaryObject] = []
    if isinstance(annots_list, ArrayObject):
        for ref in annots_list:
            annot = _rebuilt_annotation(ref, seen)
            if annot is not None:
                kept.append(annot)
    _keep_only(page, _PDF_PAGE_KEYS - {"/Annots"})
    contents = page.get("/Contents")
    streams = contents.get_object() if isinstance(contents, PdfObject) else None
    for stream in streams if isinstance(streams, ArrayObject) else [contents]:
        stream_dict = _dict(stream)
        if stream_dict is not None:
            _keep_only(stream_dict, _PDF_STREAM_KEYS)
    group = _dict(page.get("/Group"))
    if group is not None:
        _keep_only(group, _PDF_GROUP_KEYS)
    _set_resources(page, 0, seen)
    return kept


def _rebuilt_annotation(ref: object, seen: set[int]) -> DictionaryObject | None:
    """A fresh annotation holding only the allowed keys of the original, or None to drop it."""
    annot = _dict(ref)
    if annot is None or annot.get("/Subtype") in _PDF_DROPPED_ANNOTATIONS:
        return None
    rebuilt = DictionaryObject({NameObject(k): v for k, v in annot.items() if k in _PDF_ANNOT_KEYS})
    action = _dict(annot.get("/A"))
    kind = action.get("/S") if action is not None else None
    if action is not None and isinstance(kind, str) and kind in _PDF_SAFE_ACTIONS:
        # Only the navigation target: no /Next (a safe action can chain to an unsafe one).
        target = _PDF_SAFE_ACTIONS[kind]
        safe = DictionaryObject({NameObject("/S"): NameObject(kind)})
        if target in action:
            safe[NameObject(target)] = action[target]
        rebuilt[NameObject("/A")] = safe
    if "/Dest" in annot:
        rebuilt[NameObject("/Dest")] = annot["/Dest"]
    appearances = _dict(rebuilt.get("/AP"))
    if appearances is not None:
        # Normal, rollover and down appearances: a form each, or a dictionary of states to forms.
        _keep_only(appearances, frozenset({"/N", "/R", "/D"}))
        for value in appearances.values():
            states = _dict(value)
            if states is not None and not isinstance(states.get_object(), StreamObject):
                for key in [k for k, v in states.items() if not _scrub_xobject(v, 1, seen)]:
                    del states[key]
            elif not _scrub_xobject(value, 1, seen):
                return None
    return rebuilt


def _copy_annotation(annot: DictionaryObject, writer: PdfWriter,
                     targets: dict[tuple[int, int], IndirectObject]) -> DictionaryObject:
    """The rebuilt annotation copied into the writer, its destination pointing at a copied page
    (or dropped: a named one has no /Names left to look it up in)."""
    dest = annot.pop(NameObject("/Dest"), None)
    action = annot.get("/A")
    goto = None
    if isinstance(action, DictionaryObject) and action.get("/S") == "/GoTo":
        goto = action.pop(NameObject("/D"), None)
    copied = annot.clone(writer, False, (*_PDF_PAGE_EXCLUDED, "/Parent", "/Annots"))
    if dest is not None and (translated := _destination(dest, targets)) is not None:
        copied[NameObject("/Dest")] = translated
    copied_action = copied.get("/A")
    if isinstance(copied_action, DictionaryObject) and copied_action.get("/S") == "/GoTo":
        translated = _destination(goto, targets)
        if translated is None:
            del copied[NameObject("/A")]
        else:
            copied_action[NameObject("/D")] = translated
    return copied


def _destination(dest: object, targets: dict[tuple[int, int], IndirectObject]
                 ) -> ArrayObject | None:
    """An explicit destination on one of the copied pages: the page, then numbers and names."""
    array = dest.get_object() if isinstance(dest, PdfObject) else None
    if not isinstance(array, ArrayObject) or not array:
        return None
    page = array[0]
    target = (targets.get((page.idnum, page.generation))
              if isinstance(page, IndirectObject) else None)
    if target is None:
        return None
    rest = [item for item in array[1:]
            if isinstance(item, (NumberObject, FloatObject, NameObject, NullObject))]
    return ArrayObject([target, *rest])


def _set_resources(owner: DictionaryObject, depth: int, seen: set[int]) -> None:
    # Image and form XObjects can carry their own XMP packet or any made-up key; forms nest, so
    # recurse with a bound and a visited set against reference cycles.
    resources = _dict(owner.get("/Resources"))
    if resources is None:
        owner.pop(NameObject("/Resources"), None)
        return
    if depth > _PDF_MAX_DEPTH:
        return
    rebuilt = DictionaryObject(
        {NameObject(k): v for k, v in resources.items() if k in _PDF_RESOURCE_KEYS})
    xobjects = _dict(rebuilt.get("/XObject"))
    if xobjects is not None:
        rebuilt[NameObject("/XObject")] = DictionaryObject(
            {NameObject(k): v for k, v in xobjects.items() if _scrub_xobject(v, depth, seen)})
    owner[NameObject("/Resources")] = rebuilt


def _scrub_xobject(ref: object, depth: int, seen: set[int]) -> bool:
    """Cut an image or form XObject down to its allowed keys; False if it is neither."""
    xobject = ref.get_object() if isinstance(ref, PdfObject) else None
    if not isinstance(xobject, StreamObject):
        return False
    subtype = xobject.get("/Subtype")
    if subtype not in ("/Image", "/Form"):
        return False
    if id(xobject) in seen:
        return True
    seen.add(id(xobject))
    if subtype == "/Image":
        _keep_only(xobject, _PDF_IMAGE_KEYS)
        for mask in ("/SMask", "/Mask"):
            if isinstance(_dict(xobject.get(mask)), StreamObject) and not _scrub_xobject(
                    xobject[mask], depth, seen):
                del xobject[mask]
    else:
        _keep_only(xobject, _PDF_FORM_KEYS)
        group = _dict(xobject.get("/Group"))
        if group is not None:
            _keep_only(group, _PDF_GROUP_KEYS)
        _set_resources(xobject, depth + 1, seen)
    return True


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
    # Every object in the file, referenced or not, not only what the catalog reaches.
    numbers = [(num, gen) for gen, table in reader.xref.items() for num in table]
    numbers += [(num, 0) for num in reader.xref_objStm]
    for num, gen in numbers:
        if _holds_forbidden(reader.get_object(IndirectObject(num, gen, reader))):
            raise UnsafeFile("strip_failed")


def _holds_forbidden(obj: object) -> bool:
    # Direct objects only: each indirect one is visited on its own above.
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, DictionaryObject):
            if any(key in _PDF_FORBIDDEN_KEYS for key in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and item in _PDF_FORBIDDEN_NAMES:
            return True
    return False


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
