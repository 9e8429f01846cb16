"""Small-form parsing with CSRF enforcement.

Only `application/x-www-form-urlencoded` goes through here: multipart bodies (uploads) go through
`wbs.web.uploads`, which never spools to disk. A form without a valid CSRF token is refused with
403 before anything else looks at it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from wbs.web import security

MAX_FORM_BYTES = 256 * 1024


async def read_form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        # Our forms are all url-encoded; anything else carries no token we can check.
        raise HTTPException(403)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise HTTPException(413)
    form = await request.form(max_files=0, max_fields=200)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, values.get(security.CSRF_FIELD))
    return values


def check_csrf(request: Request, submitted: str | None) -> None:
    key = request.app.state.ctx.keys.derived("csrf")
    if not security.csrf_valid(key, request, submitted):
        raise HTTPException(403)


def field(values: dict[str, str], name: str, max_length: int = 10_000) -> str:
    return values.get(name, "").strip()[:max_length]
