"""What `wbs serve` adds to uvicorn's HTTP/1.1 protocol: TCP_NODELAY and a header deadline.

- **TCP_NODELAY on every accepted socket.** asyncio sets it only when the listening socket says
  `proto == IPPROTO_TCP`; with `--workers N` uvicorn hands its workers a socket rebuilt from a
  file descriptor whose `proto` is 0, so asyncio skips it, and every response waits for the
  client's delayed ACK (`/healthz` went from 0.9 to 44 ms). Setting it per connection does not
  depend on how the listening socket was made.
- **A deadline for the request head.** uvicorn times out idle keep-alive connections, but not a
  client that sends its request line and headers a byte at a time; each such connection counts
  against `--limit-concurrency` for as long as its sender likes. The head of every request must
  be complete within `header_timeout` seconds of its first byte (or of the connection).

Bodies are timed by `wbs.web.body_limits`, inside the app, for every request.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_ENV = "WBS_HEADER_TIMEOUT_SECONDS"
DEFAULT_HEADER_TIMEOUT = 10.0


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class WbsH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read from the environment: `wbs serve` sets it before uvicorn spawns its workers,
        # which build their protocol instances from a fresh import of this module.
        self.header_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT))
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        set_nodelay(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # Bytes of a request head are arriving (a first request, or the next one on a
            # keep-alive connection): the head must be complete in time.
            if self._head_timer is None:
                self._arm_head_timer()
        else:
            self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        # Only ever armed while the head is incomplete: every byte that completes it passes
        # through data_received, which cancels this timer (a cancelled handle never runs, even
        # when already due in the same loop iteration). Closing twice is harmless.
        self._head_timer = None
        self.transport.close()
