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
    sock: socket.socket  # a duplicate of the watched descriptor: the watch's own
    due: float
    expired: bool = field(default=False)


class Deadlines:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[Watch] = set()
        self._thread: threading.Thread | None = None
        self._sleeping_until: float | None = None  # the deadline the watcher waits for

    @contextmanager
    def watch(self, fileno: int, seconds: float) -> Iterator[Watch]:
        """Shut the socket `fileno` down if the block has not ended within `seconds`.

        The watch holds a duplicate of the descriptor from its start to its end, and shuts the
        duplicate down: shutdown acts on the socket itself, which the duplicate keeps open and
        unambiguous. The driver may close `fileno` inside a failing call (libpq does), and the
        number may then go to another socket (a client's) before the block ends; that one is
        never touched."""
        entry = Watch(socket.fromfd(fileno, socket.AF_INET, socket.SOCK_STREAM),
                      time.monotonic() + seconds)
        try:
            with self._cond:
                self._watches.add(entry)
                # The watcher wakes by itself at the deadline it sleeps towards and then sees
                # this one too: only an earlier one, or none to sleep towards, needs waking it
                # (a watch that ended leaves its deadline to sleep towards, so watches one
                # after another do not wake it each time).
                earlier = self._sleeping_until is None or entry.due < self._sleeping_until
                if earlier:
                    self._sleeping_until = entry.due
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="wbs-db-deadlines",
                                                    daemon=True)
                    self._thread.start()
                elif earlier:
                    self._cond.notify()
            yield entry
        finally:
            with self._cond:
                self._watches.discard(entry)
            entry.sock.close()  # after the watcher let go of it: it shuts down under the lock

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for entry in [w for w in self._watches if w.due <= now]:
                    self._watches.discard(entry)
                    entry.expired = True
                    _shut_down(entry.sock)
                soonest = min((w.due for w in self._watches), default=None)
                if soonest is None and self._sleeping_until is not None \
                        and self._sleeping_until > now:
                    soonest = self._sleeping_until  # its watches ended; new ones rely on it
                self._sleeping_until = soonest
                self._cond.wait(None if soonest is None else soonest - now)


def _shut_down(sock: socket.socket) -> None:
    # Shut down, not close: the driver keeps its descriptor (it closes it with the connection);
    # shutting the socket down wakes every call waiting on it, in any thread. (The family the
    # duplicate was made with does not matter to shutdown.)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


DEADLINES = Deadlines()
