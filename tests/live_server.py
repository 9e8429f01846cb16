"""A real `wbs serve` in a subprocess, over real sockets, for the tests that need one.

The test client buffers bodies and runs the app in the test's own process, so it can show
neither a slow client, nor the server's memory, nor uvicorn's sockets. These tests start the
server on a free port against the test's database and keys, and talk to it with raw sockets
(and httpx, whose cookie jar will not send `Secure` cookies over plain HTTP, hence the explicit
Cookie headers).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from wbs.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self, pid: int | None = None) -> int:
        return _status_field(pid or self.process.pid, "VmRSS")

    def peak_kib(self, pid: int | None = None) -> int:
        return _status_field(pid or self.process.pid, "VmHWM")

    def form_token(self, path: str = "/lapor") -> tuple[str, str]:
        """A CSRF cookie header and the matching form token, as a browser would hold them."""
        page = httpx.get(self.base + path, timeout=30)
        cookies = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
        match = CSRF_RE.search(page.text)
        assert match, page.text[:500]
        return cookies, match.group(1)


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(name)


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WBS_")}
    env.update({
        "WBS_ENV": "development", "WBS_DATABASE_URL": settings.database_url,
        "WBS_KEYS_DIR": str(settings.keys_dir), "WBS_DATA_DIR": str(settings.data_dir),
        "WBS_MAIL_DIR": str(settings.mail_dir), "WBS_ARGON2": settings.argon2.encode(),
        # The audit log's origin (and so its signatures) derives from the base URL.
        "WBS_BASE_URL": settings.base_url,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
    })
    env.update(extra)
    return env


@contextmanager
def live_server(settings: Settings, tmp: Path, *args: str, **env: str) -> Iterator[LiveServer]:
    port = free_port()
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wbs", "serve", "--host", "127.0.0.1", "--port", str(port),
             *args], env=server_env(settings, **env), stdout=out, stderr=subprocess.STDOUT,
            cwd=tmp)
    server = LiveServer(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(server.base + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
