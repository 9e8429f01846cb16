"""The Pemda's identity on the web: the about and privacy page, the logo and favicon, and the
administrator's settings page.

Every page shows the identity, so it is read from a short per-process cache: a change made on
one worker is seen by the others within CACHE_SECONDS. `render` only looks at the cache; the
database is read by `BrandMiddleware`, in the thread pool, before a request is handled, when
the cache is stale: a read on the event loop would stall every request of the worker while the
database is slow, and every page reads it, error pages included. Reading it never fails a page:
if the database is down (the 503 page), what was last read is shown, else the settings' names,
and the database is not asked again for RETRY_SECONDS.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from wbs import branding
from wbs.access import Permission
from wbs.db import DatabaseUnavailable
from wbs.web import forms
from wbs.web.guard import public, requires
from wbs.web.render import render
from wbs.web.upload_form import csrf_gate
from wbs.web.uploads import MemorySink, PartInfo, UploadError, UploadTooLarge, parse_multipart

CACHE_SECONDS = 30.0
# After a failed read the database is left alone this long: while it is down, every page is an
# error page, and each would otherwise wait for it again.
RETRY_SECONDS = 5.0
# Paths that never render a page: the API answers JSON, and the probes' answers are their own
# checks (a cold cache must not make them wait for a read they do not need).
_NO_PAGES = ("/api/", "/healthz", "/readyz")
_ASSET = re.compile(r"(logo|favicon)-([0-9a-f]{16})\.png")


class BrandCache:
    """The identity as last read in this process; `until` is when it is to be read again."""

    def __init__(self) -> None:
        self.brand: branding.Brand | None = None
        self.until = 0.0  # on time.monotonic()
        self.reading = False


def _cache(app: Any) -> BrandCache:
    cache = getattr(app.state, "brand_cache", None)
    if not isinstance(cache, BrandCache):  # none yet, or forgotten (None)
        cache = app.state.brand_cache = BrandCache()
    return cache


def current(request: Request) -> branding.Brand:
    """The identity for this page, from the cache alone: this never reads the database."""
    brand = _cache(request.app).brand
    return brand if brand is not None else branding.Brand(branding.defaults(request.app.state.ctx))


def _load(ctx: Any) -> branding.Brand | None:
    try:
        return branding.load(ctx)
    except (SQLAlchemyError, DatabaseUnavailable, OSError, ValueError):
        return None  # the pages must render even without a database


async def refresh(app: Any) -> None:
    """Read the identity again, in the thread pool, if the cache is stale."""
    cache = _cache(app)
    if time.monotonic() < cache.until:
        return
    if cache.reading and cache.brand is not None:
        return  # another request is reading it: this one shows what was read before
    cache.reading = True
    try:
        brand = await run_in_threadpool(_load, app.state.ctx)
    finally:
        cache.reading = False
    if brand is None:
        cache.until = time.monotonic() + RETRY_SECONDS  # what it has, or the defaults, till then
    else:
        cache.brand, cache.until = brand, time.monotonic() + CACHE_SECONDS


class BrandMiddleware:
    """Refreshes the identity before a request is handled, so `render` finds it cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(_NO_PAGES):
            await refresh(scope["app"])
        await self.app(scope, receive, send)


def _forget(request: Request) -> None:
    request.app.state.brand_cache = None


@public
async def about_page(request: Request) -> Response:
    return render(request, "about.html", {
        "max_file_mb": request.app.state.ctx.settings.max_file_bytes // 1_000_000,
        "idle_minutes": request.app.state.ctx.settings.reporter_session_idle_seconds // 60,
        "disclosure_days": request.app.state.ctx.settings.identity_disclosure_days})


