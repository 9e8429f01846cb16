"""Reporter pages: status by code, mailbox, receipt verification (the report form and its
receipt are in `report_views`).

All public. No JavaScript, nothing from third parties, no client address or user agent logged.
Codes travel only in POST bodies; the mailbox cookie holds a random token, never the code.
The session is checked before an upload's body is read, and every response to a request that
used the session carries the cookie back with a fresh idle expiry (the database keeps no time of
the reporter's last visit, so the cookie is where the sliding timeout lives). A form sent after
the session ended gets the sign-in page back with what was typed in it (issue 9.7): carried in
the page, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from wbs.cases import intake, reporter
from wbs.cases.receipts import verify_receipt
from wbs.integrations import consent
from wbs.reports import surveys
from wbs.web import code_views, forms, i18n
from wbs.web.guard import public
from wbs.web.render import render, use_language
from wbs.web.upload_form import csrf_gate, read_upload_form

MAILBOX_COOKIE = "__Host-wbs-r"


@public
async def status_form(request: Request) -> Response:
    # One place for the code (issue 9.5): the old link shows the one code box, which opens
    # the mailbox with the status on top. (A page, not a redirect: old forms keep their token.)
    return login_page(request)


@public
async def status_lookup(request: Request) -> Response:
    values = await forms.read_form(request)
    view = await run_in_threadpool(reporter.status, request.app.state.ctx,
                                   values.get("code", "")[:200])
    if view is None:
        return login_page(request, {"not_found": True, "code": values.get("code", "")[:64]},
                           404)
    return render(request, "public/status.html", {"view": view})


MailboxSession = tuple[reporter.ReporterAccess, str]  # the access and the refreshed cookie value


def _session(request: Request) -> MailboxSession | None:
    return reporter.access_by_session(request.app.state.ctx, request.cookies.get(MAILBOX_COOKIE))


def _with_cookie(response: Response, cookie: str) -> Response:
    response.set_cookie(MAILBOX_COOKIE, cookie, path="/", secure=True, httponly=True,
                        samesite="strict")
    return response


def _idle_minutes(request: Request) -> int:
    return int(request.app.state.ctx.settings.reporter_session_idle_seconds // 60)


def login_page(request: Request, extra: dict[str, Any] | None = None,
                status_code: int = 200) -> Response:
    return render(request, "public/mailbox_login.html",
                  {"idle_minutes": _idle_minutes(request), **(extra or {})},
                  status_code=status_code)


def _mailbox_page(request: Request, access: reporter.ReporterAccess,
                  extra: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    from wbs.cases import compensation

    ctx = request.app.state.ctx
    view = reporter.mailbox(ctx, access)
    claim = compensation.reporter_view(ctx, access)
    # After the outcome, the reporter is invited to rate the complaint service (RULES §9) on
    # the same public form as anyone: the link is the round's, never the case's.
    invite = surveys.open_for_complaints(ctx, ctx.today()) if view.closed else None
    lapor_consent = consent.for_reporter(ctx, access.case_id, access.secret)
    return render(request, "public/mailbox.html",
                  {"view": view, "idle_minutes": _idle_minutes(request), "compensation": claim,
                   "lapor_consent": lapor_consent,
                   "survey_invite": invite, **(extra or {})}, status_code=status_code)


async def _page(request: Request, found: MailboxSession, extra: dict[str, Any] | None = None,
                status_code: int = 200) -> Response:
    access, cookie = found
    page = await run_in_threadpool(_mailbox_page, request, access, extra, status_code)
    return _with_cookie(page, cookie)


def _drop_cookie(request: Request, response: Response) -> Response:
    if MAILBOX_COOKIE in request.cookies:  # expired, forged or ended: drop it
        response.delete_cookie(MAILBOX_COOKIE, path="/", secure=True, httponly=True,
                               samesite="strict")
    return response


# What a mailbox form may carry back through the sign-in page when its session has ended.
KEPT_FIELDS = ("body", "response", "text", *(f"identity_{k}" for k in intake.IDENTITY_LIMITS))


def _kept(values: Mapping[str, str]) -> dict[str, str]:
    return {name: values[name][:20_000] for name in KEPT_FIELDS if name in values}


def _session_ended(request: Request, values: Mapping[str, str]) -> Response:
    """The session ended while the reporter typed: say so, and give the text back (issue 9.7).

    Still a 403 (nothing was done), but no "access refused": the sign-in page, with what was
    typed in it, to send once the code is typed again.
    """
    return _drop_cookie(request, login_page(
        request, {"session_ended": True, "kept": _kept(values)}, 403))


def _back(found: MailboxSession, notice: str) -> Response:
    return _with_cookie(RedirectResponse(f"/kotak-pesan?ok={notice}", status_code=303), found[1])


CLOSED = {"error": "case_closed"}


@public
def mailbox(request: Request) -> Response:
    found = _session(request)
    if found is None:
        return _drop_cookie(request, login_page(request))
    access, cookie = found
    return _with_cookie(_mailbox_page(request, access,
                                      {"notice": request.query_params.get("ok", "")}), cookie)


@public
async def mailbox_open(request: Request) -> Response:
    values = await forms.read_form(request)
    try:
        cookie = await run_in_threadpool(reporter.open_session, request.app.state.ctx,
                                         values.get("code", "")[:200])
    except reporter.CodeMustChange:  # a code from staff intake: the reporter replaces it first
        view = await run_in_threadpool(reporter.status, request.app.state.ctx,
                                       values.get("code", "")[:200])
        return code_views.ask_page(request, values.get("code", ""), view)
    kept = _kept(values)
    if cookie is None:
        # The typed code stays in the box (in this page only) so a typo can be corrected.
        return login_page(request, {"not_found": True, "code": values.get("code", "")[:64],
                                     "kept": kept}, 404)
    if not any(kept.values()):
        return _with_cookie(RedirectResponse("/kotak-pesan", status_code=303), cookie)
    # Signed in again after the session ended: the mailbox with the text back in its place,
    # not sent (the reporter checks it first).
    found = await run_in_threadpool(_session_from_cookie, request, cookie)
    if found is None:
        return login_page(request, {"session_ended": True, "kept": kept}, 403)
    return await _page(request, found, {
        "notice": "signed_in_again", "body": kept.get("body"),
        "response_values": {k: kept[k] for k in ("response", "text") if k in kept},
        "values": {k: v for k, v in kept.items() if k.startswith("identity_")}})


def _session_from_cookie(request: Request, cookie: str) -> MailboxSession | None:
    return reporter.access_by_session(request.app.state.ctx, cookie)


@public
async def mailbox_message(request: Request) -> Response:
    found = await run_in_threadpool(_session, request)
    values = await forms.read_form(request)
    if found is None:
        return _session_ended(request, values)
    try:
        await run_in_threadpool(reporter.post_message, request.app.state.ctx, found[0],
                                values.get("body", ""))
    except reporter.EmptyMessage:
        return await _page(request, found, {"error": "empty_message", "body": values.get("body")},
                           400)
    except reporter.CaseClosed:
        return await _page(request, found, CLOSED, 409)
    return _back(found, "message")


@public
async def mailbox_identity(request: Request) -> Response:
    found = await run_in_threadpool(_session, request)
    values = await forms.read_form(request)
    if found is None:
        return _session_ended(request, values)
    errors: dict[str, str] = {}
    identity = intake.parse_identity(values, errors)
    if errors or identity is None:
        return await _page(request, found, {"identity_errors": errors, "values": values}, 400)
    # Allowed on a closed case too: a reward (PP 43/2018) can come after closure.
    await run_in_threadpool(reporter.add_identity, request.app.state.ctx, found[0], identity)
    return _back(found, "identity")


@public
async def mailbox_lapor_consent(request: Request) -> Response:
    """The reporter agrees, or no longer agrees, that the identity may go to SP4N-LAPOR!."""
    found = await run_in_threadpool(_session, request)
    values = await forms.read_form(request)
    if found is None:
        return _session_ended(request, values)
    ctx, access = request.app.state.ctx, found[0]
    try:
        if values.get("decision") == "give":
            await run_in_threadpool(consent.give, ctx, access.case_id, access.secret)
        elif values.get("decision") == "revoke":
            await run_in_threadpool(consent.revoke, ctx, access.case_id)
        else:
            return await _page(request, found, {"consent_error": "consent_not_given"}, 400)
    except consent.ConsentRefused as exc:
        return await _page(request, found, {"consent_error": exc.reason}, 409)
    return _back(found, "lapor_consent")


@public
async def mailbox_attachment(request: Request) -> Response:
    # The session first: without one, 403 before a byte of the body is read (the files are
    # gone, but the reporter is told the session ended and can sign in again).
    found = await run_in_threadpool(_session, request)
    if found is None:
        return _session_ended(request, {})
    ctx = request.app.state.ctx
    closed = not await run_in_threadpool(reporter.accepts_input, ctx, found[0])
    csrf_ok = csrf_gate(request)

    def gate(fields: Mapping[str, str]) -> bool:
        # Called before the first file part: a closed case stops the upload there, but only
        # for a request that passed CSRF (a forged one gets the plain 403).
        if not csrf_ok(fields):
            return False
        if closed:
            raise reporter.CaseClosed
        return True

    try:
        form = await read_upload_form(request, gate)
        if form.rejected or not form.files:
            return await _page(request, found, {"rejected": form.rejected, "error": "no_file"},
                               400)
        await run_in_threadpool(reporter.add_attachments, ctx, found[0], form.files)
    except reporter.CaseClosed:
        return await _page(request, found, CLOSED, 409)
    return _back(found, "file")


@public
def mailbox_download(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _session_ended(request, {})
    access, cookie = session
    found = reporter.download(request.app.state.ctx, access,
                              int(request.path_params["attachment_id"]))
    if found is None:
        raise HTTPException(404)
    return _with_cookie(file_response(*found), cookie)


def file_response(meta: Any, chunks: list[bytes]) -> Response:
    # Always a download, never rendered inline: evidence may be hostile HTML or SVG.
    from urllib.parse import quote

    return StreamingResponse(iter(chunks), media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta.name)}",
        "Content-Length": str(meta.size)})


RESPONSES = {"accept": "reporter_accepts", "object": "reporter_objects",
             "reexamine": "request_reexamination", "apip": "reporter_requests_apip"}


@public
async def mailbox_response(request: Request) -> Response:
    """After an answer: accept it, object, ask for re-examination, or ask for APIP.

    Nothing is pre-chosen, and nothing irreversible happens in one step (issue 9, blocker 1):
    a complete response first gets a page naming what will happen; only its "confirm" button
    acts, and "change" brings the mailbox back with the choice and the text as they were. Every
    error keeps both.
    """
    found = await run_in_threadpool(_session, request)
    values = await forms.read_form(request)
    if found is None:
        return _session_ended(request, values)
    step = values.get("step", "")
    lang = values.get("lang", "")
    # The language switch of the confirmation page: the same page again, in the new language,
    # with the pending choice and text (it acts on nothing; only "confirm" does).
    if step == "language" and use_language(request, lang):
        response = await _respond(request, found, values, "")
        i18n.remember(response, lang)
        return response
    return await _respond(request, found, values, step)


async def _respond(request: Request, found: MailboxSession, values: Mapping[str, str],
                   step: str) -> Response:
    from wbs.cases import routing
    from wbs.cases.workflow import Action

    choice = values.get("response", "")
    kept = {"response": choice, "text": values.get("text", "")[:20_000]}
    name = RESPONSES.get(choice)
    # The answer the reporter saw (its message id): a confirmation is for that answer only.
    seen = values.get("answer", "")
    answer_id = int(seen) if seen.isdigit() and len(seen) < 19 else None
    if step == "edit":
        return await _page(request, found, {"response_values": kept})
    if name is None:
        return await _page(request, found, {"error": "response_required",
                                            "response_values": kept}, 400)
    try:
        routing.check_reporter_response(Action(name), kept["text"])
        if step != "confirm":
            view = await run_in_threadpool(reporter.mailbox, request.app.state.ctx, found[0])
            latest = view.answer
            if answer_id is not None and answer_id != (latest.id if latest else 0):
                raise routing.AnswerChanged()
            # The page names the answer it confirms, so "yes" is for what is on the screen.
            return _with_cookie(render(request, "public/mailbox_confirm.html", {
                "choice": choice, "text": kept["text"], "answer": latest}), found[1])
        # A confirmation that names no answer confirms none (-1 matches no answer).
        await run_in_threadpool(routing.reporter_act, request.app.state.ctx, found[0],
                                Action(name), kept["text"],
                                -1 if answer_id is None else answer_id)
    except routing.AnswerChanged:
        return await _page(request, found, {"error": "answer_changed",
                                            "response_values": kept}, 409)
    except routing.InvalidInput:
        return await _page(request, found, {"error": "reason_required",
                                            "response_values": kept}, 400)
    except routing.TransitionRefused:
        return await _page(request, found, {"error": "response_refused",
                                            "response_values": kept}, 400)
    return _back(found, "response")


@public
async def mailbox_close(request: Request) -> Response:
    await forms.read_form(request)
    await run_in_threadpool(reporter.close_session, request.app.state.ctx,
                            request.cookies.get(MAILBOX_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(MAILBOX_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@public
async def verify_form(request: Request) -> Response:
    return render(request, "public/verify.html")


@public
async def verify_submit(request: Request) -> Response:
    values = await forms.read_form(request)
    check = verify_receipt(request.app.state.ctx.keys.receipt_public, values.get("receipt", ""))
    return render(request, "public/verify.html", {"check": check,
                                                  "receipt": values.get("receipt", "")[:2000]})


@public
def mailbox_action_page(request: Request) -> Response:
    """A GET on a mailbox form's address (the language switch or a reload of a page that
    answered a POST) leads back to the mailbox, never to "method not allowed"."""
    return RedirectResponse("/kotak-pesan", status_code=303)


MAILBOX_FORMS = ("masuk", "pesan", "identitas", "lampiran", "tanggapan", "lapor-identitas")


def routes() -> list[BaseRoute]:
    return [
        Route("/status", status_form, methods=["GET"]),
        Route("/status", status_lookup, methods=["POST"]),
        Route("/kotak-pesan", mailbox, methods=["GET"]),
        Route("/kotak-pesan/masuk", mailbox_open, methods=["POST"]),
        Route("/kotak-pesan/pesan", mailbox_message, methods=["POST"]),
        Route("/kotak-pesan/identitas", mailbox_identity, methods=["POST"]),
        Route("/kotak-pesan/lapor-identitas", mailbox_lapor_consent, methods=["POST"]),
        Route("/kotak-pesan/lampiran", mailbox_attachment, methods=["POST"]),
        Route("/kotak-pesan/lampiran/{attachment_id:rowid}", mailbox_download, methods=["GET"]),
        Route("/kotak-pesan/tanggapan", mailbox_response, methods=["POST"]),
        Route("/kotak-pesan/keluar", mailbox_close, methods=["POST"]),
        *(Route(f"/kotak-pesan/{name}", mailbox_action_page, methods=["GET"])
          for name in MAILBOX_FORMS),
        Route("/verifikasi", verify_form, methods=["GET"]),
        Route("/verifikasi", verify_submit, methods=["POST"]),
    ]
