"""A per-process budget of upload bytes held in memory, in place of a fixed number of slots.

Fixed slots taken at the start of a request can be held by clients that send nothing (four
sockets sending a byte every few seconds once stopped every upload). The budget counts what a
request really holds: the bytes of its files as they arrive, then the cleaned copies, until the
request has sealed and stored them and its response is sent. A slow client holds only the few
bytes it sent, and a client that sends fast is done fast; to keep the budget full an attacker
has to send it in full, and keep sending (see `body_limits`).

A request that cannot get its bytes within a short wait gets 503 with Retry-After. The count is
process-wide and guarded by a lock, since it is shared by every event loop of the process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Final

_POLL_SECONDS: Final = 0.05


class BudgetExhausted(Exception):
    """The budget stayed full for longer than the caller may wait."""


class ByteBudget:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._used = 0
        self._lock = threading.Lock()
        self.peak = 0  # highest use seen, for benchmarks and tests

    @property
    def used(self) -> int:
        return self._used

    @property
    def free(self) -> int:
        return self.capacity - self._used

    def try_take(self, n: int) -> bool:
        with self._lock:
            if self._used + n > self.capacity:
                return False
            self._used += n
            self.peak = max(self.peak, self._used)
            return True

    def force_take(self, n: int) -> None:
        """Take bytes even past the capacity: for a copy that replaces bytes already counted."""
        with self._lock:
            self._used += n
            self.peak = max(self.peak, self._used)

    def give_back(self, n: int) -> None:
        with self._lock:
            self._used -= n
            if self._used < 0:  # a bug, never a reason to let more in
                self._used = 0

    async def wait_for_room(self, n: int, wait_seconds: float) -> bool:
        """Whether `n` bytes became free within the wait (nothing is taken)."""
        deadline = time.monotonic() + wait_seconds
        while self.free < n:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_SECONDS)
        return True


class Lease:
    """The bytes one request holds. Released once, when the request's response is done."""

    def __init__(self, budget: ByteBudget, wait_seconds: float) -> None:
        self.budget = budget
        self.wait_seconds = wait_seconds
        self.held = 0

    async def take(self, n: int) -> None:
        # Polled: see the module docstring. Only polls while the budget is full.
        deadline = time.monotonic() + self.wait_seconds
        while not self.budget.try_take(n):
            if time.monotonic() >= deadline:
                raise BudgetExhausted
            await asyncio.sleep(_POLL_SECONDS)
        self.held += n

    def replace(self, old: int, new: int) -> None:
        """A held buffer of `old` bytes was replaced by one of `new` bytes (its cleaned copy)."""
        if new > old:
            self.budget.force_take(new - old)
        else:
            self.budget.give_back(old - new)
        self.held += new - old

    def release(self) -> None:
        if self.held:
            self.budget.give_back(self.held)
            self.held = 0