@public
async def brand_asset(request: Request) -> Response:
    match = _ASSET.fullmatch(str(request.path_params["name"]))
    if match is None:
        raise HTTPException(404)
    data = await run_in_threadpool(branding.image, request.app.state.ctx, match.group(1),
                                   match.group(2))
    if data is None:
        raise HTTPException(404)
    # Under /static/, so the security headers middleware lets browsers cache it; the URL
    # changes with the logo, so a cached copy is never stale.
    return Response(data, media_type="image/png")


@public
async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page says: point them to the real one."""
    return RedirectResponse(current(request).favicon_url, status_code=302)


def _settings_page(request: Request, *, values: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, logo_error: str = "",
                   status_code: int = 200) -> Response:
    brand = current(request)
    return render(request, "staff/branding.html", {
        "fields": branding.FIELDS, "required": branding.REQUIRED,
        "values": values if values is not None else brand.values, "errors": errors or {},
        "logo_error": logo_error, "notice": request.query_params.get("ok", ""),
        "max_logo_kb": branding.MAX_LOGO_BYTES // 1024}, status_code=status_code)


@requires(Permission.CONFIG_MANAGE)
async def settings_page(request: Request) -> Response:
    _forget(request)  # the administrator always sees what is stored now
    await refresh(request.app)
    return _settings_page(request)


@requires(Permission.CONFIG_MANAGE)
async def settings_save(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        await run_in_threadpool(branding.save, request.app.state.ctx, request.state.staff,
                                values)
    except branding.InvalidBranding as exc:
        cleaned, _errors = branding.validate(values)
        return _settings_page(request, values=cleaned, errors=exc.errors, status_code=400)
    _forget(request)
    return RedirectResponse("/staf/pengaturan?ok=saved", status_code=303)


async def _read_logo(request: Request) -> bytes:
    received: list[MemorySink] = []
    gate = csrf_gate(request)
    checked: list[bool] = []

    def open_file(info: PartInfo, seen: Mapping[str, str]) -> MemorySink:
        if not checked:
            if not gate(seen):
                raise HTTPException(403)
            checked.append(True)
        if received:
            raise UploadError("too_many_files")
        sink = MemorySink(branding.MAX_LOGO_BYTES + 1)
        received.append(sink)
        return sink

    try:
        fields = await parse_multipart(request, open_file=open_file,
                                       max_file_bytes=branding.MAX_LOGO_BYTES + 1,
                                       max_total_bytes=branding.MAX_LOGO_BYTES + 64 * 1024,
                                       max_fields=5)
    except UploadTooLarge as exc:
        raise branding.InvalidLogo("logo_too_large") from exc
    except UploadError as exc:
        raise HTTPException(400) from exc
    if not checked and not gate({k: v[0] for k, v in fields.items() if v}):
        raise HTTPException(403)
    return received[0].data if received else b""


@requires(Permission.CONFIG_MANAGE)
async def logo_upload(request: Request) -> Response:
    try:
        data = await _read_logo(request)
        await run_in_threadpool(branding.set_logo, request.app.state.ctx, request.state.staff,
                                data)
    except branding.InvalidLogo as exc:
        return _settings_page(request, logo_error=exc.code, status_code=400)
    _forget(request)
    return RedirectResponse("/staf/pengaturan?ok=logo", status_code=303)


@requires(Permission.CONFIG_MANAGE)
async def logo_remove(request: Request) -> Response:
    await forms.read_form(request)
    await run_in_threadpool(branding.remove_logo, request.app.state.ctx, request.state.staff)
    _forget(request)
    return RedirectResponse("/staf/pengaturan?ok=logo_removed", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/tentang", about_page, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        # Before the /static mount (create_app appends it last), so this route wins.
        Route("/static/merek/{name}", brand_asset, methods=["GET"]),
        Route("/staf/pengaturan", settings_page, methods=["GET"]),
        Route("/staf/pengaturan", settings_save, methods=["POST"]),
        Route("/staf/pengaturan/logo", logo_upload, methods=["POST"]),
        Route("/staf/pengaturan/logo/hapus", logo_remove, methods=["POST"]),
    ]
