"""The per-process byte budget of uploads (wbs.web.upload_budget): a cleaned copy larger than its
original is counted in full, the count never goes below zero, a request waits a bounded time for
room, and a lease gives its bytes back once."""

from __future__ import annotations

import asyncio
import time

from wbs.web.upload_budget import ByteBudget, Lease


def test_a_cleaned_copy_larger_than_its_original_is_counted_even_past_the_capacity() -> None:
    budget = ByteBudget(1000)

    async def scenario() -> None:
        lease = Lease(budget, 0.1)
        await lease.take(900)
        lease.replace(900, 1200)  # the copy exists already: counted, not refused
        assert (budget.used, budget.free, budget.peak, lease.held) == (1200, -200, 1200, 1200)
        assert not budget.try_take(1)  # and nothing else fits until it is given back
        lease.release()
        assert (budget.used, lease.held) == (0, 0)

    asyncio.run(scenario())


def test_giving_back_more_than_was_taken_never_lets_more_in() -> None:
    budget = ByteBudget(1000)
    assert budget.try_take(100)
    budget.give_back(300)
    assert budget.used == 0 and budget.free == 1000
    assert budget.try_take(1000) and not budget.try_take(1)


def test_a_request_waits_a_bounded_time_for_room_and_takes_room_made_meanwhile() -> None:
    budget = ByteBudget(1000)
    assert budget.try_take(1000)

    async def scenario() -> None:
        started = time.monotonic()
        assert not await budget.wait_for_room(10, 0.2)
        assert 0.2 <= time.monotonic() - started < 5
        asyncio.get_running_loop().call_later(0.05, budget.give_back, 500)
        assert await budget.wait_for_room(400, 5)
        assert budget.used == 500  # waiting takes nothing
        assert await budget.wait_for_room(500, 0)  # room already there: no wait at all

    asyncio.run(scenario())


def test_a_lease_gives_its_bytes_back_once() -> None:
    budget = ByteBudget(1000)

    async def scenario() -> None:
        first, other = Lease(budget, 0.1), Lease(budget, 0.1)
        await first.take(300)
        await other.take(200)
        first.release()
        first.release()  # the response-done hook and an error path may both call it
        assert budget.used == 200 and other.held == 200

    asyncio.run(scenario())
