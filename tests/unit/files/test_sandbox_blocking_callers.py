"""`Sandbox.clean_blocking` (the CLI's and the benchmarks' way in) keeps the same rules as the
server's `clean`: unparsed types never reach a worker, and a caller gets no more than its turn."""

from __future__ import annotations

import threading
import time

import pytest

from tests.unit.files.test_sandbox import big_png, jpeg_with_gps
from wbs.files.sandbox import Limits, Sandbox, SandboxBusy


def test_unparsed_types_are_returned_without_a_worker() -> None:
    data = b"catatan rapat\n" * 50
    sandbox = Sandbox(Limits())
    clean = sandbox.clean_blocking(data)
    assert clean.data is data and not clean.stripped and clean.note == "unknown_type"
    assert sandbox.spawned == 0


def test_a_blocking_caller_gets_busy_while_every_worker_is_taken() -> None:
    sandbox = Sandbox(Limits(), workers=1, queue_seconds=0.2)
    image = big_png(4000, 3000)
    done: list[object] = []

    def slow() -> None:
        try:
            done.append(sandbox.clean_blocking(image))
        except Exception as exc:  # noqa: BLE001 - reported below, whatever it is
            done.append(exc)

    worker = threading.Thread(target=slow)
    worker.start()
    while sandbox.spawned == 0:  # the slow file holds the only turn
        time.sleep(0.01)
    with pytest.raises(SandboxBusy):
        sandbox.clean_blocking(jpeg_with_gps("WBSbusy"))
    worker.join()
    assert len(done) == 1 and not isinstance(done[0], SandboxBusy) and sandbox.spawned == 1
    # Once the turn is free again the next file is cleaned.
    assert b"WBSbusy" not in sandbox.clean_blocking(jpeg_with_gps("WBSbusy")).data
