"""Compensation pages: the reporter's claim in the mailbox, the unit's file, decision, delivery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission, role_has
from wbs.cases import compensation, deadlines, reporter, service
from wbs.cases.compensation import CompensationRefused
from wbs.web import forms
from wbs.web.case_views import _call, _number
from wbs.web.guard import public, requires
from wbs.web.render import render
from wbs.web.reporter import CLOSED, _back, _page, _session, _session_ended, mailbox_action_page

STEPS = ("klaim", "lengkap", "putusan", "kirim")


@public
async def mailbox_claim(request: Request) -> Response:
    found = await run_in_threadpool(_session, request)
    values = await forms.read_form(request)
    if found is None:
        return _session_ended(request, values)
    try:
        await run_in_threadpool(compensation.claim_by_reporter, request.app.state.ctx, found[0],
                                compensation.items_from_form(values))
    except CompensationRefused as exc:
        return await _page(request, found, {"claim_error": exc.code, "claim_values": values}, 400)
    except reporter.CaseClosed:
        return await _page(request, found, CLOSED, 409)
    return _back(found, "compensation")


async def _render(request: Request, number: str, *, error: str = "",
                  values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    ctx, staff = request.app.state.ctx, request.state.staff
    try:
        claim = await _call(compensation.view, ctx, staff, number)
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    limits = await run_in_threadpool(deadlines.rules_in_force, ctx)
    return render(request, "staff/compensation.html", {
        "number": number, "claim": claim, "limits": limits, "error": error, "values": values or {},
        "notice": "" if error else request.query_params.get("ok", ""),
        "can_decide": role_has(staff.role, Permission.CASE_COMPENSATION_DECIDE),
        "today": ctx.today()}, status_code=status_code)


@requires(Permission.CASE_READ)
async def claim_page(request: Request) -> Response:
    return await _render(request, _number(request))


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise CompensationRefused("payment_due_required") from None


def _step_call(step: str, values: dict[str, str]) -> Callable[..., Any]:
    if step == "klaim":
        return lambda ctx, staff, number: compensation.claim_by_staff(
            ctx, staff, number, compensation.items_from_form(values))
    if step == "lengkap":
        return compensation.file_complete
    if step == "putusan":
        return lambda ctx, staff, number: compensation.decide(
            ctx, staff, number, amount=values.get("amount", ""),
            payment_due_on=_day(values.get("payment_due_on", "")),
            reason=values.get("reason", ""))
    return compensation.deliver


@requires(Permission.CASE_COMPENSATION_DECIDE)
async def claim_step(request: Request) -> Response:
    number, step = _number(request), str(request.path_params["step"])
    if step not in STEPS:
        raise HTTPException(404)
    values = await forms.read_form(request)
    try:
        await _call(_step_call(step, values), request.app.state.ctx, request.state.staff, number)
    except CompensationRefused as exc:
        return await _render(request, number, error=exc.code, values=values, status_code=400)
    return RedirectResponse(f"/staf/kasus/{number}/ganti-rugi?ok={step}", status_code=303)


def routes() -> list[BaseRoute]:
    return [Route("/kotak-pesan/ganti-rugi", mailbox_claim, methods=["POST"]),
            # A reload or the language switch on the refused form's page: back to the mailbox.
            Route("/kotak-pesan/ganti-rugi", mailbox_action_page, methods=["GET"]),
            Route("/staf/kasus/{number}/ganti-rugi", claim_page, methods=["GET"]),
            Route("/staf/kasus/{number}/ganti-rugi/{step}", claim_step, methods=["POST"])]
