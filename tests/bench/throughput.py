"""`make bench`, throughput part (issue 12): report submissions/s and status checks/s over HTTP
against a real `wbs serve --workers 2` on SQLite, and the RSS of each worker under that load.

The clients are threads of this process on the same machine, so they take CPU from the server.
Each keeps one raw keep-alive socket and sends prepared request bytes (an HTTP client library
cost more CPU per request than the server's own work on a status check, and the two share the
same two cores). The rate limits are lifted for the run (one client address sends everything).
Figures are printed and returned, never asserted.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tests.bench.serving import REPORT, UNLIMITED, _instance
from tests.live_server import LiveServer, live_server

CLIENTS = 8
SECONDS = 10.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


def _rss(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


class RawClient:
    """One keep-alive HTTP/1.1 connection that posts prepared JSON and reads whole answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(data)}"
                          f"\r\n\r\n".encode() + data)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in lines[1:]
                      if line.lower().startswith(b"content-length:"))
        while len(self.buffer) < length:
            self._read()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, answer

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk


def _hammer(server: LiveServer, call: Any, seconds: float) -> tuple[int, int, list[Any]]:
    """CLIENTS threads, each on its own keep-alive connection, for `seconds`."""
    ok, failed = [0], [0]
    outputs: list[Any] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        c = RawClient(server.port)
        try:
            while time.monotonic() < stop:
                good, output = call(c)
                with lock:
                    if good:
                        ok[0] += 1
                        if output is not None:
                            outputs.append(output)
                    else:
                        failed[0] += 1
        finally:
            c.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok[0], failed[0], outputs


def _submit(c: RawClient) -> tuple[bool, Any]:
    status, answer = c.post("/api/v1/reports", REPORT)
    return status == 201, json.loads(answer)["code"] if status == 201 else None


def run(tmp: Path) -> dict[str, Any]:
    settings = _instance(tmp)
    figures: dict[str, Any] = {}
    with live_server(settings, tmp, "--workers", "2", **UNLIMITED) as server:
        warm = RawClient(server.port)
        for _ in range(20):  # every code path loaded once in both workers
            _submit(warm)
        warm.close()
        workers = _children(server.process.pid)
        ok, failed, codes = _hammer(server, _submit, SECONDS)
        figures["submissions_per_s"] = round(ok / SECONDS, 1)
        figures["submission_failures"] = failed
        print(f"POST /api/v1/reports, --workers 2, {CLIENTS} clients: "
              f"{ok / SECONDS:8.1f} submissions/s ({failed} failed)", flush=True)

        index = [0]

        def status(c: RawClient) -> tuple[bool, Any]:
            index[0] = (index[0] + 1) % len(codes)
            code, answer = c.post("/api/v1/status", {"code": codes[index[0]]})
            return code == 200 and b'"case_number"' in answer, None

        ok, failed, _ = _hammer(server, status, SECONDS)
        figures["status_per_s"] = round(ok / SECONDS, 1)
        figures["status_failures"] = failed
        print(f"POST /api/v1/status, --workers 2, {CLIENTS} clients: "
              f"{ok / SECONDS:8.1f} status checks/s ({failed} failed)", flush=True)
        figures["workers"] = []
        for pid in workers:
            try:
                rss = _rss(pid)
            except FileNotFoundError:
                continue
            if rss:
                figures["workers"].append({"pid": pid, "rss_mb": rss.get("VmRSS"),
                                           "peak_rss_mb": rss.get("VmHWM")})
        for w in figures["workers"]:
            print(f"  process {w['pid']}: RSS {w['rss_mb']} MB, peak {w['peak_rss_mb']} MB")
    return figures
