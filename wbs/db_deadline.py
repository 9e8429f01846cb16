"""Deadlines on database calls that wait for the server: when one passes, the connection's socket
is shut down, so the blocked driver call fails at once (and the pool drops the broken
connection) instead of waiting for a server that no longer answers.

Why the app needs its own: psycopg has no per-call timeout; a server-side `statement_timeout`
needs a server that still answers; TCP keepalives and `tcp_user_timeout` (wbs/db.py) notice only
a peer whose TCP stack is gone too, while a frozen PostgreSQL, or a half-dead proxy or load
balancer in front of it, still acknowledges every segment and never replies.

One thread serves every watch of the process; it sleeps until the earliest deadline and costs
nothing while no call is watched.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class Watch:
    fileno: int
    due: float
    expired: bool = field(default=False)


class Deadlines:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[Watch] = set()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, fileno: int, seconds: float) -> Iterator[Watch]:
        """Shut the socket `fileno` down if the block has not ended within `seconds`.

        The caller owns the socket and keeps it open for the whole block (a driver call that
        fails keeps its descriptor until the connection is closed, after the block), so the
        descriptor shut is never one the number was reused for."""
        entry = Watch(fileno, time.monotonic() + seconds)
        with self._cond:
            self._watches.add(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wbs-db-deadlines",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            yield entry
        finally:
            with self._cond:
                self._watches.discard(entry)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for entry in [w for w in self._watches if w.due <= now]:
                    self._watches.discard(entry)
                    entry.expired = True
                    _shut_down(entry.fileno)
                soonest = min((w.due for w in self._watches), default=None)
                self._cond.wait(None if soonest is None else soonest - now)


def _shut_down(fileno: int) -> None:
    # Shut down, not close: the descriptor stays the driver's (it closes it with the
    # connection); shutting a socket down wakes every call waiting on it, in any thread.
    # (fromfd works on a copy of the descriptor; the family given does not matter to shutdown.)
    with contextlib.suppress(OSError), socket.fromfd(fileno, socket.AF_INET,
                                                     socket.SOCK_STREAM) as sock:
        sock.shutdown(socket.SHUT_RDWR)


DEADLINES = Deadlines()
