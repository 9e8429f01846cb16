"""create_app(settings): routes, middleware, templates (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from wbs import instance, logs
from wbs.audit.proofs import ProofCache
from wbs.cases import intake
from wbs.cases.reporter import CodeMustChange
from wbs.context import Context, utcnow
from wbs.crypto.passwords import PasswordKDF
from wbs.db import DatabaseUnavailable, make_engine, make_sessionmaker, statement_deadline
from wbs.files.sandbox import Limits, Sandbox
from wbs.settings import Settings
from wbs.web import (
    api,
    audit_views,
    branding_views,
    case_views,
    code_views,
    compensation_views,
    config_views,
    document_views,
    housekeeping,
    i18n,
    intake_views,
    lapor_views,
    overview_views,
    public,
    public_stats_views,
    ratelimit,
    report_views,
    reporter,
    staff,
    standards_views,
    stats_views,
    survey_views,
    text_input,
)
from wbs.web.body_limits import BodyLimitsMiddleware, BodyTiming
from wbs.web.guard import check_routes
from wbs.web.render import make_environment, render
from wbs.web.security import SecurityHeadersMiddleware
from wbs.web.upload_budget import ByteBudget

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ERROR_REASONS = frozenset({"low_disk"})
ERROR_STATUSES = {400, 401, 403, 404, 405, 408, 413, 429, 500, 503}


class WbsApp(Starlette):
    """Starlette whose outermost layers are the access log and the security headers.

    Starlette's ServerErrorMiddleware sits outside user middleware, so a 500 page would miss
    headers added by ordinary middleware; wrapping the whole stack puts them on every response.
    """

    hsts: bool = False
    onion: str = ""
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")

    body_timing: BodyTiming = BodyTiming()
    db_statement_deadline: float = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every statement of a request is bounded (wbs/db.py); the context variable reaches
        # the thread-pool calls too, which copy the request's context. Lifespan work (the
        # end-of-day writes) is not a request and keeps no bound.
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        with statement_deadline(self.db_statement_deadline):
            await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        inner = BodyLimitsMiddleware(super().build_middleware_stack(), self.body_timing)
        # Only the configured hosts are served (a forged Host header was copied into redirects
        # such as /static → /static/), and no URL with a control character reaches a handler.
        guarded = TrustedHostMiddleware(text_input.UrlGuardMiddleware(inner, _error_asgi),
                                        allowed_hosts=list(self.allowed_hosts),
                                        www_redirect=False)
        return logs.AccessLogMiddleware(SecurityHeadersMiddleware(guarded, hsts=self.hsts,
                                                                    onion=self.onion))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    # Retry-After on a 503, Connection: close on a 408: the API's answers carry them too.
    headers = getattr(exc, "headers", None) or {}
    if _wants_json(request):
        detail = exc.detail if isinstance(exc, HTTPException) else ""
        detail = detail if isinstance(detail, str) else ""
        return JSONResponse({"error": _error_code(status), "detail": detail}, status_code=status,
                            headers=headers)
    shown = status if status in ERROR_STATUSES else 400
    # A known reason key may choose the wording; text from the request never reaches the page.
    key = exc.detail if isinstance(exc, HTTPException) else None
    reason = key if key in ERROR_REASONS else None
    response = render(request, "errors/error.html", {"status": shown, "reason": reason},
                      status_code=status)
    response.headers.update(headers)
    return response


async def _error_asgi(scope: Scope, receive: Receive, send: Send, status: int) -> None:
    """The error page of `status`, for a middleware that answers before the router."""
    response = await _http_error(Request(scope, receive), HTTPException(status))
    await response(scope, receive, send)


async def _server_error(request: Request, exc: Exception) -> Response:
    logs.event("server_error", 40, **logs.safe_exception_fields(exc))
    return await _http_error(request, HTTPException(500))


async def _db_down(request: Request, exc: Exception) -> Response:
    logs.event("database_unavailable", 40, exception=type(exc).__name__)
    return await _http_error(request, HTTPException(503, headers={"Retry-After": "30"}))


async def _not_configured(request: Request, exc: Exception) -> Response:
    # The operator's to fix (no receiving unit yet); the reporter is told to come back, not
    # shown a server error, and nothing was stored.
    logs.event("intake_not_configured", 40, exception=type(exc).__name__)
    return await _http_error(request, HTTPException(503, headers={"Retry-After": "300"}))


async def _rate_limited(request: Request, exc: Exception) -> Response:
    limited = cast(ratelimit.RateLimited, exc)  # registered for RateLimited alone
    return ratelimit.limited_page(request, limited.category, limited.retry_after, limited.fields,
                                  multipart=True)


async def _code_must_change(request: Request, exc: Exception) -> Response:
    """A code from staff intake used before its replacement (wbs.cases.reporter)."""
    if _wants_json(request):
        return JSONResponse({"error": "code_must_be_replaced",
                             "detail": "This code was issued through staff intake: replace it "
                                       "first (POST /api/v1/mailbox/code)."}, status_code=409)
    return await _http_error(request, HTTPException(403))


def _error_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 408: "too_slow", 413: "too_large", 422: "invalid",
            429: "too_many_requests", 500: "server_error", 503: "unavailable"}.get(status, "error")


def build_context(settings: Settings, clock: Callable[[], datetime] | None = None) -> Context:
    keys = instance.load_keys(settings.keys_dir)
    engine = make_engine(settings.database_url, pool_timeout=settings.db_pool_timeout)
    return Context(
        settings=settings, keys=keys, engine=engine, db=make_sessionmaker(engine),
        kdf=PasswordKDF(settings.argon2, settings.argon2_max_concurrent), clock=clock or utcnow,
    )


def all_routes() -> list[BaseRoute]:
    return [*public.routes(), *report_views.routes(), *reporter.routes(), *code_views.routes(),
            *api.routes(),
            *staff.routes(),
            *case_views.routes(), *intake_views.routes(), *audit_views.routes(),
            *config_views.routes(), *branding_views.routes(),
            *overview_views.routes(), *lapor_views.routes(),
            *compensation_views.routes(), *stats_views.routes(), *survey_views.routes(),
            *public_stats_views.routes(), *document_views.routes(),
            *standards_views.routes()]


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None,
               context: Context | None = None,
               extra_routes: list[BaseRoute] | None = None) -> WbsApp:
    ctx = context or build_context(settings, clock)
    routes = check_routes([*all_routes(), *(extra_routes or [])])
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    handlers: dict[Any, Any] = {
        HTTPException: _http_error,
        ratelimit.RateLimited: _rate_limited,
        CodeMustChange: _code_must_change,
        OperationalError: _db_down,
        # Every pooled connection busy past the pool timeout (wbs/db.py): the database cannot
        # take this request now, which is the same answer as a database that is down.
        PoolTimeout: _db_down,
        DatabaseUnavailable: _db_down,
        intake.NotConfigured: _not_configured,
        Exception: _server_error,
    }
    # The limiter sits inside Starlette's error handling, so its 429 pages are ordinary pages.
    # The Pemda's identity is read (off the event loop) before anything renders a page, the
    # limiter's 429 pages included.
    app = WbsApp(routes=routes, exception_handlers=handlers, lifespan=housekeeping.lifespan,
                 middleware=[Middleware(branding_views.BrandMiddleware),
                             Middleware(ratelimit.RateLimitMiddleware)])
    app.hsts = settings.base_url.startswith("https://")
    app.onion = settings.onion_address
    app.allowed_hosts = settings.hosts
    app.db_statement_deadline = settings.db_statement_deadline
    text_input.warm()  # its character table costs ~0.3 s once: at start, not in a request
    app.state.ctx = ctx
    app.state.catalogs = i18n.load_catalogs(settings.languages)
    app.state.jinja = make_environment()
    app.body_timing = BodyTiming(min_rate=settings.body_min_rate,
                                 window=settings.body_window_seconds,
                                 max_seconds=settings.body_max_seconds)
    app.state.upload_budget = ByteBudget(settings.upload_budget_bytes)
    app.state.sandbox = Sandbox(
        Limits(memory_bytes=settings.clean_memory_bytes, cpu_seconds=settings.clean_cpu_seconds,
               max_output_bytes=2 * settings.max_file_bytes),
        workers=settings.clean_workers)
    app.state.rate_limiter = ratelimit.RateLimiter(settings)
    app.state.proofs = ProofCache()  # consistency proofs of the public log (web/public.py)
    return app
