"""The leadership's overview page (counts only; `wbs.reports.overview`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.reports import overview
from wbs.web.guard import requires
from wbs.web.render import render


@requires(Permission.STATS_READ)
async def overview_page(request: Request) -> Response:
    result = await run_in_threadpool(overview.view, request.app.state.ctx, request.state.staff)
    return render(request, "staff/overview.html", {
        "ov": result, "kinds": overview.KINDS, "states": overview.STATES})


def routes() -> list[BaseRoute]:
    return [Route("/staf/ikhtisar", overview_page, methods=["GET"])]
