"""Images (JPEG, PNG, GIF, WebP): decoded and re-encoded from pixels alone.

Rebuilding from pixels drops every metadata block at once, known or not (EXIF with GPS, XMP,
comments, ICC profiles that name a camera), and also breaks polyglot files that hide another
format inside an image. The EXIF orientation is applied to the pixels first, since it is part of
what the photo shows.

Decoding is where a small file can cost a lot: an 8944 x 8944 PNG of 310 KB needs 240 MB of
pixels and more to re-encode. The pixel count is checked from the header before any pixel is
decoded, against a cap that still covers a 48-megapixel phone photo; Pillow's own bomb check is
set to the same cap in the sandboxed worker (where it is the only user of that process-wide
setting), so images inside documents and animation frames obey it too.
"""

from __future__ import annotations

import io
from typing import Final

from PIL import Image, ImageOps, ImageSequence, features

from wbs.files.common import CleanFile, UnsafeFile

# 50 megapixels: a 48-megapixel phone photo (8064 x 6048) passes, an 8944 x 8944 bomb does not.
# Re-encoding one at the cap needs about 150 MB per copy of its pixels, well inside the worker's
# memory limit.
MAX_IMAGE_PIXELS: Final = 50_000_000
MAX_FRAMES: Final = 1_000
JPEG_QUALITY: Final = 92

# kind -> (Pillow format, media type)
IMAGE_KINDS: Final = {
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "gif": ("GIF", "image/gif"),
    "webp": ("WEBP", "image/webp"),
}
# Info keys that can carry identifying data; none may survive the rewrite.
_IMAGE_METADATA_KEYS: Final = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile")


def strip_image(data: bytes, kind: str, *, transpose: bool) -> CleanFile:
    fmt, media_type = IMAGE_KINDS[kind]
    if kind == "webp" and not features.check("webp"):
        return CleanFile(data, media_type, stripped=False, note="unsupported_image")
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            # `size` comes from the header: nothing has been decoded yet.
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
        check_image_clean(out, fmt)
    except UnsafeFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsafeFile("image_too_large") from None
    except MemoryError:
        # The worker's address-space limit: the file is within the caps but too costly.
        raise UnsafeFile("file_too_complex") from None
    except Exception:  # noqa: BLE001 -- see below
        # Pillow reports malformed input with many exception types (OSError for truncation,
        # SyntaxError, ValueError, struct.error, ...); all mean the same to the reporter. The
        # cause is dropped because parser messages may quote bytes of the file into the logs.
        raise UnsafeFile("unreadable_image") from None
    return CleanFile(out, media_type, stripped=True, note="image_reencoded")


_WEBP_MAX_CHUNKS: Final = 64


def _webp_lossless(data: bytes, kind: str) -> bool:
    """Whether the first image of a WebP is lossless (a screenshot, usually): it stays lossless,
    the others are re-encoded lossy. The first image chunk decides; in an extended file it may
    follow an ICC profile, and in an animation it sits inside the first frame (ANMF)."""
    if kind != "webp":
        return False
    at, end = 12, len(data)
    for _ in range(_WEBP_MAX_CHUNKS):
        if at + 8 > end:
            break
        fourcc, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if fourcc in (b"VP8L", b"VP8 "):
            return fourcc == b"VP8L"
        if fourcc == b"ANMF":
            # The frame's own chunks follow its 16-byte header: look inside.
            at, end = at + 8 + 16, min(end, at + 8 + size)
            continue
        at += 8 + size + (size & 1)
    return False


def _pixels_only(img: Image.Image, keep: tuple[str, ...] = ()) -> Image.Image:
    """`img` itself, its info emptied of everything but the rendering keys listed in `keep`.

    Some Pillow encoders fall back to `im.info` for data not passed to `save()` (JPEG takes
    the COM comment from it, PNG the ICC profile), so emptying it is what keeps them out. The
    image is ours (opened here), so no copy of its pixels is made.
    """
    img.info = {key: img.info[key] for key in keep if key in img.info}
    return img


def _reencode_still(img: Image.Image, fmt: str, transpose: bool, *, lossless: bool) -> bytes:
    img.load()
    # Orientation is part of what the photo shows; it must be applied to the pixels before the
    # EXIF block that carries it is dropped. Documents' embedded images are left as stored, since
    # the document's layout was computed for the stored pixels. In place: one copy of the
    # pixels fewer, which matters at 50 megapixels.
    if transpose:
        ImageOps.exif_transpose(img, in_place=True)
    out = io.BytesIO()
    if fmt == "JPEG":
        # Pillow opens a JPEG as L, RGB or CMYK only: each saves as JPEG as it is.
        _pixels_only(img).save(out, format="JPEG", quality=JPEG_QUALITY)
    elif fmt == "WEBP":
        clean = _pixels_only(img)
        if lossless:
            clean.save(out, format="WEBP", lossless=True)
        else:
            clean.save(out, format="WEBP", quality=JPEG_QUALITY)
    else:
        # PNG and GIF: transparency is how the picture looks, not who made it.
        _pixels_only(img, keep=("transparency",)).save(out, format=fmt)
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


def check_image_clean(data: bytes, fmt: str) -> None:
    # Fail closed: if a Pillow change ever let metadata through, we refuse the file rather than
    # seal it with the reporter's location inside.
    with Image.open(io.BytesIO(data), formats=[fmt]) as img:
        dirty = any(img.info.get(key) for key in _IMAGE_METADATA_KEYS) or len(img.getexif()) > 0
        if fmt == "PNG":
            dirty = dirty or bool(getattr(img, "text", {}))
    if dirty:
        raise UnsafeFile("strip_failed")
