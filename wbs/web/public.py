"""Public (reporter-facing) pages and the transparency log's consistency proofs. Every route here
is on the public list.

These pages log no client address or user agent and load nothing from third parties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.audit.proofs import MissingEntries, ProofCache
from wbs.context import Context
from wbs.models import AuditCheckpoint, AuditEntry
from wbs.web import forms, i18n
from wbs.web.guard import public
from wbs.web.render import render


@public
async def home(request: Request) -> Response:
    return render(request, "public/home.html")


@public
async def switch_language(request: Request) -> Response:
    values = await forms.read_form(request)
    lang = values.get("lang", "")
    back = values.get("next", "/")
    # Only a local path: an open redirect would let a link on this site lead elsewhere.
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = "/"
    response = RedirectResponse(back, status_code=303)
    if lang in request.app.state.ctx.settings.languages:
        i18n.remember(response, lang)
    return response


@public
def health(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.read() as session:
        session.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


@public
def ready(request: Request) -> Response:
    """Readiness for a load balancer: database, keys, disk (wbs/ops/health.py)."""
    from wbs.ops import health

    checks = health.readiness(request.app.state.ctx)
    ok = all(checks.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                        status_code=200 if ok else 503,
                        headers={"Cache-Control": "no-store", **({} if ok else
                                                                 {"Retry-After": "30"})})


_SIZE = re.compile(r"[0-9]{1,19}")


def _size_param(request: Request, name: str) -> int:
    raw = request.query_params.get(name, "")
    if not _SIZE.fullmatch(raw):
        raise HTTPException(400, f"'{name}' must be a tree size (a whole number)")
    return int(raw)


def _consistency(ctx: Context, proofs: ProofCache, first: int, second: int) -> list[bytes]:
    with ctx.read() as session:
        # Only sizes of published checkpoints: a public endpoint that took the live tree size
        # would let anyone poll it and time every entry. And only those, so the cache of
        # proofs holds at most one entry per pair of sizes the jobs published.
        published = set(session.scalars(select(AuditCheckpoint.tree_size).where(
            AuditCheckpoint.tree_size.in_([first, second]))))
        if not (1 <= first <= second and {first, second} <= published):
            raise HTTPException(400, "'from' and 'to' must be sizes of published checkpoints")

        def read(lo: int, hi: int) -> Sequence[bytes]:
            # Stored leaf hashes: a proof over altered entries simply fails to verify against
            # a checkpoint saved before, which is what the proof is for.
            return list(session.scalars(select(AuditEntry.leaf_hash).where(
                AuditEntry.seq >= lo, AuditEntry.seq <= hi).order_by(AuditEntry.seq)))

        try:
            return proofs.consistency(read, first, second)
        except MissingEntries as exc:
            raise HTTPException(500, "the log is missing entries; run `wbs audit verify`") from exc


@public
async def consistency_api(request: Request) -> Response:
    first, second = _size_param(request, "from"), _size_param(request, "to")
    proof = await run_in_threadpool(_consistency, request.app.state.ctx,
                                    request.app.state.proofs, first, second)
    return JSONResponse({"from": first, "to": second, "proof": [h.hex() for h in proof]})


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/bahasa", switch_language, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/api/v1/transparansi/consistency", consistency_api, methods=["GET"]),
    ]
