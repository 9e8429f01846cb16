"""Deadlines on calls that wait for the database (wbs/db_deadline.py): a call still waiting when
its deadline passes is woken by its socket being shut down; a call that ends in time leaves the
socket as it was."""

from __future__ import annotations

import os
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


def test_a_descriptor_reused_before_the_deadline_is_left_alone() -> None:
    # libpq closes its socket inside a call that fails; until the watch ends, the number may
    # be given to another socket (a client's). The watcher must shut down the socket it was
    # given, never whatever now holds the number.
    deadlines = Deadlines()
    ours, ours_peer = socket.socketpair()
    other, other_peer = socket.socketpair()
    with ours_peer, other_peer:
        number = ours.fileno()
        with deadlines.watch(number, 0.3) as watch:
            ours.close()  # the driver gives its descriptor up inside the call ...
            os.dup2(other.fileno(), number)  # ... and the number goes to another socket
            other.close()
            reused = socket.socket(fileno=number)
            with reused:
                time.sleep(0.8)  # past the deadline
                assert watch.expired
                other_peer.sendall(b"x")
                reused.settimeout(5)
                assert reused.recv(1) == b"x", "the socket that took the number was shut down"
                reused.sendall(b"y")
                assert other_peer.recv(1) == b"y"
        ours_peer.settimeout(5)
        assert ours_peer.recv(1) == b"", "the watched socket itself was not shut down"


class _CountingCondition(threading.Condition):
    def __init__(self) -> None:
        super().__init__()
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_the_watcher_is_woken_only_for_an_earlier_deadline() -> None:
    deadlines = Deadlines()
    cond = deadlines._cond = _CountingCondition()
    ours, peer = socket.socketpair()
    with ours, peer:
        for _ in range(1000):  # each later than the one the watcher sleeps for
            with deadlines.watch(ours.fileno(), 30):
                pass
        assert cond.notified <= 2, f"{cond.notified} wake-ups for 1000 later deadlines"
        before = cond.notified
        with deadlines.watch(ours.fileno(), 0.2) as watch:  # earlier: it must wake for it
            ours.settimeout(30)
            assert ours.recv(1) == b""
        assert watch.expired and cond.notified == before + 1
