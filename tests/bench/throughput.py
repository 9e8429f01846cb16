"""`make bench`, throughput part (issue 12): report submissions/s and status checks/s over HTTP
against a real `wbs serve --workers 2` on SQLite, and the RSS of each worker under that load.

The clients are threads of this process on the same machine, so they take CPU from the server;
the rate limits are lifted for the run (one client address sends everything). Figures are
printed and returned, never asserted.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

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


def _hammer(server: LiveServer, call: Any, seconds: float) -> tuple[int, int, list[Any]]:
    """CLIENTS threads, each on its own keep-alive connection, for `seconds`."""
    ok, failed = [0], [0]
    outputs: list[Any] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(base_url=server.base, timeout=60) as c:
            while time.monotonic() < stop:
                good, output = call(c)
                with lock:
                    if good:
                        ok[0] += 1
                        if output is not None:
                            outputs.append(output)
                    else:
                        failed[0] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok[0], failed[0], outputs


def _submit(c: httpx.Client) -> tuple[bool, Any]:
    answer = c.post("/api/v1/reports", json=REPORT)
    return answer.status_code == 201, answer.json().get("code") if answer.status_code == 201 \
        else None


def run(tmp: Path) -> dict[str, Any]:
    settings = _instance(tmp)
    figures: dict[str, Any] = {}
    with live_server(settings, tmp, "--workers", "2", **UNLIMITED) as server:
        with httpx.Client(base_url=server.base, timeout=60) as c:
            for _ in range(20):  # every code path loaded once in both workers
                _submit(c)
        workers = _children(server.process.pid)
        ok, failed, codes = _hammer(server, _submit, SECONDS)
        figures["submissions_per_s"] = round(ok / SECONDS, 1)
        figures["submission_failures"] = failed
        print(f"POST /api/v1/reports, --workers 2, {CLIENTS} clients: "
              f"{ok / SECONDS:8.1f} submissions/s ({failed} failed)", flush=True)

        index = [0]

        def status(c: httpx.Client) -> tuple[bool, Any]:
            index[0] = (index[0] + 1) % len(codes)
            answer = c.post("/api/v1/status", json={"code": codes[index[0]]})
            return answer.status_code == 200, None

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
