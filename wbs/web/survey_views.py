"""The satisfaction survey (SKM, RULES §9): the public form per unit and period (link and QR
code, one response per visit, no account), and the staff page of rounds, paper forms, results,
follow-up plans and publication."""

from __future__ import annotations

import io
import re
from datetime import date

import segno
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.context import Context
from wbs.reports import skm, surveys
from wbs.web import forms
from wbs.web.guard import public, requires
from wbs.web.render import render

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _survey(request: Request) -> surveys.SurveyInfo:
    token = str(request.path_params["token"])
    if not _TOKEN.fullmatch(token):
        raise HTTPException(404)
    info = await run_in_threadpool(surveys.by_token, _ctx(request), token)
    if info is None:
        raise HTTPException(404)
    return info


def _form(request: Request, info: surveys.SurveyInfo, error: str = "",
          values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    today = _ctx(request).today()
    return render(request, "public/survey.html", {
        "survey": info, "elements": skm.ELEMENTS, "profile": surveys.PROFILE,
        "open": info.period_start <= today <= info.period_end,
        "visit": surveys.new_visit(_ctx(request), info.token), "error": error,
        "values": values or {}}, status_code=status_code)


@public
async def survey_form(request: Request) -> Response:
    return _form(request, await _survey(request))


@public
async def survey_submit(request: Request) -> Response:
    info = await _survey(request)
    values = await forms.read_form(request)
    try:
        await run_in_threadpool(surveys.submit, _ctx(request), info.token,
                                values.get("visit", ""), values)
    except surveys.SurveyError as exc:
        keep = {k: v for k, v in values.items() if k not in ("visit", "csrf_token")}
        return _form(request, info, exc.code, keep, 400)
    return render(request, "public/survey_thanks.html", {"survey": info})


@public
async def survey_qr(request: Request) -> Response:
    info = await _survey(request)
    url = f"{_ctx(request).settings.base_url.rstrip('/')}/survei/{info.token}"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, title=url)
    return Response(out.getvalue(), media_type="image/svg+xml")


async def _staff_page(request: Request, error: str = "", status_code: int = 200) -> Response:
    ctx = _ctx(request)
    rows = await run_in_threadpool(surveys.results, ctx)
    from wbs.web.stats_views import unit_choices

    return render(request, "staff/skm.html", {
        "rows": rows, "elements": skm.ELEMENTS, "terms": surveys.TERMS, "error": error,
        "ok": request.query_params.get("ok", ""), "units": await run_in_threadpool(
            unit_choices, ctx), "base_url": ctx.settings.base_url.rstrip("/")},
        status_code=status_code)


@requires(Permission.STAFF_SIGNED_IN)
async def skm_page(request: Request) -> Response:
    return await _staff_page(request)


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise surveys.SurveyError("period_invalid") from exc


@requires(Permission.CONFIG_MANAGE)
async def skm_create(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        population = values.get("population", "").strip()
        weights = [values.get(f"w{i}", "").strip() for i in range(1, skm.N_ELEMENTS + 1)]
        await run_in_threadpool(
            lambda: surveys.create(
                _ctx(request), request.state.staff, unit_slug=values.get("unit", ""),
                service=values.get("service", ""), start=_day(values.get("dari", "")),
                end=_day(values.get("sampai", "")),
                weights=weights if any(weights) else None,
                population=int(population) if population.isdigit() else None,
                for_complaints=values.get("for_complaints") == "yes"))
    except surveys.SurveyError as exc:
        return await _staff_page(request, exc.code, 400)
    return RedirectResponse("/staf/skm?ok=1", status_code=303)


def _id(request: Request) -> int:
    return int(request.path_params["survey_id"])


@requires(Permission.CONFIG_MANAGE)
async def skm_paper(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        await run_in_threadpool(surveys.enter_paper, _ctx(request), request.state.staff,
                                _id(request), values)
    except surveys.SurveyError as exc:
        return await _staff_page(request, exc.code, 400)
    return RedirectResponse("/staf/skm?ok=1", status_code=303)


@requires(Permission.STATS_READ)
async def skm_plan(request: Request) -> Response:
    values = await forms.read_form(request)
    actions = [{k: values.get(f"{k}_{n}", "") for k in ("element", "term", "programme", "when",
                                                         "who")}
               for n in range(1, 4) if values.get(f"programme_{n}", "").strip()]
    try:
        await run_in_threadpool(surveys.set_plan, _ctx(request), request.state.staff,
                                _id(request), actions)
    except surveys.SurveyError as exc:
        return await _staff_page(request, exc.code, 400)
    return RedirectResponse("/staf/skm?ok=1", status_code=303)


@requires(Permission.STATS_READ)
async def skm_publish(request: Request) -> Response:
    await forms.read_form(request)
    ctx = _ctx(request)
    try:
        await run_in_threadpool(surveys.publish, ctx, request.state.staff, _id(request),
                                ctx.now())
    except surveys.SurveyError as exc:
        return await _staff_page(request, exc.code, 400)
    return RedirectResponse("/staf/skm?ok=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/survei/{token}", survey_form, methods=["GET"]),
        Route("/survei/{token}", survey_submit, methods=["POST"]),
        Route("/survei/{token}/qr.svg", survey_qr, methods=["GET"]),
        Route("/staf/skm", skm_page, methods=["GET"]),
        Route("/staf/skm", skm_create, methods=["POST"]),
        Route("/staf/skm/{survey_id:rowid}/kertas", skm_paper, methods=["POST"]),
        Route("/staf/skm/{survey_id:rowid}/rencana", skm_plan, methods=["POST"]),
        Route("/staf/skm/{survey_id:rowid}/terbitkan", skm_publish, methods=["POST"]),
    ]
