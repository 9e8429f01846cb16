"""The staff statistics page, its CSV, and the administrator's yearly targets (RULES §8)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.context import Context
from wbs.reports import charts, settings_admin, stats_page
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


async def _settings_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    data = await run_in_threadpool(settings_admin.lists, _ctx(request))
    return render(request, "staff/statistics_settings.html", {
        "lists": data, "error": error, "ok": request.query_params.get("ok", "")},
        status_code=status_code)


@requires(Permission.CONFIG_MANAGE)
async def settings_page(request: Request) -> Response:
    return await _settings_page(request)


def _int(values: dict[str, str], name: str) -> int:
    raw = values.get(name, "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise settings_admin.SettingsInputError("target_invalid")
    return int(raw)


@requires(Permission.CONFIG_MANAGE)
async def settings_save(request: Request) -> Response:
    values = await forms.read_form(request)
    ctx, staff = _ctx(request), request.state.staff
    what = values.get("what", "")
    try:
        if what == "target":
            await run_in_threadpool(settings_admin.save_target, ctx, staff, _int(values, "year"),
                                    _int(values, "received"), _int(values, "completed_pct"))
        elif what == "category":
            await run_in_threadpool(settings_admin.add_category, ctx, staff,
                                    values.get("slug", ""), values.get("name_id", ""),
                                    values.get("name_en", ""))
        elif what in ("retire", "restore"):
            await run_in_threadpool(settings_admin.set_category_active, ctx, staff,
                                    values.get("slug", ""), what == "restore")
        else:
            return await _settings_page(request, "unknown", 400)
    except settings_admin.SettingsInputError as exc:
        return await _settings_page(request, exc.code, 400)
    return RedirectResponse("/staf/kategori?ok=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/staf/statistik", statistics_page, methods=["GET"]),
            Route("/staf/statistik.csv", statistics_csv, methods=["GET"]),
            Route("/staf/kategori", settings_page, methods=["GET"]),
            Route("/staf/kategori", settings_save, methods=["POST"])]


def unit_choices(ctx: Context) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from wbs.models import Unit

    with ctx.db() as session:
        return [(slug, name) for slug, name in session.execute(
            select(Unit.slug, Unit.name).order_by(Unit.name))]
