"""The public statistics page `/statistik`: suppressed tables, published reports, SKM results."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wbs.reports import documents, public_stats, skm, surveys
from wbs.web.guard import public
from wbs.web.render import language_of, render

_YEAR = re.compile(r"[0-9]{4}")


@public
async def statistics_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    raw = request.query_params.get("tahun", "")
    year = int(raw) if _YEAR.fullmatch(raw) else None
    lang = language_of(request)
    page = await run_in_threadpool(public_stats.build, ctx, year, lang)
    results = await run_in_threadpool(surveys.results, ctx, True)
    docs = await run_in_threadpool(documents.published, ctx)
    return render(request, "public/statistics.html", {
        "page": page, "skm_results": results, "elements": skm.ELEMENTS, "documents": docs})


def routes() -> list[BaseRoute]:
    return [Route("/statistik", statistics_page, methods=["GET"])]
