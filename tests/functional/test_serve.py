"""`wbs serve` itself: socket options on accepted connections, and its documented options.

Issue 12: with `--workers N`, uvicorn hands its workers a listening socket whose `proto` is 0,
so asyncio never set TCP_NODELAY and every response waited for a delayed ACK (44 ms). The test
measures nothing: it reads the option on the server's own accepted socket, duplicated into this
process with pidfd_getfd(2).
"""

from __future__ import annotations

import ctypes
import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.live_server import live_server
from wbs.settings import Settings

SYS_PIDFD_GETFD = 438  # the same number on x86-64 and arm64


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def _socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server's end of our connection, from the kernel's TCP table."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (int(local.split(":")[1], 16) == server_port
                and int(remote.split(":")[1], 16) == client_port):
            return fields[9]
    raise LookupError("accepted socket not found")


def _server_socket(pids: list[int], inode: str) -> tuple[int, int]:
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fd_dir.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                if os.readlink(entry) == f"socket:[{inode}]":
                    return pid, int(entry.name)
            except OSError:
                continue
    raise LookupError("no process holds the accepted socket")


def _borrow_fd(pid: int, fd: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        local = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if local < 0:
            errno = ctypes.get_errno()
            pytest.skip(f"pidfd_getfd not permitted here ({os.strerror(errno)})")
        return int(local)
    finally:
        os.close(pidfd)


def test_workers_set_tcp_nodelay_on_accepted_sockets(settings: Settings, demo: Any,
                                                     tmp_path: Path) -> None:
    with live_server(settings, tmp_path, "--workers", "2") as server:
        # Several connections, so that both workers are likely to accept at least one; every
        # one of them must have the option, whichever worker holds it.
        clients = [socket.create_connection(("127.0.0.1", server.port), timeout=30)
                   for _ in range(6)]
        checked = 0
        try:
            for client in clients:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert client.recv(4096).startswith(b"HTTP/1.1 200")  # kept alive
                inode = _socket_inode(server.port, client.getsockname()[1])
                pid, fd = _server_socket(_descendants(server.process.pid), inode)
                assert pid != server.process.pid  # accepted by a worker, not the supervisor
                # Our copy of the worker's descriptor: closing it leaves the worker's open.
                with socket.socket(fileno=_borrow_fd(pid, fd)) as borrowed:
                    assert borrowed.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                    checked += 1
        finally:
            for client in clients:
                client.close()
        # Each worker cleans files in its own sandboxed processes (children of a child).
        out = io.BytesIO()
        Image.new("RGB", (32, 32), (1, 2, 3)).save(out, "JPEG")
        cookie, token = server.form_token()
        response = httpx.post(server.base + "/lapor", data={
            "csrf_token": token, "kind": "complaint", "title": "Foto", "what": "Bukti foto.",
            "identity_mode": "anonymous"}, files=[("files", ("foto.jpg", out.getvalue(),
                                                            "image/jpeg"))],
            headers={"Cookie": cookie}, timeout=60)
        # Stored: Post/Redirect/Get to the receipt.
        assert response.status_code == 303, response.text[:300]
        assert response.headers["location"] == "/lapor/tanda-terima"
    assert checked == len(clients)


def test_serve_help_documents_the_limits() -> None:
    help_text = subprocess.run([sys.executable, "-m", "wbs", "serve", "--help"],
                               capture_output=True, text=True, check=True).stdout
    for option in ("--limit-concurrency", "--keep-alive", "--header-timeout",
                   "--max-header-bytes", "WBS_BODY_MIN_RATE", "WBS_UPLOAD_BUDGET_BYTES"):
        assert option in help_text
