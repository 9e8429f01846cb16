"""The sandboxed cleaning workers: limits hold, a dead worker costs only its own file."""

from __future__ import annotations

import asyncio
import io
import os
import resource
import secrets
import struct
import zlib

import pytest
from PIL import Image

from tests.bombs import pdf_of_blank_pages
from wbs.files import UnsafeFile
from wbs.files.sandbox import Limits, Sandbox, SandboxBusy, _limit_self


def jpeg_with_gps(canary: str) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = canary  # Artist
    exif.get_ifd(0x8825)[2] = (6.0, 10.0, 30.0)
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 200, 10)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def big_png(width: int, height: int) -> bytes:
    """A valid RGB PNG of noise rows, built without holding its pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    packer = zlib.compressobj(1)
    row = b"\0" + os.urandom(width * 3)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def test_a_file_is_cleaned_in_a_worker_process() -> None:
    canary = f"WBS{secrets.token_hex(6)}"
    sandbox = Sandbox(Limits())
    clean = asyncio.run(sandbox.clean(jpeg_with_gps(canary), "foto.jpg", "image/jpeg"))
    assert clean.stripped and clean.content_type == "image/jpeg"
    assert canary.encode() not in clean.data
    assert sandbox.spawned == 1


def test_unparsed_types_stay_in_the_server_without_a_copy() -> None:
    data = bytearray(b"just some notes\n" * 100)
    sandbox = Sandbox(Limits())
    clean = asyncio.run(sandbox.clean(data, "catatan.txt", "text/plain"))
    assert clean.data is data and not clean.stripped and clean.note == "unknown_type"
    assert sandbox.spawned == 0


def test_a_file_over_the_memory_limit_costs_one_worker_and_the_next_file_is_cleaned() -> None:
    # 40 megapixels is within the pixel cap, but needs ~120 MB to decode: over a 200 MB address
    # space once the interpreter's own ~60 MB is counted.
    sandbox = Sandbox(Limits(memory_bytes=200 * 1024 * 1024))
    with pytest.raises(UnsafeFile) as refused:
        sandbox.clean_blocking(big_png(7000, 6000))
    assert refused.value.reason == "file_too_complex"
    clean = sandbox.clean_blocking(jpeg_with_gps("next"))
    assert clean.stripped
    assert sandbox.spawned == 2


def test_a_file_over_the_cpu_limit_is_killed() -> None:
    # A PDF whose /Count says 1 over 100,000 pages: counting them for real takes seconds of
    # CPU (and then refuses the file); with a one-second limit the worker is killed first.
    bomb = pdf_of_blank_pages(100_000).replace(b"/Count 100000", b"/Count 1     ")
    sandbox = Sandbox(Limits(cpu_seconds=1, wall_seconds=120))
    with pytest.raises(UnsafeFile) as refused:
        sandbox.clean_blocking(bomb)
    assert refused.value.reason == "file_too_complex"


def test_a_worker_that_runs_past_the_wall_clock_is_killed() -> None:
    sandbox = Sandbox(Limits(wall_seconds=0.2))
    with pytest.raises(UnsafeFile) as refused:
        sandbox.clean_blocking(big_png(6000, 5000))
    assert refused.value.reason == "file_too_complex"


def test_a_caller_that_waits_too_long_for_a_worker_gets_busy() -> None:
    sandbox = Sandbox(Limits(), workers=1, queue_seconds=0.2)

    async def two_at_once() -> list[object]:
        slow = big_png(4000, 3000)
        return await asyncio.gather(sandbox.clean(slow, "a.png", ""),
                                    sandbox.clean(slow, "b.png", ""), return_exceptions=True)

    results = asyncio.run(two_at_once())
    assert sum(isinstance(result, SandboxBusy) for result in results) == 1


def test_the_worker_limits_forbid_core_dumps_and_files(tmp_path: object) -> None:
    # Checked in a child of our own, since the limits cannot be lifted again once set.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:
            _limit_self(Limits(memory_bytes=2 * 1024 * 1024 * 1024, cpu_seconds=5))
            ok = (resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
                  and resource.getrlimit(resource.RLIMIT_FSIZE) == (0, 0)
                  and resource.getrlimit(resource.RLIMIT_CPU) == (5, 6))
            code = 0 if ok else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
