"""Images at the edges: lossless WebP stays lossless, animations are re-encoded frame by frame
under the frame cap, a CMYK photo keeps its colour model, and the final check fails closed."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.unit.files.test_cleaning import canary, jpeg_with_metadata, two_tone
from wbs.files import UnsafeFile, images, strip_metadata

__all__ = ["canary"]  # the fixture, imported for these tests


def _webp(frames: int, *, lossless: bool) -> bytes:
    out = io.BytesIO()
    first, *rest = [two_tone().rotate(90 * i) for i in range(frames)]
    first.save(out, "WEBP", save_all=frames > 1, append_images=rest, lossless=lossless,
               exif=Image.Exif(), duration=80, loop=0)
    return out.getvalue()


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_keeps_its_compression_still_and_animated(lossless: bool) -> None:
    for frames in (1, 3):
        clean = strip_metadata(_webp(frames, lossless=lossless), "gambar.webp", "image/webp")
        assert (clean.content_type, clean.note) == ("image/webp", "image_reencoded")
        assert (b"VP8L" in clean.data) is lossless, (frames, lossless)
        with Image.open(io.BytesIO(clean.data)) as result:
            assert getattr(result, "n_frames", 1) == frames


def test_an_animation_over_the_frame_cap_is_refused_before_decoding() -> None:
    frames = [Image.new("L", (2, 2), (i % 2) * 255) for i in range(images.MAX_FRAMES + 1)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=20)
    with Image.open(io.BytesIO(out.getvalue())) as sent:
        assert sent.n_frames == images.MAX_FRAMES + 1
    with pytest.raises(UnsafeFile) as refused:
        strip_metadata(out.getvalue(), "animasi.gif", "image/gif")
    assert refused.value.reason == "image_too_large"


def test_a_cmyk_jpeg_stays_cmyk_and_loses_its_exif(canary: bytes) -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = canary.decode()
    two_tone().convert("CMYK").save(out, "JPEG", exif=exif)
    clean = strip_metadata(out.getvalue(), "pindai.jpg", "image/jpeg")
    assert canary not in clean.data
    with Image.open(io.BytesIO(clean.data)) as result:
        assert result.mode == "CMYK"


def test_the_final_check_refuses_an_image_that_still_carries_metadata(canary: bytes) -> None:
    with pytest.raises(UnsafeFile) as refused:
        images.check_image_clean(jpeg_with_metadata(canary), "JPEG")
    assert refused.value.reason == "strip_failed"
    png = io.BytesIO()
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Author", canary.decode())
    two_tone().save(png, "PNG", pnginfo=info)
    with pytest.raises(UnsafeFile):
        images.check_image_clean(png.getvalue(), "PNG")


def test_without_webp_support_a_webp_is_kept_unopened(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Pillow built without libwebp cannot open the file, so it is kept as sent and says so;
    the download warning for unstripped files applies to it."""
    data = _webp(1, lossless=False)
    monkeypatch.setattr(images.features, "check", lambda feature: feature != "webp")
    clean = images.strip_image(data, "webp", transpose=True)
    assert (clean.data, clean.stripped, clean.note) == (data, False, "unsupported_image")


def test_running_out_of_memory_is_a_file_too_complex(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's address-space limit surfaces as MemoryError: that file's failure only."""

    def exhausted(*_args: object, **_kwargs: object) -> bytes:
        raise MemoryError

    monkeypatch.setattr(images, "_reencode_still", exhausted)
    with pytest.raises(UnsafeFile) as refused:
        images.strip_image(jpeg_with_metadata(b"x"), "jpeg", transpose=True)
    assert refused.value.reason == "file_too_complex"


def test_a_lossless_webp_behind_its_colour_profile_stays_lossless() -> None:
    out = io.BytesIO()
    two_tone().save(out, "WEBP", lossless=True, icc_profile=b"\0" * 600)
    assert out.getvalue().index(b"VP8L") > 600
    clean = strip_metadata(out.getvalue(), "tangkapan-layar.webp", "image/webp")
    assert b"VP8L" in clean.data and b"\0" * 600 not in clean.data


@pytest.mark.parametrize(("data", "lossless"), [
    (b"RIFF\0\0\0\0WEBP" + b"VP8L", False),  # cut inside the first chunk header
    (b"RIFF\0\0\0\0WEBP" + b"XTRA\0\0\0\0" * 100 + b"VP8L\0\0\0\0", False),  # past the bound
    (b"RIFF\0\0\0\0WEBP" + b"ICCP\x03\0\0\0abc\0" + b"VP8L\0\0\0\0", True),  # odd size, padded
])
def test_the_lossless_test_reads_chunks_within_bounds(data: bytes, lossless: bool) -> None:
    assert images._webp_lossless(data, "webp") is lossless
    assert images._webp_lossless(data, "png") is False
