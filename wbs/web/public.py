"""Public (reporter-facing) pages. Every route here is on the public list.

These pages log no client address or user agent and load nothing from third parties.
"""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

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
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, path="/", secure=True,
                            httponly=True, samesite="strict")
    return response


@public
def health(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.read() as session:
        session.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/bahasa", switch_language, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
