"""`make bench`, serving part: a real `wbs serve` over real sockets (issue 12).

- RSS of the server process per concurrent 100 MB report, beyond the file bytes in flight
  (4 x 25,000,000 bytes per report, sent over raw sockets by a generator, so the benchmark's
  own memory stays out of it); the RSS left held afterwards.
- `/healthz` and a report submission (the JSON API), sequential over keep-alive connections,
  with `--workers 2` (the delayed-ACK stall showed there).

Figures are printed and returned, never asserted.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import LiveServer, live_server
from wbs import demo, instance, migrate
from wbs.context import Context
from wbs.crypto.passwords import TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.settings import Settings

MB = 1_000_000
FILE = 25 * MB
BOUNDARY = "benchboundary"
UNLIMITED = {"WBS_RATE_LIMITS": "report=9999999/1s,status=9999999/1s",
             "WBS_RATE_CEILINGS": "report=9999999,status=9999999"}
REPORT = {"kind": "complaint", "title": "Bench", "what": "x" * 2000,
          "identity_mode": "anonymous"}


def _instance(tmp: Path) -> Settings:
    settings = replace(Settings(), env="development", data_dir=tmp / "data",
                       database_url=f"sqlite:///{tmp / 'data' / 'wbs.sqlite3'}",
                       keys_dir=tmp / "keys", mail_dir=tmp / "data" / "mail",
                       argon2=TEST_PARAMS, base_url="https://wbs.bench")
    settings.data_dir.mkdir(parents=True)
    instance.create_keys(settings.keys_dir)
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    demo.load(Context(settings=settings, keys=instance.load_keys(settings.keys_dir),
                      engine=engine, db=make_sessionmaker(engine), kdf=PasswordKDF(TEST_PARAMS)))
    engine.dispose()
    return settings


def _send_report(server: LiveServer, cookie: str, token: str, results: list[int],
                 size: int = FILE) -> None:
    fields = {"csrf_token": token, **REPORT}
    head = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                    .encode() for k, v in fields.items())
    part = [(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="rekaman-{i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
            .encode() for i in range(4)]
    tail = f"--{BOUNDARY}--\r\n".encode()
    length = len(head) + sum(len(p) + size + 2 for p in part) + len(tail)
    with socket.create_connection(("127.0.0.1", server.port), timeout=300) as sock:
        sock.sendall((f"POST /lapor HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                      f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                      f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode() + head)
        block = bytes([7]) * (1 << 20)
        for p in part:
            sock.sendall(p)
            left = size
            while left:
                sent = min(left, len(block))
                sock.sendall(block[:sent])
                left -= sent
            sock.sendall(b"\r\n")
        sock.sendall(tail)
        answer = sock.recv(64)
    results.append(int(answer.split(b" ", 2)[1]) if answer else 0)


def upload_memory(tmp: Path) -> dict[str, Any]:
    """Each round on a fresh server, warmed with one small report (every code path loaded), so
    that memory a previous round left to the allocator does not hide or inflate this one's."""
    settings = _instance(tmp)
    figures: dict[str, Any] = {}
    for concurrent in (1, 2, 4):
        with live_server(settings, tmp) as server:
            cookie, token = server.form_token()
            _send_report(server, cookie, token, [], size=100_000)
            time.sleep(1)
            baseline = server.rss_kib()
            peak = [baseline]
            done = threading.Event()

            def sample(peak: list[int] = peak, done: threading.Event = done,
                       server: LiveServer = server) -> None:
                while not done.wait(0.01):
                    peak[0] = max(peak[0], server.rss_kib())

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            results: list[int] = []
            senders = [threading.Thread(target=_send_report,
                                        args=(server, cookie, token, results))
                       for _ in range(concurrent)]
            started = time.perf_counter()
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
            time.sleep(1)
            after = server.rss_kib()
        growth = (peak[0] - baseline) / 1024
        beyond = (growth - concurrent * 100) / concurrent
        figures[f"upload_x{concurrent}"] = {
            "statuses": sorted(results), "seconds": round(elapsed, 1),
            "rss_baseline_mb": round(baseline / 1024), "rss_peak_mb": round(peak[0] / 1024),
            "growth_mb": round(growth), "beyond_files_per_report_mb": round(beyond, 1),
            "held_after_mb": round((after - baseline) / 1024)}
        print(f"{concurrent} x 100 MB report(s) at once: statuses {sorted(results)}, "
              f"{elapsed:.1f} s; server RSS {baseline / 1024:.0f} -> peak "
              f"{peak[0] / 1024:.0f} MB (+{growth:.0f} MB, {beyond:+.1f} MB per report "
              f"beyond its 100 MB of files); {(after - baseline) / 1024:+.0f} MB held after",
              flush=True)
    return figures


def _latency(client: httpx.Client, label: str, runs: int, call: Any) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call(client)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    median = statistics.median(samples)
    print(f"{label:58} median {median:8.2f} ms   p95 {p95:8.2f} ms   ({runs} runs)")
    return {"median_ms": round(median, 2), "p95_ms": round(p95, 2)}


def latency_two_workers(tmp: Path) -> dict[str, Any]:
    settings = _instance(tmp)
    figures: dict[str, Any] = {}
    # One client address sends every request: the rate limits would answer 429.
    with live_server(settings, tmp, "--workers", "2", **UNLIMITED) as server, \
            httpx.Client(base_url=server.base, timeout=60) as client:
        for _ in range(20):
            client.get("/healthz")
        figures["healthz_workers2"] = _latency(
            client, "GET /healthz, --workers 2, keep-alive", 300,
            lambda c: c.get("/healthz").raise_for_status())
        figures["submit_workers2"] = _latency(
            client, "POST /api/v1/reports, --workers 2, keep-alive", 100,
            lambda c: c.post("/api/v1/reports", json=REPORT).raise_for_status())
    return figures
