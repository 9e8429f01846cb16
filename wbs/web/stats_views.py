"""The staff statistics page, its CSV, and the administrator's yearly targets (RULES §8)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs import audit
from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.reports import charts, statistics, stats_page
from wbs.web import forms
from wbs.web.guard import requires
from wbs.web.render import language_of, render


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _charts(page: stats_page.Page) -> dict[str, str]:
    out = {}
    for table in page.tables:
        if table.dimension in ("kind", "channel", "category", "unit"):
            out[table.dimension] = charts.bar_chart(
                f"chart-{table.dimension}", table.title + " — received",
                [(row.label, row.figures.received) for row in table.rows])
    return out


@requires(Permission.STATS_READ)
async def statistics_page(request: Request) -> Response:
    ctx = _ctx(request)
    query = stats_page.parse(dict(request.query_params), ctx.today())
    try:
        page = await run_in_threadpool(stats_page.view, ctx, request.state.staff, query,
                                       language_of(request))
    except LookupError:
        query = stats_page.Query(query.period, "", {"unit": "unknown_unit"})
        page = await run_in_threadpool(stats_page.view, ctx, request.state.staff, query,
                                       language_of(request))
    return render(request, "staff/statistics.html", {
        "page": page, "query": query, "charts": _charts(page)},
        status_code=400 if query.errors else 200)


@requires(Permission.STATS_READ)
async def statistics_csv(request: Request) -> Response:
    ctx = _ctx(request)
    query = stats_page.parse(dict(request.query_params), ctx.today())
    if query.errors:
        return await statistics_page(request)
    try:
        page = await run_in_threadpool(stats_page.view, ctx, request.state.staff, query,
                                       language_of(request), "stats.export")
    except LookupError:
        return await statistics_page(request)
    name = f"statistik-{query.period.start:%Y%m%d}-{query.period.end:%Y%m%d}.csv"
    return Response(stats_page.to_csv(page), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _save_target(ctx: Context, staff: StaffIdentity, year: int, received: int, pct: int) -> None:
    with ctx.db.begin() as session:
        statistics.set_target(session, year, received, pct)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="config.stat_target",
                     details={"year": year, "received": received, "completed_pct": pct},
                     now=ctx.now())


@requires(Permission.CONFIG_MANAGE)
async def target_save(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        year, received, pct = (int(values.get(k, "")) for k in ("year", "received",
                                                                 "completed_pct"))
        await run_in_threadpool(_save_target, _ctx(request), request.state.staff, year,
                                received, pct)
    except ValueError:
        return RedirectResponse("/staf/konfigurasi?galat=target_invalid", status_code=303)
    return RedirectResponse("/staf/konfigurasi?ok=target", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/staf/statistik", statistics_page, methods=["GET"]),
            Route("/staf/statistik.csv", statistics_csv, methods=["GET"]),
            Route("/staf/konfigurasi/target", target_save, methods=["POST"])]
