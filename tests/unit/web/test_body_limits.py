"""Body time limits and the upload byte budget, driven at the ASGI level with a fake clock-free
sender (small windows, so the tests take a fraction of a second)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from wbs.web.body_limits import BodyLimitsMiddleware, BodyTiming, register_lease
from wbs.web.upload_budget import BudgetExhausted, ByteBudget, Lease

BUDGET = ByteBudget(1000)


async def read_all(request: Request) -> JSONResponse:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return JSONResponse({"size": size})


async def hold(request: Request) -> JSONResponse:
    lease = Lease(BUDGET, 0.1)
    register_lease(request.scope, lease)
    await lease.take(600)
    return JSONResponse({"used": BUDGET.used})


def make_app(timing: BodyTiming) -> Any:
    app = Starlette(routes=[Route("/", read_all, methods=["POST"]),
                            Route("/hold", hold, methods=["POST"])])
    return BodyLimitsMiddleware(app, timing)


def drive(app: Any, chunks: list[tuple[float, bytes]], path: str = "/") -> tuple[int, int]:
    """Send each chunk after its delay; return (status, chunks pulled)."""
    state = {"status": 0, "pulled": 0}
    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        if not queue:
            await asyncio.sleep(3600)  # a client that simply stops sending
        delay, chunk = queue.pop(0)
        await asyncio.sleep(delay)
        state["pulled"] += 1
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [], "http_version": "1.1", "scheme": "http",
             "server": ("t", 80), "client": ("127.0.0.1", 1), "root_path": "",
             "asgi": {"version": "3.0"}}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    return state["status"], state["pulled"]


def test_a_trickle_is_cut_within_one_window() -> None:
    app = make_app(BodyTiming(min_rate=1000, window=0.3, max_seconds=60))
    trickle = [(0.05, b"x")] * 100  # 20 bytes a second against 1000 required
    status, pulled = drive(app, trickle)
    assert status == 408
    assert pulled < 12


def test_a_stall_after_a_fast_start_is_cut() -> None:
    app = make_app(BodyTiming(min_rate=1000, window=0.3, max_seconds=60))
    fast_then_stall = [(0.0, b"x" * 10_000)] * 5 + [(5.0, b"late")]
    status, pulled = drive(app, fast_then_stall)
    assert (status, pulled) == (408, 5)


def test_a_body_at_the_minimum_rate_passes() -> None:
    app = make_app(BodyTiming(min_rate=1000, window=0.3, max_seconds=60))
    steady = [(0.1, b"x" * 400)] * 10  # 4000 bytes a second
    assert drive(app, steady) == (200, 10)


def test_the_whole_body_has_a_deadline_whatever_its_rate() -> None:
    app = make_app(BodyTiming(min_rate=10, window=0.3, max_seconds=0.5))
    steady = [(0.1, b"x" * 100)] * 20
    status, pulled = drive(app, steady)
    assert status == 408 and pulled <= 6


def test_a_client_that_never_sends_is_cut() -> None:
    app = make_app(BodyTiming(min_rate=1000, window=0.3, max_seconds=60))
    assert drive(app, []) == (408, 0)


def test_leases_are_given_back_when_the_response_is_sent() -> None:
    app = make_app(BodyTiming())
    status, _ = drive(app, [(0.0, b"")], "/hold")
    assert status == 200
    assert BUDGET.used == 0 and BUDGET.peak >= 600


def test_budget_refuses_past_its_capacity_after_a_bounded_wait() -> None:
    budget = ByteBudget(1000)

    async def scenario() -> None:
        first, second = Lease(budget, 0.2), Lease(budget, 0.2)
        await first.take(800)
        with pytest.raises(BudgetExhausted):
            await second.take(300)
        # Room made during the wait is used.
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, first.release)
        await second.take(300)
        assert budget.used == 300
        second.replace(300, 100)  # a cleaned copy smaller than the original
        assert budget.used == 100
        second.release()
        assert budget.used == 0

    asyncio.run(scenario())


def test_a_lease_without_the_middleware_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        register_lease({"type": "http"}, Lease(ByteBudget(1), 0))
