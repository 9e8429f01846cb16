"""Administrator page for the working-day calendar and the deadline rules."""

from __future__ import annotations

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.access import Permission
from wbs.cases import calendar_admin
from wbs.profiles import store
from wbs.web import forms, standards_views
from wbs.web.guard import requires
from wbs.web.render import render


@requires(Permission.CONFIG_MANAGE)
async def config_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    return render(request, "staff/config.html", {
        "overrides": await run_in_threadpool(calendar_admin.overrides, ctx),
        "rules": await run_in_threadpool(calendar_admin.rules, ctx),
        "std": await run_in_threadpool(standards_views.standard, ctx),
        "start_labels": standards_views.START_LABELS,
        "notice": request.query_params.get("ok", ""),
        "error": request.query_params.get("galat", "")})


@requires(Permission.CONFIG_MANAGE)
async def config_update(request: Request) -> Response:
    values = await forms.read_form(request)
    staff = request.state.staff
    ctx = request.app.state.ctx
    what = values.get("what", "")
    try:
        if what == "override":
            day = date.fromisoformat(values.get("day", ""))
            await run_in_threadpool(calendar_admin.set_override, ctx, staff.username,
                                    staff.role.value, day, values.get("working") == "1",
                                    values.get("label", ""))
        elif what == "remove":
            day = date.fromisoformat(values.get("day", ""))
            await run_in_threadpool(calendar_admin.remove_override, ctx, staff.username,
                                    staff.role.value, day)
        elif what == "rule":
            amount = values.get("amount", "")
            await run_in_threadpool(calendar_admin.set_rule, ctx, staff.username,
                                    staff.role.value, values.get("key", ""),
                                    int(amount) if amount.isdigit() else 0,
                                    values.get("unit", ""))
        elif what == "profile":
            for key in ("auto_archive", "auto_close"):
                await run_in_threadpool(store.set_change, ctx, staff.username,
                                        staff.role.value, key, values.get(key, ""))
        else:
            return RedirectResponse("/staf/kalender?galat=unknown", status_code=303)
    except store.InvalidProfile as exc:
        return RedirectResponse(f"/staf/kalender?galat={exc.code}", status_code=303)
    except calendar_admin.InvalidSetting as exc:
        return RedirectResponse(f"/staf/kalender?galat={exc.code}", status_code=303)
    except ValueError:
        return RedirectResponse("/staf/kalender?galat=bad_date", status_code=303)
    return RedirectResponse("/staf/kalender?ok=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/kalender", config_page, methods=["GET"]),
        Route("/staf/kalender", config_update, methods=["POST"]),
    ]
