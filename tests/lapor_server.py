"""A stand-in for the SP4N-LAPOR! API on a real socket, started by the tests in a thread.

It keeps documents by idempotency key, as the national side is assumed to (`lapor_format`), and
can be told to fail the next requests: answer 500, or drop the connection before or after it has
stored the document (an answer lost on the way back).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LaporStub:
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key → doc
    tracking: dict[str, str] = field(default_factory=dict)  # idempotency key → tracking no.
    # What to do with the next POSTs, in order: "500", "redirect", "drop_before", "drop_after".
    failures: list[str] = field(default_factory=list)
    incoming: dict[str, Any] = field(default_factory=lambda: {"laporan": []})
    fixed_tracking: str | None = None  # answer every POST with this number
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]


def _handler(stub: LaporStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with stub.lock:
                stub.requests.append(Seen("GET", self.path, dict(self.headers), b""))
            self._answer(200, stub.incoming)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key", "")
            with stub.lock:
                stub.requests.append(Seen("POST", self.path, dict(self.headers), body))
                failure = stub.failures.pop(0) if stub.failures else None
                if failure == "redirect":
                    self.send_response(307)
                    self.send_header("Location", "http://127.0.0.1:9/steal")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if failure == "500":
                    self._answer(500, {"error": "internal"})
                    return
                if failure == "drop_before":
                    self.close_connection = True
                    return
                if key not in stub.stored:
                    stub.stored[key] = json.loads(body)
                    stub.tracking[key] = f"LAPOR-{len(stub.stored):05d}"
                if failure == "drop_after":
                    self.close_connection = True
                    return
            self._answer(201, {"nomor_tracking": stub.fixed_tracking or stub.tracking[key]})

    return Handler


@contextmanager
def lapor_server() -> Iterator[LaporStub]:
    stub = LaporStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
