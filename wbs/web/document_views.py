"""Reports as documents: drawn up and published by leadership, then downloadable by anyone
(the public copy with small counts suppressed)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.context import Context
from wbs.reports import document_render, documents, stats_page
from wbs.web import forms
from wbs.web.guard import public, requires
from wbs.web.render import render


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _list_page(request: Request, error: str = "", status_code: int = 200,
                     values: dict[str, str] | None = None) -> Response:
    from wbs.web.stats_views import unit_choices

    ctx = _ctx(request)
    return render(request, "staff/reports.html", {
        "docs": await run_in_threadpool(documents.all_documents, ctx),
        "kinds": documents.KINDS, "units": await run_in_threadpool(unit_choices, ctx),
        "error": error, "ok": request.query_params.get("ok", ""),
        "values": values or {}}, status_code=status_code)


@requires(Permission.STATS_READ)
async def reports_page(request: Request) -> Response:
    return await _list_page(request)


@requires(Permission.STATS_READ)
async def report_create(request: Request) -> Response:
    values = await forms.read_form(request)
    ctx = _ctx(request)
    query = stats_page.parse(values, ctx.today())
    # Whatever is refused, the form comes back as it was sent: nothing typed is lost.
    if query.errors:
        return await _list_page(request, "period_invalid", 400, values)
    try:
        await run_in_threadpool(documents.create, ctx, request.state.staff,
                                values.get("kind", ""), query.period, values.get("unit", ""),
                                values.get("corrective", ""), values.get("recommendations", ""))
    except documents.DocumentError as exc:
        return await _list_page(request, exc.code, 400, values)
    return RedirectResponse("/staf/laporan?ok=1", status_code=303)


@requires(Permission.STATS_READ)
async def report_publish(request: Request) -> Response:
    await forms.read_form(request)
    try:
        await run_in_threadpool(documents.publish, _ctx(request), request.state.staff,
                                int(request.path_params["report_id"]))
    except documents.DocumentError as exc:
        return await _list_page(request, exc.code, 400)
    return RedirectResponse("/staf/laporan?ok=1", status_code=303)


async def _document(request: Request, public_copy: bool) -> dict[str, Any]:
    doc = await run_in_threadpool(documents.snapshot_of, _ctx(request),
                                  int(request.path_params["report_id"]), public_copy)
    if doc is None:
        raise HTTPException(404)
    return doc


def _pdf(doc: dict[str, Any], report_id: int) -> Response:
    return Response(document_render.render_pdf(doc), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="laporan-{report_id}.pdf"'})


@requires(Permission.STATS_READ)
async def staff_html(request: Request) -> Response:
    return render(request, "public/report_document.html", {"doc": await _document(request,
                                                                                  False)})


@requires(Permission.STATS_READ)
async def staff_pdf(request: Request) -> Response:
    doc = await _document(request, False)
    return await run_in_threadpool(_pdf, doc, int(request.path_params["report_id"]))


@public
async def public_html(request: Request) -> Response:
    return render(request, "public/report_document.html", {"doc": await _document(request,
                                                                                  True)})


@public
async def public_pdf(request: Request) -> Response:
    doc = await _document(request, True)
    return await run_in_threadpool(_pdf, doc, int(request.path_params["report_id"]))


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/laporan", reports_page, methods=["GET"]),
        Route("/staf/laporan", report_create, methods=["POST"]),
        Route("/staf/laporan/{report_id:rowid}", staff_html, methods=["GET"]),
        Route("/staf/laporan/{report_id:rowid}.pdf", staff_pdf, methods=["GET"]),
        Route("/staf/laporan/{report_id:rowid}/terbitkan", report_publish, methods=["POST"]),
        Route("/statistik/laporan/{report_id:rowid}", public_html, methods=["GET"]),
        Route("/statistik/laporan/{report_id:rowid}.pdf", public_pdf, methods=["GET"]),
    ]
