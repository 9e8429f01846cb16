"""Limits on anonymous requests that keep no client address (issue 8.4, DESIGN §6).

Reports, mailbox writes, evidence uploads, status lookups and code sign-ins, on the pages and in
the JSON API, each have two token buckets: one per client address and one for the whole process
(its share of the instance's ceiling per minute). The per-client buckets are keyed by
HMAC-SHA256 under a random key that lives only in this process's memory and is replaced every
hour; the buckets go with it. Nothing derived from an address is ever written down, and an hour
later not even this process can tell which bucket was whose.

Behind a reverse proxy the client address comes from `--proxy-headers` and
`WBS_TRUSTED_PROXIES`; without them every client shares the proxy's bucket (SECURITY.md). An
IPv6 client is counted by its /64 network, which a single subscriber usually holds whole.

A refused request gets 429 with `Retry-After`: JSON for the API, and for a page a calm
explanation that keeps what was typed (url-encoded forms are echoed back into a form that sends
them again; the report form is checked after its text fields and before its files, through
`gate`, so the same works there).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wbs.settings import Settings

KEY_LIFETIME = 3600.0  # seconds; the address key is replaced (and the buckets dropped) hourly
MAX_CLIENTS = 200_000  # buckets per category; beyond that new clients share one overflow bucket
MAX_ECHO_BYTES = 256 * 1024
# Fields never sent back in a page: the token is renewed, and a code is typed again rather
# than written into HTML.
NOT_ECHOED = frozenset({"csrf_token", "code"})

# POST paths and their category. /lapor is not here: its form is limited by `gate`, after its
# text fields are read, so that the report can be shown back to its writer.
LIMITED: Mapping[str, str] = {
    "/status": "status",
    "/kotak-pesan/masuk": "signin",
    "/kotak-pesan/kode-baru": "signin",
    "/kotak-pesan/pesan": "message",
    "/kotak-pesan/identitas": "message",
    "/kotak-pesan/lapor-identitas": "message",
    "/kotak-pesan/tanggapan": "message",
    "/kotak-pesan/lampiran": "upload",
    "/api/v1/reports": "report",
    "/api/v1/status": "status",
    "/api/v1/mailbox": "signin",
    "/api/v1/mailbox/code": "signin",
    "/api/v1/mailbox/messages": "message",
    "/api/v1/mailbox/identity": "message",
    "/api/v1/mailbox/attachments": "upload",
}
GATED = {"/lapor": "report"}
# POST paths under a prefix: the public SKM form, one path per round (/survei/<token>).
LIMITED_PREFIXES: tuple[tuple[str, str], ...] = (("/survei/", "survey"),)


def category_of(path: str) -> str | None:
    if path in LIMITED:
        return LIMITED[path]
    return next((c for prefix, c in LIMITED_PREFIXES if path.startswith(prefix)), None)


class RateLimited(Exception):
    """Raised by `gate`: the request is over a limit; `fields` is what the form held."""

    def __init__(self, category: str, retry_after: int, fields: Mapping[str, str]) -> None:
        super().__init__(category)
        self.category = category
        self.retry_after = retry_after
        self.fields = dict(fields)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class _Buckets:
    """Token buckets: `capacity` requests, refilled evenly over `period` seconds."""

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.table: dict[bytes, _Bucket] = {}

    def _bucket(self, key: bytes, now: float) -> _Bucket:
        bucket = self.table.get(key)
        if bucket is None:
            if len(self.table) >= MAX_CLIENTS:
                self._sweep(now)
                if len(self.table) >= MAX_CLIENTS:
                    key = b"overflow"
                    bucket = self.table.get(key)
            if bucket is None:
                bucket = self.table.setdefault(key, _Bucket(self.capacity, now))
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        return bucket

    def _sweep(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket.
        for key in [k for k, b in self.table.items()
                    if b.tokens + (now - b.stamp) * self.rate >= self.capacity]:
            del self.table[key]

    def wait(self, key: bytes, now: float) -> float:
        """Seconds until one request is allowed (0 if now)."""
        bucket = self._bucket(key, now)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def spend(self, key: bytes, now: float) -> None:
        self._bucket(key, now).tokens -= 1


class RateLimiter:
    """The buckets of one process. `clock` is monotonic seconds (injectable for tests)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits = {name: (count, float(seconds))
                        for name, count, seconds in settings.rate_limits}
        share = max(1, settings.rate_limit_processes)
        self._ceilings = {name: max(1, per_minute // share)
                          for name, per_minute in settings.rate_ceilings}
        self._global = {name: _Buckets(n, 60.0) for name, n in self._ceilings.items()}
        self._new_key(clock())

    def _new_key(self, now: float) -> None:
        # Never stored, never logged; replaced hourly, and the old buckets are dropped with it.
        self._key = secrets.token_bytes(32)
        self._born = now
        self._clients = {name: _Buckets(count, seconds)
                         for name, (count, seconds) in self._limits.items()}

    def client_key(self, address: str) -> bytes:
        return hmac.new(self._key, _network(address).encode(), hashlib.sha256).digest()[:16]

    def check(self, category: str, address: str) -> int:
        """Spend one request of `category` for `address`: 0 if allowed, else seconds to wait.

        A refused request spends nothing, so a client who waits as told gets through.
        """
        with self._lock:
            now = self._clock()
            if now - self._born >= KEY_LIFETIME:
                self._new_key(now)
            client, shared = self._clients[category], self._global[category]
            key = self.client_key(address)
            wait = max(client.wait(key, now), shared.wait(b"all", now))
            if wait > 0:
                return max(1, math.ceil(wait))
            client.spend(key, now)
            shared.spend(b"all", now)
            return 0

    def tracked_clients(self) -> int:
        with self._lock:
            return sum(len(b.table) for b in self._clients.values())


def _network(address: str) -> str:
    """The address to count: IPv4 as is, IPv6 by its /64, anything else as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def limiter_of(app: Any) -> RateLimiter:
    limiter: RateLimiter = app.state.rate_limiter
    return limiter


class _Gate:
    """An upload form's gate that also spends one request of a category (see `gate`)."""

    def __init__(self, request: Request, category: str,
                 inner: Callable[[Mapping[str, str]], bool]) -> None:
        self._request = request
        self._category = category
        self._inner = inner

    def precheck(self) -> None:
        # The inner gate's check before the body (the CSRF cookie), kept as it was. The limit
        # itself waits for the text fields, so that a refused report can be handed back.
        inner_precheck = getattr(self._inner, "precheck", None)
        if inner_precheck is not None:
            inner_precheck()

    def __call__(self, fields: Mapping[str, str]) -> bool:
        if not self._inner(fields):
            return False
        wait = limiter_of(self._request.app).check(self._category,
                                                   client_address(self._request.scope))
        if wait:
            raise RateLimited(self._category, wait, fields)
        return True


def gate(request: Request, category: str,
         inner: Callable[[Mapping[str, str]], bool]) -> Callable[[Mapping[str, str]], bool]:
    """Wrap an upload form's gate: after its check (CSRF), spend one request of `category`.

    Called with the text fields, before the first file is read: a refused report raises
    RateLimited carrying those fields, for the 429 page to hand back.
    """
    return _Gate(request, category, inner)


def _echo(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields.items() if k not in NOT_ECHOED and isinstance(v, str)]


def limited_page(request: Request, category: str, retry_after: int,
                 fields: Mapping[str, str] | None, multipart: bool = False) -> Response:
    from wbs.web.render import render  # render imports the app's helpers; keep this light

    echo = _echo(fields or {})
    path = request.url.path
    back = "/kotak-pesan" if path.startswith("/kotak-pesan") else (
        path if path in ("/status", "/lapor") or path.startswith("/survei/") else "/")
    response = render(request, "errors/rate_limited.html", {
        "category": category, "minutes": max(1, math.ceil(retry_after / 60)),
        "action": path, "back": back, "fields": echo, "multipart": multipart,
        "typed": [v for k, v in echo if len(v) > 40 or k in ("title", "body", "text")]},
        status_code=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def json_limited(category: str, retry_after: int) -> Response:
    return JSONResponse({"error": "too_many_requests", "category": category,
                         "retry_after": retry_after}, status_code=429,
                        headers={"Retry-After": str(retry_after)})


async def _read_small_form(scope: Scope, receive: Receive) -> dict[str, str] | None:
    """The url-encoded body of a refused request, to hand back; None if it is not one."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
               for k, v in scope.get("headers", [])}
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_ECHO_BYTES:
            return None
        if not message.get("more_body", False):
            break
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None


class RateLimitMiddleware:
    """Answers 429 before the body of a limited anonymous POST is read, when over a limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        category = category_of(scope["path"]) if scope["type"] == "http" and (
            scope["method"] == "POST") else None
        if category is None:
            await self.app(scope, receive, send)
            return
        wait = limiter_of(scope["app"]).check(category, client_address(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            response = json_limited(category, wait)
        else:
            fields = await _read_small_form(scope, receive)
            request = Request(scope, receive)
            response = limited_page(request, category, wait, fields)
        await response(scope, receive, send)
