"""What the branding settings refuse, and what a refusal leaves: the administrator's page says
why in the reader's language, nothing is stored and nothing is recorded in the audit log."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_branding import CONTACTS, _admin, _save, _upload
from tests.functional.workflow_helpers import audit_since, last_seq
from wbs import branding
from wbs.context import Context
from wbs.models import Branding

WRONG_TYPE = {"en": "Use a PNG, JPEG, GIF or WebP image. SVG is not accepted.",
              "id": "Gunakan gambar PNG, JPEG, GIF, atau WebP. SVG tidak diterima."}
TOO_LARGE = {"en": "The image is too large: at most 1024 KB and 4096 × 4096 pixels.",
             "id": "Gambar terlalu besar: paling besar 1024 KB dan 4096 × 4096 piksel."}
TOO_LONG = {"en": "This is too long. Please shorten it.",
            "id": "Isian ini terlalu panjang. Mohon dipersingkat."}


def _image(fmt: str, size: tuple[int, int] = (60, 20), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format=fmt)
    return out.getvalue()


def _stored_logo(ctx: Context) -> bytes | None:
    with ctx.db() as s:
        row = s.get(Branding, 1)
        return row.logo_png if row else None


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(("data", "expected"), [
    (_image("BMP"), WRONG_TYPE),  # an image, of a kind not accepted
    (_image("TIFF"), WRONG_TYPE),
    (_image("PNG", (4097, 4096), "1"), TOO_LARGE),  # a small file of too many pixels
], ids=["bmp", "tiff", "pixels"])
def test_a_logo_of_another_format_or_too_many_pixels_is_refused(
        app: Any, demo: Any, clock: Clock, ctx: Context, lang: str, data: bytes,
        expected: dict[str, str]) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = lang
    seq = last_seq(ctx)
    r = _upload(admin, data, "logo.img", "image/png")
    assert r.status_code == 400 and expected[lang] in r.text
    assert 'aria-describedby="logo-hint logo-error"' in r.text
    assert audit_since(ctx, seq) == [] and _stored_logo(ctx) is None


def test_a_logo_one_byte_over_the_limit_is_refused(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = "en"
    png = _image("PNG")
    data = png + b"\0" * (branding.MAX_LOGO_BYTES + 1 - len(png))  # trailing bytes after IEND
    r = _upload(admin, data, "logo.png", "image/png")
    assert r.status_code == 400 and TOO_LARGE["en"] in r.text
    assert _stored_logo(ctx) is None
    # One byte less is within the limit, and the trailing bytes do not survive re-encoding.
    r = _upload(admin, data[:-1], "logo.png", "image/png")
    assert r.status_code == 303
    stored = _stored_logo(ctx)
    assert stored is not None and not stored.endswith(b"\0")


def test_two_files_in_one_logo_upload_are_refused(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    seq = last_seq(ctx)
    token = csrf_from(admin, "/staf/pengaturan")
    png = _image("PNG")
    r = admin.post("/staf/pengaturan/logo", data={"csrf_token": token},
                   files=[("logo", ("a.png", png, "image/png")),
                          ("logo", ("b.png", png, "image/png"))])
    assert r.status_code == 400
    assert audit_since(ctx, seq) == [] and _stored_logo(ctx) is None


def test_a_logo_form_without_a_file_needs_the_token_and_then_asks_for_a_file(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = "id"
    seq = last_seq(ctx)
    forged = admin.post("/staf/pengaturan/logo", files={"note": (None, "x")},
                        data={"csrf_token": "forged"})
    assert forged.status_code == 403
    token = csrf_from(admin, "/staf/pengaturan")
    r = admin.post("/staf/pengaturan/logo", data={"csrf_token": token}, files={"note": (None, "x")})
    assert r.status_code == 400 and "Pilih berkas gambar." in r.text
    assert audit_since(ctx, seq) == []


def test_removing_a_logo_that_is_not_there_records_nothing(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = "id"
    seq = last_seq(ctx)
    r = admin.post("/staf/pengaturan/logo/hapus",
                   data={"csrf_token": csrf_from(admin, "/staf/pengaturan")})
    assert r.status_code == 303 and r.headers["location"] == "/staf/pengaturan?ok=logo_removed"
    assert "Logo dihapus." in admin.get(r.headers["location"]).text
    assert audit_since(ctx, seq) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_value_too_long_is_refused_and_shortened_on_the_page(
        app: Any, demo: Any, clock: Clock, ctx: Context, lang: str) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = lang
    seq = last_seq(ctx)
    r = _save(admin, {**CONTACTS, "portal_name": "W" * 81})
    assert r.status_code == 400 and TOO_LONG[lang] in r.text
    assert f'value="{"W" * 80}"' in r.text and "W" * 81 not in r.text
    assert audit_since(ctx, seq) == []
    with ctx.db() as s:
        assert s.scalars(select(Branding)).first() is None


def test_brand_images_answer_only_their_current_names(
        app: Any, demo: Any, clock: Clock, ctx: Context, client: TestClient) -> None:
    admin = _admin(app, demo, clock)
    assert _upload(admin, _image("PNG"), "logo.png", "image/png").status_code == 303
    version = branding.load(ctx).logo_version
    assert client.get(f"/static/merek/logo-{version}.png").status_code == 200
    for name in (f"logo-{version}.gif", f"banner-{version}.png", "logo-0123456789abcdef.png",
                 f"logo-{version.upper()}.png"):
        assert client.get(f"/static/merek/{name}").status_code == 404, name


def test_a_stored_setting_that_is_not_an_object_falls_back_to_the_defaults(ctx: Context) -> None:
    with ctx.db.begin() as s:
        s.add(Branding(id=1, settings=json.dumps(["pemda_name", "Palsu"]),
                       updated_at=ctx.now()))
    brand = branding.load(ctx)
    assert brand.values == branding.defaults(ctx) and brand.pemda_name == ctx.settings.pemda_name


def test_templates_read_declared_fields_only() -> None:
    brand = branding.Brand({"hotline": "0811"})
    assert brand.hotline == "0811" and brand.whatsapp == ""  # declared, unset: empty
    with pytest.raises(AttributeError):
        _ = brand.password  # anything else does not exist
