"""Issue 4 done-when 2: every route is on the public list or declares its permission."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from wbs.app import all_routes, create_app
from wbs.web.guard import ACCESS_ATTR, UnguardedRoute, access_of, public

# The explicit public list (STYLE: "a short explicit list of public routes"). Adding a public
# route means adding it here, in review.
PUBLIC = {
    ("/", "GET"), ("/bahasa", "POST"), ("/healthz", "GET"), ("/readyz", "GET"),
    ("/lapor", "GET"), ("/lapor", "POST"), ("/lapor/tanda-terima", "GET"),
    ("/lapor/tanda-terima/selesai", "POST"), ("/status", "GET"), ("/status", "POST"),
    ("/kotak-pesan", "GET"), ("/kotak-pesan/masuk", "POST"), ("/kotak-pesan/pesan", "POST"),
    ("/kotak-pesan/identitas", "POST"), ("/kotak-pesan/lampiran", "POST"),
    ("/kotak-pesan/lampiran/{attachment_id:rowid}", "GET"), ("/kotak-pesan/keluar", "POST"),
    ("/kotak-pesan/tanggapan", "POST"), ("/kotak-pesan/kode-baru", "POST"),
    ("/kotak-pesan/ganti-rugi", "POST"), ("/kotak-pesan/ganti-rugi", "GET"),
    # The reporter's consent to send the identity to SP4N-LAPOR! (issue 10): a mailbox session.
    ("/kotak-pesan/lapor-identitas", "POST"),
    # A GET on a mailbox form's address leads back to the mailbox (the language switch).
    *(("/kotak-pesan/" + name, "GET") for name in ("masuk", "pesan", "identitas", "lampiran",
                                                   "tanggapan", "lapor-identitas")),
    ("/verifikasi", "GET"), ("/verifikasi", "POST"),
    ("/masuk", "GET"), ("/masuk", "POST"),
    ("/api/v1/openapi.json", "GET"), ("/api/v1/reports", "POST"), ("/api/v1/status", "POST"),
    ("/api/v1/mailbox", "POST"), ("/api/v1/mailbox/messages", "POST"),
    ("/api/v1/mailbox/identity", "POST"), ("/api/v1/mailbox/attachments", "POST"),
    ("/api/v1/mailbox/code", "POST"),
    ("/api/v1/receipts/verify", "POST"),
    ("/transparansi", "GET"), ("/api/v1/transparansi/checkpoint", "GET"),
    ("/api/v1/transparansi/consistency", "GET"),
    ("/tentang", "GET"), ("/standar-layanan", "GET"), ("/favicon.ico", "GET"),
    ("/static/merek/{name}", "GET"),
    # The satisfaction survey: anyone may answer, no account (RULES §9).
    ("/survei/{token}", "GET"), ("/survei/{token}", "POST"), ("/survei/{token}/qr.svg", "GET"),
    ("/statistik", "GET"), ("/statistik/laporan/{report_id:rowid}", "GET"),
    ("/statistik/laporan/{report_id:rowid}.pdf", "GET"),
}


def _pairs(access_kind: str) -> set[tuple[str, str]]:
    found = set()
    for route in all_routes():
        assert isinstance(route, Route)
        access = access_of(route)
        kind = "public" if access == "public" else "guarded"
        if kind == access_kind:
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((route.path, method))
    return found


def test_every_route_is_public_by_list_or_guarded() -> None:
    for route in all_routes():
        assert access_of(route) is not None, f"{route} has no access declaration"
    assert _pairs("public") == PUBLIC
    guarded = _pairs("guarded")
    assert all(path.startswith("/staf") or path in ("/keluar", "/api/v1/audit/entries")
               for path, _ in guarded)


def test_staff_routes_refuse_anonymous_visitors(client: Any) -> None:
    for path, method in _pairs("guarded"):
        concrete = path.replace("{number}", "WBS-2026-000001").replace(
            "{attachment_id:rowid}", "1").replace("{request_id:rowid}", "1").replace(
            "{survey_id:rowid}", "1").replace("{report_id:rowid}", "1")
        r = client.request(method, concrete)
        assert r.status_code in (303, 401, 403), (path, method, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"] == "/masuk"


def test_an_unguarded_route_is_refused(settings: Any, ctx: Any) -> None:
    async def naked(request: Request) -> Response:
        return PlainTextResponse("secret")

    with pytest.raises(UnguardedRoute, match="/naked"):
        create_app(settings, context=ctx, extra_routes=[Route("/naked", naked)])
    # The same endpoint passes once it is declared.
    app = create_app(settings, context=ctx, extra_routes=[Route("/naked", public(naked))])
    assert any(getattr(getattr(r, "endpoint", None), ACCESS_ATTR, None) == "public"
               for r in app.routes if getattr(r, "path", "") == "/naked")


def test_a_mount_of_files_is_public_without_a_declaration(settings: Any, ctx: Any,
                                                          tmp_path: Any) -> None:
    """Files under a mount are public by nature (like /static): the check lets the mount
    through, and what it serves needs no sign-in."""
    (tmp_path / "panduan.txt").write_text("Panduan pelapor")
    app = create_app(settings, context=ctx, extra_routes=[
        Mount("/unduhan", app=StaticFiles(directory=tmp_path))])
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/unduhan/panduan.txt")
    assert r.status_code == 200 and r.text == "Panduan pelapor"
