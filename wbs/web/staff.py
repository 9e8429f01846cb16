"""Staff pages: sign-in, sign-out, password change, the start page."""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs import accounts, notices
from wbs.access import Permission, role_has
from wbs.enums import Role
from wbs.web import forms
from wbs.web.guard import SESSION_COOKIE, public, requires
from wbs.web.i18n import N_
from wbs.web.render import render

# Every failed sign-in is answered no sooner than this after it arrived, so that an unknown user,
# a wrong code and a wrong password (which alone pays for argon2id) take about the same time.
# The wait is an asyncio sleep: it costs the server nothing.
FAILURE_FLOOR_SECONDS = 0.6


ROLE_LABELS = {
    Role.VERIFIER: N_("Verifier (complaint management team)"),
    Role.LIAISON: N_("Liaison officer"),
    Role.INVESTIGATOR: N_("APIP investigator"),
    Role.CUSTODIAN: N_("Identity custodian"),
    Role.LEADERSHIP: N_("Leadership"),
    Role.AUDITOR: N_("Auditor"),
    Role.ADMINISTRATOR: N_("System administrator"),
}


def _client(request: Request) -> str:
    # Staff routes only: the address feeds the throttle (as an HMAC), never a log line.
    return request.client.host if request.client else "-"


@public
async def sign_in_form(request: Request) -> Response:
    return render(request, "staff/sign_in.html")


@public
async def sign_in(request: Request) -> Response:
    started = time.monotonic()
    # Lenient: a NUL or a surrogate in the name is a failed sign-in, throttled and audited.
    values = await forms.read_form(request, lenient=True)
    ctx = request.app.state.ctx
    username = forms.field(values, "username", 64)
    try:
        delay = await run_in_threadpool(accounts.throttle_precheck, ctx, username, _client(request))
        if delay:
            await asyncio.sleep(delay)
        result = await run_in_threadpool(
            accounts.sign_in, ctx, username, values.get("password", "")[:1024],
            forms.field(values, "totp", 16), _client(request))
    except accounts.Throttled:
        await _floor(request, started)
        return render(request, "staff/sign_in.html", {"error": "throttled"}, status_code=429)
    except accounts.SignInFailed:
        await _floor(request, started)
        return render(request, "staff/sign_in.html", {"error": "failed", "username": username},
                      status_code=401)
    response = RedirectResponse("/staf", status_code=303)
    response.set_cookie(SESSION_COOKIE, result.token, path="/", secure=True, httponly=True,
                        samesite="strict")
    return response


async def _floor(request: Request, started: float) -> None:
    floor = getattr(request.app.state, "failure_floor", FAILURE_FLOOR_SECONDS)
    remaining = floor - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)


@requires(Permission.STAFF_SIGNED_IN)
async def sign_out(request: Request) -> Response:
    await forms.read_form(request)
    await run_in_threadpool(accounts.sign_out, request.app.state.ctx, request.state.staff)
    response = RedirectResponse("/masuk", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@requires(Permission.STAFF_SIGNED_IN)
async def dashboard(request: Request) -> Response:
    staff = request.state.staff
    ctx = request.app.state.ctx
    page = await run_in_threadpool(
        lambda: notices.inbox_page(ctx, staff.user_id,
                                   after=request.query_params.get("setelah", ""),
                                   before=request.query_params.get("sebelum", "")))
    items = page.items
    pending = await run_in_threadpool(accounts.pending_members, ctx, staff)
    requests: list[object] = []
    waiting: object = None
    if role_has(staff.role, Permission.CASE_IDENTITY_DECIDE):
        from wbs.cases import identity

        # The live requests, not their notices: a request is work until it is decided,
        # whether or not a notice was ever made for it.
        awaiting = await run_in_threadpool(identity.awaiting_decision, ctx, staff)
        requests, waiting = list(awaiting.rows), awaiting
        items = [item for item in items if item.kind != "identity_request"]
    return render(request, "staff/dashboard.html", {
        "role_label": ROLE_LABELS.get(staff.role, ""), "inbox": items, "pending": pending,
        "inbox_next": page.next_key, "inbox_prev": page.prev_key,
        "identity_requests": requests, "identity_waiting": waiting,
        "notice": request.query_params.get("ok", ""),
        "error": request.query_params.get("galat", "")})


@requires(Permission.STAFF_SIGNED_IN)
async def grant_access(request: Request) -> Response:
    """A key holder gives a colleague access to the unit's key (recorded with the reason)."""
    values = await forms.read_form(request)
    try:
        await run_in_threadpool(accounts.grant_unit_access, request.app.state.ctx,
                                request.state.staff, values.get("username", "")[:64],
                                values.get("reason", ""))
    except accounts.GrantRefused as exc:
        return RedirectResponse(f"/staf?galat={exc.code}", status_code=303)
    return RedirectResponse("/staf?ok=granted", status_code=303)


@requires(Permission.CASE_CLOSE_DISPUTE)
async def disputes(request: Request) -> Response:
    return await render_disputes(request, error=request.query_params.get("galat", ""))


async def render_disputes(request: Request, *, error: str = "", error_case: str = "",
                          kept: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The coordinating team's list; after a refused close, the reason stays in its row."""
    from wbs.cases import routing

    rows = await run_in_threadpool(routing.disputes, request.app.state.ctx, request.state.staff)
    return render(request, "staff/disputes.html", {
        "rows": rows, "today": request.app.state.ctx.today(),
        "notice": "" if error else request.query_params.get("ok", ""),
        "error": error, "error_case": error_case, "kept": kept or {}},
        status_code=status_code)


@requires(Permission.STAFF_SIGNED_IN)
async def password_form(request: Request) -> Response:
    return render(request, "staff/password.html")


@requires(Permission.STAFF_SIGNED_IN)
async def password_change(request: Request) -> Response:
    values = await forms.read_form(request)
    new = values.get("new_password", "")[:1024]
    if new != values.get("confirm_password", "")[:1024]:
        return render(request, "staff/password.html", {"error": "mismatch"}, status_code=400)
    try:
        await run_in_threadpool(accounts.change_password, request.app.state.ctx,
                                request.state.staff, values.get("current_password", "")[:1024], new)
    except accounts.PasswordChangeRefused as exc:
        return render(request, "staff/password.html", {"error": str(exc)}, status_code=400)
    return render(request, "staff/password.html", {"done": True})


def routes() -> list[BaseRoute]:
    return [
        Route("/masuk", sign_in_form, methods=["GET"]),
        Route("/masuk", sign_in, methods=["POST"]),
        Route("/keluar", sign_out, methods=["POST"]),
        Route("/staf", dashboard, methods=["GET"]),
        Route("/staf/sengketa", disputes, methods=["GET"]),
        Route("/staf/akses", grant_access, methods=["POST"]),
        Route("/staf/kata-sandi", password_form, methods=["GET"]),
        Route("/staf/kata-sandi", password_change, methods=["POST"]),
    ]
