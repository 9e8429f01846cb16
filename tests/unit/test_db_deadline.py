"""Deadlines on calls that wait for the database (wbs/db_deadline.py): a call still waiting when
its deadline passes is woken by its socket being shut down; a call that ends in time leaves the
socket as it was."""

from __future__ import annotations

import socket
import threading
import time

from wbs.db_deadline import Deadlines


def test_a_call_still_waiting_at_its_deadline_is_woken() -> None:
    deadlines = Deadlines()
    ours, silent_peer = socket.socketpair()
    with ours, silent_peer:
        started = time.monotonic()
        with deadlines.watch(ours.fileno(), 0.2) as watch:
            ours.settimeout(30)  # only a failed deadline would let this wait so long
            assert ours.recv(1) == b""  # shut down: the end of the stream, not an answer
        assert watch.expired
        assert time.monotonic() - started < 10


def test_a_call_that_ends_in_time_keeps_its_socket() -> None:
    deadlines = Deadlines()
    ours, peer = socket.socketpair()
    with ours, peer:
        peer.sendall(b"x")
        with deadlines.watch(ours.fileno(), 0.2) as watch:
            assert ours.recv(1) == b"x"
        time.sleep(0.4)  # past the deadline it no longer had
        assert not watch.expired
        peer.sendall(b"y")
        assert ours.recv(1) == b"y"


def test_an_earlier_deadline_is_kept_while_a_later_one_waits() -> None:
    deadlines = Deadlines()
    (slow, slow_peer), (fast, _fast_peer) = pairs = [socket.socketpair() for _ in range(2)]
    try:
        late: list[bool] = []

        def wait_long() -> None:
            with deadlines.watch(slow.fileno(), 60) as watch:
                slow.settimeout(30)
                slow.recv(1)
            late.append(watch.expired)

        waiting = threading.Thread(target=wait_long)
        waiting.start()
        time.sleep(0.1)  # the watcher now sleeps towards the 60 s deadline ...
        started = time.monotonic()
        with deadlines.watch(fast.fileno(), 0.2) as watch:  # ... and must wake for this one
            fast.settimeout(30)
            assert fast.recv(1) == b""
        assert watch.expired and time.monotonic() - started < 10
        slow_peer.sendall(b"z")  # the long call ends on its own, well before its deadline
        waiting.join(10)
        assert late == [False]
    finally:
        for a, b in pairs:
            a.close()
            b.close()
