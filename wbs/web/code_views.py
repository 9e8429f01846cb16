"""Replacing a code issued through staff intake (issue 8.9): page and JSON API.

The official who typed a report in saw its code. The reporter's first use of the mailbox leads
here (`wbs.web.reporter.mailbox_open` catches `CodeMustChange`): one click makes a new code,
shows it once, kills the old one, and opens the mailbox with the new one. Until then the old
code shows the status and nothing else.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.cases import reporter
from wbs.web import forms
from wbs.web.guard import public
from wbs.web.render import render

NOT_FOUND = {"error": "not_found", "detail": "No report matches this code."}


def ask_page(request: Request, raw_code: str, view: reporter.StatusView | None = None
             ) -> Response:
    """Why the code must change, and the button that changes it (the code in the POST body).

    With the status on top: the one code box leads here, and until the code is replaced the
    status is all it shows (issue 9.5).
    """
    return render(request, "public/replace_code.html", {"code": raw_code[:200], "view": view})


@public
async def replace_submit(request: Request) -> Response:
    ctx = request.app.state.ctx
    values = await forms.read_form(request)
    new_code = await run_in_threadpool(reporter.replace_code, ctx, values.get("code", "")[:200])
    from wbs.web.reporter import MAILBOX_COOKIE, login_page  # that module leads here

    if new_code is None:
        return login_page(request, {"not_found": True, "code": values.get("code", "")[:64]},
                          404)

    cookie = await run_in_threadpool(reporter.open_session, ctx, new_code)
    response = render(request, "public/replace_code.html", {"new_code": new_code})
    if cookie is not None:
        response.set_cookie(MAILBOX_COOKIE, cookie, path="/", secure=True, httponly=True,
                            samesite="strict")
    return response


@public
async def replace_api(request: Request) -> Response:
    from wbs.web.api import read_json  # the API's body reader: JSON only, capped

    data = await read_json(request)
    code = data.get("code")
    new_code = await run_in_threadpool(reporter.replace_code, request.app.state.ctx,
                                       code[:200] if isinstance(code, str) else "")
    if new_code is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse({"code": new_code}, status_code=201)


def routes() -> list[BaseRoute]:
    return [
        Route("/kotak-pesan/kode-baru", replace_submit, methods=["POST"]),
        Route("/api/v1/mailbox/code", replace_api, methods=["POST"]),
    ]
