"""What a serving process keeps for the end of the day, and writes then (DESIGN §1.4, §4).

Each worker holds two things in memory that must not be written at the moment they happen,
because the moment would date a reporter: the log lines of public requests (`wbs.logs`) and the
counts of reporter reads (`wbs.audit.reads`). A task started with the app checks once a minute
whether the local day has changed, and writes what belongs to the days that ended. When the
process stops it writes the rest, which tells no more than "before the process stopped".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from wbs import logs
from wbs.context import Context

TICK_SECONDS = 60.0


def end_of_day(ctx: Context, *, everything: bool = False) -> None:
    """Write held log lines and read counts of ended days (of every day if `everything`)."""
    before = None if everything else ctx.today()
    logs.flush_deferred(before)
    try:
        ctx.reporter_reads.flush(ctx.db, before)
    except Exception as exc:  # noqa: BLE001 - the counts are kept for the next try
        logs.event("reporter_reads.flush_failed", logging.WARNING,
                   **logs.safe_exception_fields(exc))


async def _ticker(ctx: Context) -> None:
    while True:
        await asyncio.sleep(TICK_SECONDS)
        await run_in_threadpool(end_of_day, ctx)


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    ctx: Context = app.state.ctx
    task = asyncio.create_task(_ticker(ctx))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await run_in_threadpool(end_of_day, ctx, everything=True)
