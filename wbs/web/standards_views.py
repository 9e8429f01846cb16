"""The public service standard (/standar-layanan) and the profile's part of the administrator's
rules page: the procedure, channels, limits and contact points, all generated from the rules
in force (RULES §4: the complaint SOP is published in plain view; issue 10)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wbs.cases.sla import DeadlineRule
from wbs.context import Context
from wbs.profiles import store
from wbs.profiles.model import Profile
from wbs.web.guard import public
from wbs.web.i18n import N_
from wbs.web.render import render

# The limits the public is told about, in the order of the procedure.
PUBLIC_LIMITS = ("verification", "answer_5", "answer_14", "answer_60", "missing_data",
                 "objection")
START_LABELS: Mapping[str, str] = {
    "receipt": N_("from receipt in the system"),
    "disposition": N_("from the disposition to the unit"),
    "request": N_("from the request for data"),
    "answer": N_("from the answer"),
    "complete_file": N_("from the complete file"),
    "decision": N_("from the decision"),
    "due": N_("before the limit it reminds of"),
}


@dataclass(frozen=True)
class LimitLine:
    key: str
    rule: DeadlineRule
    shipped: DeadlineRule
    changed: bool


@dataclass(frozen=True)
class Standard:
    profile: Profile
    shipped: Profile
    limits: list[LimitLine]
    all_limits: list[LimitLine]
    changes: dict[str, Any]


def standard(ctx: Context) -> Standard:
    with ctx.read() as session:
        profile, shipped = store.in_force(session), store.base_profile(session)
        changes = store.changes(session)
    lines = [LimitLine(key, profile.rules[key], shipped.rules[key],
                       profile.rules[key] != shipped.rules[key]) for key in profile.rules]
    return Standard(profile, shipped, [line for line in lines if line.key in PUBLIC_LIMITS],
                    lines, changes)


@public
async def standard_page(request: Request) -> Response:
    info = await run_in_threadpool(standard, request.app.state.ctx)
    return render(request, "public/standards.html", {"std": info,
                                                     "start_labels": START_LABELS})


def routes() -> list[BaseRoute]:
    return [Route("/standar-layanan", standard_page, methods=["GET"])]
