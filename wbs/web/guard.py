"""Route guard: every endpoint is either on the public list or declares its permission.

`@public` and `@requires(Permission.X)` mark the endpoint; `guarded_routes()` refuses to build an
app with a route that has neither, and a test walks the app to prove it. A guarded endpoint gets
the signed-in `StaffIdentity` as `request.state.staff`, or the visitor is sent to sign in (pages)
or answered 401 (API); a signed-in user without the permission gets 403 and an audit row.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from wbs import accounts, audit
from wbs.access import Permission, role_has
from wbs.enums import AuditOutcome
from wbs.models import Case

Endpoint = Callable[[Request], Awaitable[Response]]
SESSION_COOKIE = "__Host-wbs"
ACCESS_ATTR = "__wbs_access__"


def public(func: Callable[..., Any]) -> Callable[..., Any]:
    setattr(func, ACCESS_ATTR, "public")
    return func


def requires(permission: Permission) -> Callable[[Endpoint], Endpoint]:
    def decorate(func: Endpoint) -> Endpoint:
        @functools.wraps(func)
        async def wrapper(request: Request) -> Response:
            ctx = request.app.state.ctx
            cookie = request.cookies.get(SESSION_COOKIE)
            staff = await run_in_threadpool(accounts.load_session, ctx, cookie)
            if staff is None:
                if request.url.path.startswith("/api/"):
                    raise HTTPException(401)
                return RedirectResponse("/masuk", status_code=303)
            request.state.staff = staff
            if not role_has(staff.role, permission):
                await run_in_threadpool(_record_denied, ctx, staff, permission, request)
                raise HTTPException(403)
            return await func(request)

        setattr(wrapper, ACCESS_ATTR, permission)
        return wrapper

    return decorate


def _record_denied(ctx: Any, staff: accounts.StaffIdentity, permission: Permission,
                   request: Request) -> None:
    number = request.path_params.get("number")
    with ctx.db.begin() as session:
        # The case the refused request named, so that an auditor finds the attempt by case;
        # only a case that exists (a made-up number is no case, and stays in no row).
        case_number = session.scalar(select(Case.case_number).where(
            Case.case_number == number)) if isinstance(number, str) and number else None
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="access.route", outcome=AuditOutcome.DENIED,
                     case_number=case_number,
                     details={"permission": permission.value,
                              "route": getattr(request.scope.get("route"), "path", "")},
                     now=ctx.now())


def access_of(route: BaseRoute) -> object | None:
    endpoint = getattr(route, "endpoint", None)
    return getattr(endpoint, ACCESS_ATTR, None)


class UnguardedRoute(Exception):
    pass


def check_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Refuse a route that is neither public nor guarded (static mounts are public files)."""
    for route in routes:
        if isinstance(route, Mount):
            continue
        if isinstance(route, Route) and access_of(route) is None:
            raise UnguardedRoute(f"route {route.path} is neither @public nor @requires(...)")
    return routes
