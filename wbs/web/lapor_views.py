"""SP4N-LAPOR! pages: the delivery state (coordinator, verifier) and the manual export."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission, role_has
from wbs.cases.service import actor_of
from wbs.integrations import outbox
from wbs.web.forms import read_form
from wbs.web.guard import requires
from wbs.web.render import render


@requires(Permission.LAPOR_OUTBOX_READ)
async def outbox_page(request: Request) -> Response:
    ctx, staff = request.app.state.ctx, request.state.staff
    rows = await run_in_threadpool(outbox.delivery_state, ctx, actor_of(staff))
    return render(request, "staff/lapor.html", {
        "rows": rows, "connected": bool(ctx.settings.lapor_endpoint),
        "can_export": role_has(staff.role, Permission.LAPOR_EXPORT)})


@requires(Permission.LAPOR_EXPORT)
async def export(request: Request) -> Response:
    await read_form(request)
    ctx, staff = request.app.state.ctx, request.state.staff
    data = await run_in_threadpool(outbox.export_pending, ctx, actor_of(staff))
    name = f"lapor-ekspor-{ctx.today():%Y%m%d}.json"
    return Response(data, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [Route("/staf/lapor", outbox_page, methods=["GET"]),
            Route("/staf/lapor/ekspor", export, methods=["POST"])]
