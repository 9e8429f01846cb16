"""Security headers and CSRF protection.

Headers are added by a pure ASGI middleware so that every response carries them: pages, error
pages, 404s and static files alike. CSRF uses a signed double-submit token: a random value in the
`__Host-wbs-csrf` cookie and, in every form, an HMAC of it under an instance key. A cross-site form
can neither read the cookie nor compute the HMAC, and `__Host-` stops a sibling host from planting
one. It needs no server state, so anonymous reporter forms are protected too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
BASE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_COOKIE = "__Host-wbs-csrf"
CSRF_FIELD = "csrf_token"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, onion: str = "") -> None:
        self.app = app
        self.hsts = hsts
        # The portal's onion service address, e.g. "abc…xyz.onion" (docs/deploy.md): Tor Browser
        # offers a reporter to switch to it, so no exit node sees the connection.
        self.onion = onion

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")
        https = self.hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS.items():
                    headers[name] = value
                # Pages may hold case content: never cached. Static assets are public and stable.
                if is_static and message["status"] == 200:
                    headers["Cache-Control"] = "public, max-age=3600"
                else:
                    headers["Cache-Control"] = "no-store"
                if https:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
                    if self.onion and not is_static:
                        query = scope.get("query_string", b"").decode("latin-1")
                        target = scope["path"] + (f"?{query}" if query else "")
                        headers["Onion-Location"] = f"http://{self.onion}{target}"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _mac(key: bytes, value: str) -> str:
    digest = hmac.new(key, b"wbs/v1/csrf\x00" + value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_cookie_value(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    if value and 20 <= len(value) <= 64:
        return value
    return None


def new_csrf_cookie_value() -> str:
    return secrets.token_urlsafe(24)


def csrf_token_for(key: bytes, cookie_value: str) -> str:
    return _mac(key, cookie_value)


def csrf_valid(key: bytes, request: Request, submitted: str | None) -> bool:
    cookie = csrf_cookie_value(request)
    # compare_digest refuses a str with non-ASCII characters (a TypeError, so a 500): a token
    # is ASCII by construction, so anything else is simply wrong.
    if not cookie or not submitted or len(submitted) > 100 or not submitted.isascii():
        return False
    return hmac.compare_digest(_mac(key, cookie), submitted)
