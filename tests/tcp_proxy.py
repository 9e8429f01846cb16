"""A local TCP proxy the tests can cut or hang, to take a database away without touching the
server.

The shared PostgreSQL must never be stopped by a test; instead the app connects through this
proxy. `cut()` closes every open connection and refuses new ones until `restore()`: a database
that is down. `hang()` keeps every connection open and accepts new ones, but forwards nothing in
either direction until `restore()`: a database that does not answer (a frozen server, a
half-dead load balancer, a firewall that drops instead of refusing).

What a hang through this proxy cannot show: the proxy's own kernel still acknowledges every
segment the app sends, so TCP-level guards (keepalives, `tcp_user_timeout`) never fire here; a
peer that stays silent while its TCP stack answers is exactly what only the app's own deadlines
catch.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._held: set[socket.socket] = set()  # accepted while hung, never connected onward
        self._lock = threading.Lock()
        self._cut = False
        self._closed = False
        self._flowing = threading.Event()  # cleared while hung: the pipes hold what they read
        self._flowing.set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut:
                client.close()
                continue
            if not self._flowing.is_set():
                # The TCP handshake completes (the kernel does it) and then nothing answers.
                with self._lock:
                    self._held.add(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            # The timeout was for connecting only: left on the socket, an upstream idle for
            # five seconds would end the connection, which no real network does.
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = src.recv(65536)
                # While hung, what was read (and the end of the stream too) waits here, the way
                # a stalled path delays segments; `restore()` lets it through.
                self._flowing.wait()
                if not data:
                    break
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        """Close every connection and refuse new ones: the database is gone for the app."""
        self._cut = True
        with self._lock:
            sockets, self._open = self._open | self._held, set()
            self._held = set()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def hang(self) -> None:
        """Keep every connection open and accept new ones, but forward nothing either way: the
        database no longer answers, yet nothing tells the app so."""
        self._flowing.clear()

    def restore(self) -> None:
        """End a cut or a hang. Connections held through a hang carry on with what waited; the
        ones accepted during it were never connected onward and are closed (their clients
        gave up on them long ago)."""
        self._cut = False
        with self._lock:
            held, self._held = self._held, set()
        for s in held:
            s.close()
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._flowing.set()  # release the pipes held by a hang; their sockets are closed
        self._listener.close()
