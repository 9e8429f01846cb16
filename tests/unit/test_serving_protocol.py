"""`wbs serve`'s HTTP protocol (`wbs.serving.WbsH11Protocol`) in this process: the request-head
deadline on a first request and on the next request of a keep-alive connection, a slow head that
still ends in time, TCP_NODELAY on TCP connections, and a Unix socket served without it.

The live-server tests (tests/functional/test_serve.py, tests/security/test_upload_availability.py)
check the same things through `wbs serve` in a child process; these run uvicorn in a thread with
a two-line app, so that what is checked is the protocol alone.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from wbs import serving

HEAD = b"GET / HTTP/1.1\r\nHost: wbs.test\r\n"


async def hello(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def serving_in_thread(header_timeout: float, **where: Any) -> Iterator[uvicorn.Server]:
    config = uvicorn.Config(hello, http=serving.WbsH11Protocol, lifespan="off", log_config=None,
                            access_log=False, timeout_keep_alive=60, **where)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(serving.HEADER_TIMEOUT_ENV, str(header_timeout))
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        try:
            yield server
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def port_of(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection without answering, or None."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        data = sock.recv(1024)
    except TimeoutError:
        return None
    assert data == b"", f"the server answered instead of closing: {data[:60]!r}"
    return time.monotonic() - started


def read_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while not data.endswith(b"hello"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the response ended"
        data += chunk
    return data


def test_a_head_that_stops_half_way_is_closed_at_the_deadline() -> None:
    with serving_in_thread(0.5, host="127.0.0.1", port=0) as server, \
            socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        sock.sendall(HEAD)  # no blank line: the head never ends
        waited = closed_within(sock, 10)
        assert waited is not None and waited < 5


def test_a_connection_that_sends_nothing_is_closed_at_the_deadline() -> None:
    with serving_in_thread(0.5, host="127.0.0.1", port=0) as server, \
            socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        waited = closed_within(sock, 10)
        assert waited is not None and waited < 5


def test_a_slow_head_that_ends_in_time_is_answered_and_the_connection_kept() -> None:
    with serving_in_thread(3.0, host="127.0.0.1", port=0) as server, \
            socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        for piece in (b"GET / HT", b"TP/1.1\r\nHo", b"st: wbs.test\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.2)
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        # Idle after a response is the keep-alive timeout's business (60 s here), not the head
        # deadline's: the connection is still open past 3 s.
        assert closed_within(sock, 4) is None
        sock.sendall(HEAD + b"\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")


def test_the_next_head_on_a_kept_alive_connection_has_its_own_deadline() -> None:
    with serving_in_thread(0.5, host="127.0.0.1", port=0) as server, \
            socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        sock.sendall(HEAD + b"\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET / HTTP/1.1\r\n")  # the second request's head, never finished
        waited = closed_within(sock, 10)
        assert waited is not None and waited < 5  # not the 60 s keep-alive timeout


def test_accepted_tcp_connections_have_nodelay() -> None:
    with serving_in_thread(5.0, host="127.0.0.1", port=0) as server, \
            socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        sock.sendall(HEAD + b"\r\n")
        read_response(sock)
        (protocol,) = server.server_state.connections
        accepted = protocol.transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_unix_socket_is_served_without_tcp_options(tmp_path: Path) -> None:
    path = tmp_path / "wbs.sock"
    with serving_in_thread(5.0, uds=str(path)) as server, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(path))
        sock.sendall(HEAD + b"\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        (protocol,) = server.server_state.connections
        assert protocol.transport.get_extra_info("socket").family == socket.AF_UNIX


def test_the_deadline_comes_from_the_environment_or_defaults_to_ten_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    config = uvicorn.Config(hello)
    config.load()
    state = uvicorn.server.ServerState()
    loop = asyncio.new_event_loop()  # uvicorn makes its protocols inside a running loop
    try:
        monkeypatch.delenv(serving.HEADER_TIMEOUT_ENV, raising=False)
        assert serving.WbsH11Protocol(config, state, {}, _loop=loop).header_timeout == 10.0
        monkeypatch.setenv(serving.HEADER_TIMEOUT_ENV, "2.5")
        assert serving.WbsH11Protocol(config, state, {}, _loop=loop).header_timeout == 2.5
    finally:
        loop.close()
