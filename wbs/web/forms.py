"""Small-form parsing with CSRF enforcement.

Only `application/x-www-form-urlencoded` goes through here: multipart bodies (uploads) go through
`wbs.web.uploads`, which never spools to disk. A form without a valid CSRF token is refused with
403 before anything else looks at it.

The body is read from the stream and counted as it arrives, so the cap holds whatever the
framing: a declared `Content-Length` over it is refused before a byte is read, and a chunked body
is abandoned the moment it crosses it (`request.form()` read a chunked form to ~200 MB before
looking at the token). A request that carries no CSRF cookie at all cannot pass, so it is refused
before its body is read.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request

from wbs.web import security, text_input

MAX_FORM_BYTES = 256 * 1024
MAX_FORM_FIELDS = 200


async def read_form(request: Request, *, lenient: bool = False) -> dict[str, str]:
    """The form's fields, after the CSRF check, through the text layer (`text_input`): a NUL
    or a lone surrogate is a 400, or with `lenient` (sign-in only) a replacement character."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        # Our forms are all url-encoded; anything else carries no token we can check.
        raise HTTPException(403)
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit())
                               or int(length) > MAX_FORM_BYTES):
        raise HTTPException(413)
    if security.csrf_cookie_value(request) is None:
        raise HTTPException(403)
    values = parse_form(await read_capped_body(request, MAX_FORM_BYTES))
    check_csrf(request, values.get(security.CSRF_FIELD))
    if lenient:
        return {text_input.scrub(k): text_input.scrub(v) for k, v in values.items()}
    try:
        return text_input.clean_fields(values)
    except text_input.BadText:
        raise HTTPException(400) from None


async def read_capped_body(request: Request, cap: int) -> bytes:
    """The whole body, or 413 as soon as more than `cap` bytes have arrived."""
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > cap:
            raise HTTPException(413)
        body += chunk
    return bytes(body)


def parse_form(body: bytes) -> dict[str, str]:
    """Decode as Starlette did: names and values percent-decoded as UTF-8 (bad sequences become
    U+FFFD), raw bytes as latin-1; the last value of a repeated name wins."""
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True,
                          max_num_fields=MAX_FORM_FIELDS, encoding="utf-8", errors="replace")
    except ValueError:
        raise HTTPException(400) from None
    return dict(pairs)


def check_csrf(request: Request, submitted: str | None) -> None:
    key = request.app.state.ctx.keys.derived("csrf")
    if not security.csrf_valid(key, request, submitted):
        raise HTTPException(403)


def field(values: dict[str, str], name: str, max_length: int = 10_000) -> str:
    return values.get(name, "").strip()[:max_length]
