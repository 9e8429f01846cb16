"""Cleaning in sandboxed worker processes: one bad file costs one worker, never the server.

An 8944 x 8944 PNG of 310 KB costs about 0.9 GB to decode, a 2.5 MB PDF of 20,000 blank pages
ten seconds of CPU; the format modules refuse those by their caps, but a parser can always be
surprised by the next trick. So the parsers never run in the server: each file is cleaned in a
fresh process, forked from a `forkserver` that has the parsers loaded (tens of milliseconds per
file), which before reading a byte of the file sets

- `RLIMIT_AS`: a hard cap on its memory; an allocation past it fails (MemoryError, or the
  process dies) and only that process is lost;
- `RLIMIT_CPU`: SIGXCPU, then SIGKILL, once it has used its CPU seconds;
- `RLIMIT_CORE = 0` and `RLIMIT_FSIZE = 0`: a crash leaves no core dump, and the worker cannot
  write a regular file, so a reporter's evidence can never land on the disk from here.

The server also kills a worker that runs past a wall-clock limit (a loaded machine gives less
CPU than wall time). A fresh process per file also means nothing of one reporter's file can
linger in a worker when the next file arrives. At most `workers` files are cleaned at once per
server process; a file that waits longer than `queue_seconds` for a turn raises `SandboxBusy`
(the caller answers 503 with Retry-After rather than queueing without end).

The forkserver is itself a fresh interpreter (not a fork of the threaded server), started on
first use. Files whose type needs no parsing (sniffed from their first bytes) never leave the
server: they are handed on unchanged, without a copy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import threading
import time
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import anyio.to_thread

from wbs.files.common import PARSED_KINDS, UNKNOWN_TYPE, CleanFile, UnsafeFile, sniff

_PRELOAD = ["wbs.files.images", "wbs.files.pdf", "wbs.files.office"]
_POLL_SECONDS = 0.05


class SandboxBusy(Exception):
    """Every worker stayed busy for longer than the caller may wait."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 30
    wall_seconds: float = 90.0
    max_output_bytes: int = 64 * 1000 * 1000


class Sandbox:
    def __init__(self, limits: Limits, *, workers: int = 2, queue_seconds: float = 30.0) -> None:
        self.limits = limits
        self.workers = workers
        self.queue_seconds = queue_seconds
        self._turns = threading.BoundedSemaphore(workers)
        self._context: Any = None
        self._context_lock = threading.Lock()
        self.spawned = 0  # workers started so far: tests and benchmarks read it

    def _mp(self) -> Any:
        with self._context_lock:
            if self._context is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_PRELOAD)
                self._context = context
            return self._context

    async def clean(self, data: bytes | bytearray, filename: str,
                    declared_type: str) -> CleanFile:
        """The cleaned file; UnsafeFile if it cannot be cleaned; SandboxBusy if no turn came."""
        if sniff(data) not in PARSED_KINDS:
            return CleanFile(data, UNKNOWN_TYPE, stripped=False, note="unknown_type")
        await self._take_turn()
        try:
            return await anyio.to_thread.run_sync(self._run, data)
        finally:
            self._turns.release()

    async def _take_turn(self) -> None:
        # Polled rather than awaited on an asyncio primitive: the semaphore is shared by every
        # event loop of the process (the test client runs one per client), and it is only
        # polled while every worker is busy.
        deadline = time.monotonic() + self.queue_seconds
        while not self._turns.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise SandboxBusy
            await asyncio.sleep(_POLL_SECONDS)

    def clean_blocking(self, data: bytes | bytearray) -> CleanFile:
        """`clean` for callers outside an event loop (the CLI, benchmarks): same limits."""
        if sniff(data) not in PARSED_KINDS:
            return CleanFile(data, UNKNOWN_TYPE, stripped=False, note="unknown_type")
        if not self._turns.acquire(timeout=self.queue_seconds):
            raise SandboxBusy
        try:
            return self._run(data)
        finally:
            self._turns.release()

    def _run(self, data: bytes | bytearray) -> CleanFile:
        context = self._mp()
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=_worker, args=(theirs, self.limits), daemon=True,
                                  name="wbs-clean")
        try:
            process.start()
            self.spawned += 1
            theirs.close()
            try:
                ours.send_bytes(memoryview(data))
                if not ours.poll(self.limits.wall_seconds):
                    raise UnsafeFile("file_too_complex")
                head = ours.recv()
                if head[0] == "unsafe":
                    raise UnsafeFile(str(head[1]))
                _ok, content_type, stripped, note = head
                out = ours.recv_bytes(self.limits.max_output_bytes)
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
                # The worker died: killed at its CPU limit, or its allocator gave up at the
                # memory limit. That is this file's failure, nobody else's.
                raise UnsafeFile("file_too_complex") from None
            return CleanFile(out, str(content_type), stripped=bool(stripped), note=str(note))
        finally:
            ours.close()
            if process.is_alive():
                process.kill()
            process.join(timeout=5)


# Both functions below run only inside the worker process, where RLIMIT_FSIZE is 0: coverage
# cannot write its data there, so they are excluded from the measurement. Their behaviour is
# tested from outside, in tests/unit/files/test_sandbox.py (limits, answers, deaths).
def _limit_self(limits: Limits) -> None:  # pragma: no cover - worker only, see above
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))


def _worker(conn: Connection, limits: Limits) -> None:  # pragma: no cover - worker only, see above
    """The worker process: limits first, then one file in, one answer out, exit."""
    _limit_self(limits)
    from PIL import Image

    from wbs.files import images, strip_metadata

    # This process does nothing else, so Pillow's process-wide bomb check can be ours: every
    # decode, embedded images and frames included, obeys the same pixel cap.
    Image.MAX_IMAGE_PIXELS = images.MAX_IMAGE_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        data = conn.recv_bytes()
        try:
            clean = strip_metadata(data, "", "")
        except UnsafeFile as exc:
            conn.send(("unsafe", exc.reason))
            return
        except MemoryError:
            conn.send(("unsafe", "file_too_complex"))
            return
        del data
        conn.send(("ok", clean.content_type, clean.stripped, clean.note))
        conn.send_bytes(clean.data)
    finally:
        conn.close()
