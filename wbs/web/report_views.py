"""The public report form and its receipt (issue 9, blockers and items 2, 3, 4, 6, 8).

Post/Redirect/Get: a stored report answers with a redirect to `/lapor/tanda-terima`, so a reload,
Back or a language switch asks for the receipt again and never sends the report again. The
receipt page reads it from `receipt_hold`, sealed under the form's one-time nonce and a secret
that lives only in this browser's cookie: the code never travels in a URL and never sits in the
database in clear. A form sent twice (Back and send, a double tap, a retry after a lost answer)
carries the same nonce and leads to the same receipt instead of a second case.

All public; no JavaScript, nothing from third parties, no client address or user agent logged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.cases import held_files, intake, receipt_hold
from wbs.enums import Channel
from wbs.profiles import kinds as profile_kinds
from wbs.web import forms, ratelimit
from wbs.web.guard import public
from wbs.web.render import render
from wbs.web.upload_budget import BudgetExhausted
from wbs.web.upload_form import MAX_FILES, UploadedForm, busy, csrf_gate, read_upload_form

# The browser's secret (a session cookie, set with the form) and the nonce of the receipt to
# show. Neither is stored on the server; together they open the held receipt.
SECRET_COOKIE = "__Host-wbs-lapor"  # noqa: S105 - a cookie name, not a secret
RECEIPT_COOKIE = "__Host-wbs-tt"
SCOPE = "form"
RECEIPT_PATH = "/lapor/tanda-terima"
HELD_FIELD = "held_files"
# Fields that say nothing about the report itself (a page's token, the idempotency nonce).
_NOT_CONTENT = frozenset({"csrf_token", "nonce", HELD_FIELD})


def _digest(fields: dict[str, str]) -> str:
    """What the report says, to tell a form sent again from a changed one sent under the same
    nonce (Back to the sent form, a second matter typed in it). Kept only inside the seal."""
    content = {k: v for k, v in fields.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


async def _choices(request: Request) -> intake.FormChoices:
    """The units and the profile in force, read in the thread pool: never on the event loop,
    where a slow database would stall every request of the worker."""
    return await run_in_threadpool(intake.form_choices, request.app.state.ctx)


def _set_cookie(response: Response, name: str, value: str) -> None:
    # A session cookie: it ends with the browser session; the server side expires sooner.
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def _with_secret(request: Request, response: Response) -> Response:
    if not receipt_hold.valid_token(request.cookies.get(SECRET_COOKIE)):
        _set_cookie(response, SECRET_COOKIE, getattr(request.state, "receipt_secret", None)
                    or receipt_hold.new_token())
    return response


def _form_page(request: Request, form: intake.FormChoices, values: dict[str, str],
               errors: dict[str, str], rejected: list[str], dropped: list[str] | None = None,
               held: list[str] | None = None, status_code: int = 200,
               already_sent: bool = False) -> Response:
    nonce = values.get("nonce", "")
    if not receipt_hold.valid_token(nonce):
        nonce = receipt_hold.new_token()
    choices = _kind_choices(form)
    page = render(request, "public/report_form.html", {
        "kinds": [c.value for c in choices], "kind_choices": {c.value: c for c in choices},
        "units": form.units,
        "values": {**values, "nonce": nonce}, "errors": errors, "rejected": rejected,
        "dropped": dropped or [], "held": held or [], "already_sent": already_sent,
        "hold_minutes": receipt_hold.HOLD_MINUTES}, status_code=status_code)
    return _with_secret(request, page)


def _kind_choices(form: intake.FormChoices) -> list[profile_kinds.KindChoice]:
    """Whistleblowing and the kinds of the profile in force (issue 10)."""
    return profile_kinds.choices(form.profile.kinds)


@public
async def report_form(request: Request) -> Response:
    form = await _choices(request)
    kind = request.query_params.get("jenis", "")
    known = {c.value for c in _kind_choices(form)}
    return _form_page(request, form, {"kind": kind if kind in known else ""}, {}, [])


def _to_receipt(nonce: str, secret: str) -> Response:
    response = RedirectResponse(RECEIPT_PATH, status_code=303)
    _set_cookie(response, RECEIPT_COOKIE, nonce)
    _set_cookie(response, SECRET_COOKIE, secret)
    return response


def _submit(request: Request, report: intake.ReportInput, files: Any, nonce: str,
            secret: str, digest: str) -> intake.Submission:
    ctx = request.app.state.ctx

    def keep(session: Session, sub: intake.Submission) -> None:
        receipt_hold.hold(session, ctx, SCOPE, nonce, secret, receipt_hold.HeldReceipt(
            case_number=sub.case_number, code=sub.code, receipt=sub.receipt,
            received_on=sub.received_on, first_response_on=sub.first_response_on,
            identity_given=report.identity is not None, request_digest=digest))

    return intake.submit(ctx, report, files, Channel.WEB, hold=keep)


@public
async def report_submit(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await read_upload_form(request, ratelimit.gate(request, "report", csrf_gate(request)))
    nonce = form.fields.get("nonce", "")
    secret = request.cookies.get(SECRET_COOKIE, "")
    if not receipt_hold.valid_token(secret):
        secret = request.state.receipt_secret = receipt_hold.new_token()
    digest = _digest(form.fields)
    already_sent = False
    if receipt_hold.valid_token(nonce):
        found = await run_in_threadpool(receipt_hold.find, ctx, SCOPE, nonce, secret)
        if found.receipt is not None and found.receipt.request_digest not in ("", digest):
            # The sent form, changed into another report: that one is filed too, under a new
            # nonce, instead of answering with the first report's receipt (review 9).
            nonce = receipt_hold.new_token()
        elif found.receipt is not None:
            return _to_receipt(nonce, secret)
        elif found.sent:
            # Known nonce, but this browser cannot open its receipt (another browser, or its
            # time has passed): nothing is filed again and no code is shown, but what was typed
            # comes back under a new nonce, to send only if it is another report (review 9).
            already_sent, nonce = True, receipt_hold.new_token()
    else:  # a form from before this version, or a forged one: no idempotency to offer
        nonce = receipt_hold.new_token()
    fields = {k: v for k, v in form.fields.items() if k != HELD_FIELD}
    fields["nonce"] = nonce
    taken = await _held(request, form, secret)
    if taken.lost:
        # A double tap's twin may have filed the report with these files: its receipt then.
        found = await run_in_threadpool(receipt_hold.find, ctx, SCOPE, nonce, secret)
        if found.receipt is not None and found.receipt.request_digest == digest:
            return _to_receipt(nonce, secret)
    files = [*taken.files, *form.files]
    choices = await _choices(request)
    if already_sent:
        return await _again(request, choices, fields, {}, form.rejected, files, secret, 409,
                            True)
    errors: dict[str, str] = {}
    report = None
    try:
        report = choices.parse(fields)
    except intake.InvalidReport as exc:
        errors = exc.errors
    if taken.lost:
        # The page said the files were kept; they are not: never file without them unnoticed.
        errors["files"] = "held_lost"
    if form.rejected:
        # Nothing is stored when a file cannot be cleaned: the reporter decides what to do.
        errors.setdefault("files", "unsafe_file")
    elif len(files) > MAX_FILES or sum(len(clean.data) for _, clean in files) \
            > ctx.settings.max_report_bytes:
        errors["files"] = "too_many_files"
        files = []  # not held: the reporter chooses again which files to send
    if errors or report is None:
        return await _again(request, choices, fields, errors, form.rejected, files, secret,
                            lost=taken.names)
    try:
        await run_in_threadpool(_submit, request, report, files, nonce, secret, digest)
    except IntegrityError:
        # The same form sent twice at once: the other request stored it; show its receipt.
        found = await run_in_threadpool(receipt_hold.find, ctx, SCOPE, nonce, secret)
        if not found.sent:
            raise
    return _to_receipt(nonce, secret)


async def _held(request: Request, form: UploadedForm, secret: str) -> held_files.Taken:
    """The files held from this form's previous post, counted in the request's byte budget."""
    token = form.fields.get(HELD_FIELD, "")
    if not token:
        return held_files.Taken([])
    if not receipt_hold.valid_token(token):
        return held_files.Taken([], lost=True)
    ctx = request.app.state.ctx
    size = await run_in_threadpool(held_files.held_size, ctx, token)
    if size and form.lease is not None:
        try:
            await form.lease.take(size)
        except BudgetExhausted:
            raise busy() from None
    return await run_in_threadpool(held_files.take, ctx, secret, token)


async def _again(request: Request, choices: intake.FormChoices, fields: dict[str, str],
                 errors: dict[str, str], rejected: list[str], files: list[held_files.HeldFile],
                 secret: str, status_code: int = 400, already_sent: bool = False,
                 lost: list[str] | None = None) -> Response:
    """The form again, with what was typed, and the clean files held under a new token (the
    names in `lost`, held before but gone now, are asked for again)."""
    ctx = request.app.state.ctx
    token = await run_in_threadpool(held_files.hold, ctx, secret, files)
    names = [name for name, _ in files]
    if token:
        fields = {**fields, HELD_FIELD: token}
    return _form_page(request, choices, fields, errors, rejected,
                      [*(lost or []), *([] if token else names)], names if token else [],
                      status_code, already_sent)


def _qr_svg(text: str) -> Markup:
    import segno

    # Rendered on the server as inline SVG: no script, no image request, no third party.
    svg = segno.make(text, error="m").svg_inline(scale=2, border=2, dark="#000", light="#fff",
                                                 omitsize=True, svgclass="qr")
    return Markup(svg)  # noqa: S704 - segno's own output, from a receipt we signed


@public
def receipt_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    nonce, secret = request.cookies.get(RECEIPT_COOKIE, ""), request.cookies.get(SECRET_COOKIE)
    found = receipt_hold.Found(sent=False)
    if receipt_hold.valid_token(nonce) and receipt_hold.valid_token(secret):
        found = receipt_hold.find(ctx, SCOPE, nonce, secret)
    if found.receipt is None:
        return render(request, "public/receipt_gone.html", {}, status_code=404)
    held = found.receipt
    return render(request, "public/receipt.html", {
        "submission": held, "identity_given": held.identity_given, "qr": _qr_svg(held.receipt),
        "portal_url": ctx.settings.base_url, "hold_minutes": receipt_hold.HOLD_MINUTES})


@public
async def receipt_done(request: Request) -> Response:
    await forms.read_form(request)
    nonce, secret = request.cookies.get(RECEIPT_COOKIE, ""), request.cookies.get(SECRET_COOKIE)
    if receipt_hold.valid_token(nonce) and receipt_hold.valid_token(secret):
        await run_in_threadpool(receipt_hold.forget, request.app.state.ctx, SCOPE, nonce,
                                secret or "")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(RECEIPT_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/lapor", report_form, methods=["GET"]),
        Route("/lapor", report_submit, methods=["POST"]),
        Route(RECEIPT_PATH, receipt_page, methods=["GET"]),
        Route(RECEIPT_PATH + "/selesai", receipt_done, methods=["POST"]),
    ]
