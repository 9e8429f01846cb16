"""Staff case pages: list (metadata only), the case (decrypted after a stated purpose), messages,
evidence downloads and conflict declarations. Every handler declares its permission; the service
layer decides per case and audits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.cases import identity, sealing, service
from wbs.web import forms
from wbs.web.guard import requires
from wbs.web.render import render
from wbs.web.reporter import file_response


def _number(request: Request) -> str:
    number = str(request.path_params["number"])
    if len(number) > 32:
        raise HTTPException(404)
    return number


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(func, *args)
    except service.CaseNotFound as exc:
        raise HTTPException(404) from exc
    except service.AccessDenied as exc:
        raise HTTPException(403) from exc


@requires(Permission.CASE_LIST)
async def case_list(request: Request) -> Response:
    rows = await run_in_threadpool(service.list_cases, request.app.state.ctx, request.state.staff)
    return render(request, "staff/cases.html", {"rows": rows})


@requires(Permission.CASE_READ)
async def case_page(request: Request) -> Response:
    number = _number(request)
    try:
        view = await _call(service.view_case, request.app.state.ctx, request.state.staff, number)
    except service.PurposeRequired:
        return render(request, "staff/purpose.html", {"number": number})
    return render(request, "staff/case.html", {"view": view,
                                               "notice": request.query_params.get("ok", "")})


@requires(Permission.CASE_READ)
async def case_purpose(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    purpose = values.get("purpose_other", "").strip() or values.get("purpose", "")
    try:
        await _call(service.state_purpose, request.app.state.ctx, request.state.staff, number,
                    purpose)
    except service.PurposeRequired:
        return render(request, "staff/purpose.html", {"number": number, "error": True},
                      status_code=400)
    return RedirectResponse(f"/staf/kasus/{number}", status_code=303)


@requires(Permission.CASE_MESSAGE)
async def case_message(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(service.post_staff_message, request.app.state.ctx, request.state.staff,
                    number, values.get("body", ""))
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    except ValueError as exc:
        raise HTTPException(400) from exc
    return RedirectResponse(f"/staf/kasus/{number}?ok=message", status_code=303)


@requires(Permission.CASE_ATTACHMENT_READ)
async def case_download(request: Request) -> Response:
    number = _number(request)
    try:
        meta, chunks = await _call(service.download, request.app.state.ctx, request.state.staff,
                                   number, int(request.path_params["attachment_id"]))
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    return file_response(meta, chunks)


@requires(Permission.CASE_CONFLICT_DECLARE)
async def case_conflict(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(service.declare_conflict, request.app.state.ctx, request.state.staff, number,
                    values.get("reason", ""))
    except ValueError as exc:
        raise HTTPException(400) from exc
    return RedirectResponse("/staf/kasus?ok=conflict", status_code=303)


@requires(Permission.CASE_IDENTITY_REQUEST)
async def identity_request(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(identity.request_identity, request.app.state.ctx, request.state.staff,
                    number, values.get("reason", ""))
    except identity.NothingToDisclose:
        return RedirectResponse(f"/staf/kasus/{number}?ok=anonymous", status_code=303)
    except ValueError:
        return RedirectResponse(f"/staf/kasus/{number}?ok=reason_required", status_code=303)
    return RedirectResponse(f"/staf/kasus/{number}?ok=identity_requested", status_code=303)


@requires(Permission.CASE_IDENTITY_READ)
async def identity_view(request: Request) -> Response:
    number = _number(request)
    try:
        data = await _call(identity.read_identity, request.app.state.ctx, request.state.staff,
                           number)
    except sealing.NoKey as exc:
        raise HTTPException(403) from exc
    return render(request, "staff/identity.html", {"number": number, "identity": data})


@requires(Permission.CASE_IDENTITY_DECIDE)
async def identity_queue(request: Request) -> Response:
    rows = await run_in_threadpool(identity.pending_requests, request.app.state.ctx,
                                   request.state.staff)
    return render(request, "staff/identity_requests.html", {
        "rows": rows, "notice": request.query_params.get("ok", "")})


@requires(Permission.CASE_IDENTITY_DECIDE)
async def identity_decide(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        state = await _call(identity.decide, request.app.state.ctx, request.state.staff,
                            int(request.path_params["request_id"]),
                            values.get("decision") == "approve", values.get("reason", ""))
    except identity.AlreadyDecided:
        state = "already"
    except ValueError:
        state = "reason_required"
    return RedirectResponse(f"/staf/identitas?ok={state}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/kasus", case_list, methods=["GET"]),
        Route("/staf/kasus/{number}", case_page, methods=["GET"]),
        Route("/staf/kasus/{number}/tujuan", case_purpose, methods=["POST"]),
        Route("/staf/kasus/{number}/pesan", case_message, methods=["POST"]),
        Route("/staf/kasus/{number}/lampiran/{attachment_id:int}", case_download,
              methods=["GET"]),
        Route("/staf/kasus/{number}/konflik", case_conflict, methods=["POST"]),
        Route("/staf/kasus/{number}/identitas", identity_view, methods=["GET"]),
        Route("/staf/kasus/{number}/identitas/minta", identity_request, methods=["POST"]),
        Route("/staf/identitas", identity_queue, methods=["GET"]),
        Route("/staf/identitas/{request_id:int}", identity_decide, methods=["POST"]),
    ]
