"""Issue 9, item 11: the Pemda's identity, set by the administrator, shown on every public page.

The settings are public information, changed only with `config:manage`, audited in the same
transaction; the logo is re-encoded (no metadata survives) and served from the app itself.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.conftest import sign_in as http_sign_in
from tests.functional.workflow_helpers import ROLE_USERS, audit_since, last_seq
from wbs import branding
from wbs.context import Context
from wbs.models import Branding

CONTACTS = {
    "pemda_name": "Pemerintah Kabupaten Sanggau",
    "portal_name": "WBS Sanggau",
    "inspektorat_name": "Inspektorat Daerah Kabupaten Sanggau",
    "inspektorat_address": "Jl. Jenderal Sudirman No. 1\nSanggau 78512",
    "inspektorat_phone": "(0564) 21234",
    "inspektorat_email": "inspektorat@sanggau.go.id",
    "inspektorat_hours": "Senin–Jumat 08.00–15.00 WIB",
    "lapor_url": "https://sanggaukab.lapor.go.id",
    "lapor_sms": "1708",
    "hotline": "0811 5678 900",
    "whatsapp": "0811 5678 901",
    "letter_address": "Kotak Pos 10, Sanggau",
    "complaint_box": "Lobi Kantor Bupati dan setiap kantor kecamatan",
    "privacy_contact": "ppid@sanggau.go.id",
    "retention_note": "Catatan kasus disimpan 10 tahun sesuai JRA Pemda.",
}
PUBLIC_PAGES = ("/", "/lapor", "/status", "/kotak-pesan", "/verifikasi", "/transparansi",
                "/tentang", "/masuk")


def _admin(app: Any, demo: Any, clock: Clock, role: str = "administrator") -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    username = ROLE_USERS[role]
    assert http_sign_in(client, demo[username], username, clock).status_code == 303
    clock.advance(seconds=31)
    return client


def _save(client: TestClient, values: dict[str, str]) -> Any:
    token = csrf_from(client, "/staf/pengaturan")
    return client.post("/staf/pengaturan", data={"csrf_token": token, **values})


def _png_with_exif(colour: tuple[int, int, int] = (11, 79, 138)) -> bytes:
    img = Image.new("RGB", (900, 300), colour)
    exif = Image.Exif()
    exif[0x010F] = "CanonSecretCam"  # Make
    exif[0x013B] = "Nama Pegawai Rahasia"  # Artist
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _upload(client: TestClient, data: bytes, name: str = "logo.jpg",
            ctype: str = "image/jpeg") -> Any:
    token = csrf_from(client, "/staf/pengaturan")
    return client.post("/staf/pengaturan/logo", data={"csrf_token": token},
                       files=[("logo", (name, data, ctype))])


def test_identity_set_by_the_administrator_shows_on_every_public_page(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    seq = last_seq(ctx)
    r = _save(admin, CONTACTS)
    assert r.status_code == 303 and r.headers["location"] == "/staf/pengaturan?ok=saved"
    entries = audit_since(ctx, seq)
    assert [e.action for e in entries] == ["config.branding"]
    changed = json.loads(entries[0].details)["fields"].split(",")
    assert set(changed) == set(CONTACTS) - {"lapor_sms"}  # 1708 was the default already
    for path in PUBLIC_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.text
        assert "Pemerintah Kabupaten Sanggau" in text and "WBS Sanggau" in text, path
        assert "<title>" in text and "· Pemerintah Kabupaten Sanggau</title>" in text
        if path != "/masuk":
            assert "Inspektorat Daerah Kabupaten Sanggau" in text, path
            assert "inspektorat@sanggau.go.id" in text and "0811 5678 900" in text, path
            assert "sanggaukab.lapor.go.id" in text and "SMS 1708" in text, path
            assert "Lobi Kantor Bupati" in text and "Kotak Pos 10, Sanggau" in text, path
    about = client.get("/tentang").text
    assert "ppid@sanggau.go.id" in about and "10 tahun sesuai JRA" in about
    assert "Jl. Jenderal Sudirman No. 1\nSanggau 78512" in about


def test_about_page_says_what_is_and_is_not_kept(client: TestClient) -> None:
    english = client.get("/tentang", headers={"Accept-Language": "en"}).text
    for fact in ("encrypted with a key made for your case alone",
                 "encrypted under a second, separate key",
                 "No IP address, no browser or device details, and not the time of day",
                 "Only a keyed fingerprint of it is kept",
                 "NOT cleaned: HEIC photos, videos, TIFF, zip files",
                 "the date (never the time)", "at most 14 days"):
        assert fact in english, fact
    indonesian = client.get("/tentang", headers={"Accept-Language": "id"}).text
    assert "Tentang portal ini dan privasi Anda" in indonesian
    assert "Tidak ada alamat IP" in indonesian


def test_invalid_settings_are_refused_and_kept(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    seq = last_seq(ctx)
    bad = {**CONTACTS, "pemda_name": "", "lapor_url": "javascript:alert(1)",
           "inspektorat_email": "bukan-surel", "hotline": "telp <b>kantor</b>"}
    r = _save(admin, bad)
    assert r.status_code == 400
    for name in ("pemda_name", "lapor_url", "inspektorat_email", "hotline"):
        assert f'href="#f-{name}"' in r.text and f'id="f-{name}-error"' in r.text
    # What was typed stays (escaped), nothing is stored, nothing is recorded.
    assert 'value="javascript:alert(1)"' in r.text and "telp &lt;b&gt;kantor&lt;/b&gt;" in r.text
    assert 'value="Inspektorat Daerah Kabupaten Sanggau"' in r.text
    assert audit_since(ctx, seq) == []
    with ctx.db() as s:
        assert s.scalars(select(Branding)).first() is None


@pytest.mark.parametrize("role", ["verifier", "liaison", "investigator", "custodian",
                                  "leadership", "auditor"])
def test_only_the_administrator_changes_the_identity(
        app: Any, demo: Any, clock: Clock, ctx: Context, role: str) -> None:
    other = _admin(app, demo, clock, role)
    seq = last_seq(ctx)
    token = csrf_from(other, "/staf")
    assert other.get("/staf/pengaturan").status_code == 403
    r = other.post("/staf/pengaturan", data={"csrf_token": token, **CONTACTS})
    assert r.status_code == 403
    assert [(e.action, e.outcome) for e in audit_since(ctx, seq)] == [
        ("access.route", "denied"), ("access.route", "denied")]
    assert branding.load(ctx).pemda_name == ctx.settings.pemda_name


def test_logo_is_reencoded_without_metadata_and_served_from_the_app(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    seq = last_seq(ctx)
    original = _png_with_exif()
    assert b"CanonSecretCam" in original
    r = _upload(admin, original)
    assert r.status_code == 303 and r.headers["location"].endswith("ok=logo")
    entry = audit_since(ctx, seq)[0]
    assert entry.action == "config.branding" and "logo_sha256" in entry.details
    home = client.get("/").text
    logo_url = re.search(r'<img src="(/static/merek/logo-[0-9a-f]{16}\.png)"', home)
    icon_url = re.search(r'<link rel="icon" href="(/static/merek/favicon-[0-9a-f]{16}\.png)"',
                         home)
    assert logo_url and icon_url
    served = client.get(logo_url.group(1))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"].startswith("public")  # a versioned static asset
    assert b"CanonSecretCam" not in served.content and b"Rahasia" not in served.content
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.format == "PNG" and img.size == (512, 171)
        assert not img.getexif() and not img.info.get("exif")
    icon = client.get(icon_url.group(1))
    with Image.open(io.BytesIO(icon.content)) as img:
        assert img.size == (branding.FAVICON_SIZE, branding.FAVICON_SIZE)
    assert client.get("/favicon.ico").headers["location"] == icon_url.group(1)
    # An old logo's address answers nothing once replaced.
    _upload(admin, _png_with_exif((200, 30, 30)))
    assert client.get(logo_url.group(1)).status_code == 404
    removed = admin.post("/staf/pengaturan/logo/hapus",
                         data={"csrf_token": csrf_from(admin, "/staf/pengaturan")})
    assert removed.status_code == 303
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text


@pytest.mark.parametrize(("data", "name", "code"), [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg",
     "Use a PNG, JPEG, GIF or WebP image"),
    (b"%PDF-1.4 not an image", "logo.pdf", "Use a PNG, JPEG, GIF or WebP image"),
    (b"", "", "Choose an image file"),
])
def test_unsafe_or_missing_logo_is_refused(
        app: Any, demo: Any, clock: Clock, ctx: Context, data: bytes, name: str,
        code: str) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = "en"
    seq = last_seq(ctx)
    r = _upload(admin, data, name, "image/svg+xml")
    assert r.status_code == 400 and code in r.text
    assert audit_since(ctx, seq) == []


def test_oversized_logo_is_refused_while_streaming(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    admin = _admin(app, demo, clock)
    admin.headers["Accept-Language"] = "en"
    r = _upload(admin, b"\x89PNG\r\n\x1a\n" + b"\0" * (branding.MAX_LOGO_BYTES + 10), "big.png",
                "image/png")
    assert r.status_code == 400 and "The image is too large" in r.text


def test_logo_upload_needs_the_csrf_token_before_the_file(
        app: Any, demo: Any, clock: Clock) -> None:
    admin = _admin(app, demo, clock)
    r = admin.post("/staf/pengaturan/logo", files=[("logo", ("a.png", b"x", "image/png"))])
    assert r.status_code == 403


def _break_reads(ctx: Context) -> list[int]:
    """Make every read fail as with the database down; the list counts the attempts."""
    tried: list[int] = []

    def broken() -> Any:
        tried.append(1)
        raise OSError("database unreachable")

    ctx.__dict__["read"] = broken
    return tried


def test_pages_render_with_defaults_when_the_database_is_down(
        app: Any, client: TestClient, ctx: Context) -> None:
    """The 503 page must not need the database for the Pemda's name, and while the database
    is down the pages do not each wait for it again: a failed read is remembered a moment."""
    from wbs.web import branding_views

    app.state.brand_cache = None
    original = ctx.read
    tried = _break_reads(ctx)
    try:
        for _ in range(3):
            page = client.get("/masuk")  # a page that needs nothing else from the database
            assert page.status_code == 200
            assert ctx.settings.pemda_name in page.text and ctx.settings.portal_name in page.text
            assert client.get("/tidak-ada").status_code == 404
        assert len(tried) == 1
        app.state.brand_cache.until = 0.0  # RETRY_SECONDS later: the database is asked again
        client.get("/masuk")
        assert len(tried) == 2
        assert branding_views.RETRY_SECONDS < branding_views.CACHE_SECONDS
    finally:
        ctx.__dict__["read"] = original


def test_the_identity_last_read_is_kept_while_the_database_is_down(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    _save(_admin(app, demo, clock), CONTACTS)
    assert "WBS Sanggau" in client.get("/masuk").text
    app.state.brand_cache.until = 0.0  # stale: read again at the next request, which fails
    original = ctx.read
    tried = _break_reads(ctx)
    try:
        page = client.get("/masuk")
    finally:
        ctx.__dict__["read"] = original
    assert len(tried) == 1 and "WBS Sanggau" in page.text


def test_a_change_made_elsewhere_is_seen_once_the_cache_is_stale(
        app: Any, client: TestClient, ctx: Context) -> None:
    """Another worker's change: this one shows it once its cache is CACHE_SECONDS old."""
    assert "WBS Sanggau" not in client.get("/masuk").text
    with ctx.db.begin() as session:
        session.add(Branding(id=1, settings=json.dumps({"portal_name": "WBS Sanggau"}),
                             updated_at=ctx.now()))
    assert "WBS Sanggau" not in client.get("/masuk").text  # still fresh in this process
    app.state.brand_cache.until = 0.0
    assert "WBS Sanggau" in client.get("/masuk").text
