"""Time limits on every request body, and the release of upload bytes when a request ends.

A body that never finishes holds a connection, a task and whatever it already sent, for as long
as its sender likes: four sockets sending a byte every few seconds once stopped every upload.
This middleware wraps `receive` for every HTTP request (pages and API, multipart, url-encoded
and JSON alike), so no handler can forget it:

- *minimum rate*: each `window` seconds must bring at least `min_rate * window` bytes, counted
  from the first read of the body (or the end of the last full window). A trickle, or a stall
  after a fast start, is cut within one window; a stall holds nothing for long.
- *deadline*: the whole body must arrive within `max_seconds`, whatever its rate.

A body past either limit gets 408 with `Connection: close` and is not read further. Once the body
is complete, `receive` is passed through untimed (handlers wait on it for a disconnect).

The middleware also gives each request a place for its upload `Lease` and releases it when the
response is sent, so the bytes a request holds stay counted through cleaning, sealing and
storing, not only parsing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wbs.web.upload_budget import Lease

LEASES_KEY = "wbs.upload_leases"


@dataclass(frozen=True)
class BodyTiming:
    min_rate: int = 4096  # bytes per second: a weak 2G connection still passes
    window: float = 20.0
    max_seconds: float = 1800.0  # 100 MB at about 60 KB/s


class BodyTimeout(HTTPException):
    def __init__(self) -> None:
        super().__init__(408, headers={"Connection": "close"})


class _TimedBody:
    def __init__(self, receive: Receive, timing: BodyTiming) -> None:
        self._receive = receive
        self._timing = timing
        self._started = 0.0
        self._window_start = 0.0
        self._window_bytes = 0
        self._done = False

    async def __call__(self) -> Message:
        if self._done:
            return await self._receive()
        now = time.monotonic()
        if not self._started:
            self._started = self._window_start = now
        timing = self._timing
        deadline = min(self._window_start + timing.window, self._started + timing.max_seconds)
        try:
            message = await asyncio.wait_for(self._receive(), timeout=max(deadline - now, 0.0))
        except TimeoutError:
            self._done = True
            raise BodyTimeout from None
        if message["type"] != "http.request":
            self._done = True
            return message
        self._window_bytes += len(message.get("body", b""))
        if self._window_bytes >= timing.min_rate * timing.window:
            self._window_start = time.monotonic()
            self._window_bytes = 0
        if not message.get("more_body", False):
            self._done = True
        return message


class BodyLimitsMiddleware:
    def __init__(self, app: ASGIApp, timing: BodyTiming) -> None:
        self.app = app
        self.timing = timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        leases: list[Lease] = []
        scope[LEASES_KEY] = leases
        try:
            await self.app(scope, _TimedBody(receive, self.timing), send)
        finally:
            for lease in leases:
                lease.release()


def register_lease(scope: Scope, lease: Lease) -> None:
    """Tie `lease` to the request: released when the response has been sent."""
    leases = scope.get(LEASES_KEY)
    if leases is None:
        # Without the middleware nothing would ever give the bytes back.
        raise RuntimeError("BodyLimitsMiddleware is not installed")
    leases.append(lease)
