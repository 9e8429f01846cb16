"""Reporter JSON API (same service functions as the pages), documented in OpenAPI.

No cookies: the code travels in each request body, so there is no ambient authority for a
cross-site request to abuse and no CSRF token is needed. Requests must be `application/json`
(a cross-site form cannot send that without a CORS preflight, which this API never grants).
Every bad input is a 4xx with a JSON error, never a 500.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wbs.cases import intake, receipt_hold, reporter
from wbs.cases.receipts import verify_receipt
from wbs.cases.workflow import STATE_LABELS_ID
from wbs.enums import CaseState, Channel
from wbs.profiles import store
from wbs.web import text_input
from wbs.web.guard import public
from wbs.web.openapi import document as openapi_document
from wbs.web.upload_form import read_upload_form, refuse_when_disk_low

MAX_JSON_BYTES = 512 * 1024
IDEMPOTENCY_SCOPE = "api"
NOT_FOUND = {"error": "not_found", "detail": "No report matches this code."}


def _error(status: int, error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HTTPException(415, "Content-Type must be application/json")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise HTTPException(413, "body too large")
    try:
        data = text_input.clean_json(json.loads(body))
    except text_input.BadText as exc:
        raise HTTPException(400, "text with a NUL, a lone surrogate or nested too deep") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: nesting deep enough to exhaust the parser's stack is not JSON we read.
        raise HTTPException(400, "body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data


def _flatten(data: dict[str, Any]) -> dict[str, object]:
    """Map the API's nested shape onto the form's flat field names."""
    flat: dict[str, object] = {k: v for k, v in data.items() if k not in ("who", "identity")}
    who = data.get("who")
    if isinstance(who, dict):
        for key in ("name", "nip", "agency", "position"):
            flat[f"who_{key}"] = who.get(key, "")
    elif isinstance(who, str):
        flat["who_name"] = who
    identity = data.get("identity")
    if isinstance(identity, dict):
        flat["identity_mode"] = "confidential"
        for key, value in identity.items():
            flat[f"identity_{key}"] = value
    elif identity is not None:
        flat["identity_mode"] = "invalid"
    return flat


def _created(held: receipt_hold.HeldReceipt, status_code: int) -> JSONResponse:
    return JSONResponse({"case_number": held.case_number, "code": held.code,
                         "receipt": held.receipt, "received_on": held.received_on,
                         "first_response_on": held.first_response_on}, status_code=status_code)


def _replay(found: receipt_hold.Found, digest: str) -> JSONResponse:
    if found.receipt is None:  # known key, answer gone: nothing filed again, no code shown
        return _error(409, "already_submitted",
                      detail="A report was already filed with this Idempotency-Key.")
    if found.receipt.request_digest != digest:
        return _error(422, "idempotency_key_reused",
                      detail="This Idempotency-Key was used with a different report.")
    response = _created(found.receipt, 201)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _submit_once(ctx: Any, report: intake.ReportInput, key: str,
                 digest: str) -> intake.Submission:
    def keep(session: Session, sub: intake.Submission) -> None:
        receipt_hold.hold(session, ctx, IDEMPOTENCY_SCOPE, key, key, receipt_hold.HeldReceipt(
            case_number=sub.case_number, code=sub.code, receipt=sub.receipt,
            received_on=sub.received_on, first_response_on=sub.first_response_on,
            identity_given=report.identity is not None, request_digest=digest))

    return intake.submit(ctx, report, [], Channel.API, hold=keep)


@public
async def create_report(request: Request) -> Response:
    """A retry with the same Idempotency-Key (a lost answer, a client that sends twice) gets
    the first answer back instead of filing the report again (issue 9, blocker 2). The key is
    the client's secret: the answer, with the code, is held sealed under it, briefly."""
    ctx = request.app.state.ctx
    refuse_when_disk_low(ctx.settings)
    key = request.headers.get("idempotency-key")
    if key is not None and not receipt_hold.valid_token(key):
        return _error(400, "invalid_idempotency_key",
                      detail="Idempotency-Key must be 32-128 characters of A-Z, a-z, 0-9, - "
                             "and _ (a random UUID will do).")
    data = await read_json(request)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    if key is not None:
        found = await run_in_threadpool(receipt_hold.find, ctx, IDEMPOTENCY_SCOPE, key, key)
        if found.sent:
            return _replay(found, digest)
    choices = await run_in_threadpool(intake.form_choices, ctx)
    try:
        report = choices.parse(_flatten(data))
    except intake.InvalidReport as exc:
        return _error(422, "invalid", fields=exc.errors)
    if key is None:
        sub = await run_in_threadpool(intake.submit, ctx, report, [], Channel.API)
    else:
        try:
            sub = await run_in_threadpool(_submit_once, ctx, report, key, digest)
        except IntegrityError:  # the same key twice at once: the other request filed it
            found = await run_in_threadpool(receipt_hold.find, ctx, IDEMPOTENCY_SCOPE, key, key)
            if not found.sent:
                raise
            return _replay(found, digest)
    return _created(receipt_hold.HeldReceipt(
        case_number=sub.case_number, code=sub.code, receipt=sub.receipt,
        received_on=sub.received_on, first_response_on=sub.first_response_on), 201)


def _code(data: dict[str, Any]) -> str:
    code = data.get("code")
    return code[:200] if isinstance(code, str) else ""


@public
async def status(request: Request) -> Response:
    data = await read_json(request)
    view = await run_in_threadpool(reporter.status, request.app.state.ctx, _code(data))
    if view is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse({
        "case_number": view.case_number, "kind": view.kind, "state": view.state,
        "state_label": STATE_LABELS_ID[CaseState(view.state)],
        "received_on": view.received_on.isoformat(),
        "timeline": [{"state": s, "on": on.isoformat()} for s, on in view.timeline],
        "next_deadline": view.next_deadline.isoformat() if view.next_deadline else None})


async def _access(data: dict[str, Any], request: Request) -> reporter.ReporterAccess | None:
    return await run_in_threadpool(reporter.access_by_code, request.app.state.ctx, _code(data))


@public
async def mailbox(request: Request) -> Response:
    access = await _access(await read_json(request), request)
    if access is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    view = await run_in_threadpool(reporter.mailbox, request.app.state.ctx, access)
    return JSONResponse({
        "case_number": view.case_number, "state": view.state,
        "identity_provided": view.identity_provided,
        "messages": [{"id": m.id, "author": m.author, "body": m.body,
                      "on": m.created_on.isoformat()} for m in view.messages],
        "attachments": [{"id": a.id, "name": a.name, "size": a.size,
                         "metadata_removed": a.stripped} for a in view.attachments]})


@public
async def post_message(request: Request) -> Response:
    data = await read_json(request)
    access = await _access(data, request)
    if access is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    body = data.get("body")
    try:
        message_id = await run_in_threadpool(reporter.post_message, request.app.state.ctx,
                                             access, body if isinstance(body, str) else "")
    except reporter.EmptyMessage:
        return _error(422, "invalid", fields={"body": "required"})
    except reporter.CaseClosed:
        return _error(409, "case_closed")
    return JSONResponse({"id": message_id}, status_code=201)


@public
async def add_identity(request: Request) -> Response:
    data = await read_json(request)
    access = await _access(data, request)
    if access is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    raw = data.get("identity")
    errors: dict[str, str] = {}
    identity = intake.parse_identity(raw if isinstance(raw, dict) else {}, errors, prefix="")
    if errors or identity is None:
        return _error(422, "invalid", fields=errors)
    await run_in_threadpool(reporter.add_identity, request.app.state.ctx, access, identity)
    return JSONResponse({"identity_provided": True}, status_code=201)


def _no_gate(_fields: Mapping[str, str]) -> bool:
    return True


@public
async def add_attachment(request: Request) -> Response:
    ctx = request.app.state.ctx
    found: list[reporter.ReporterAccess] = []

    async def check(fields: Mapping[str, str]) -> bool:
        # The code must come before the file, so nothing is accepted for an unknown code. Its
        # lookup reads the database: in the thread pool, between two chunks of the body.
        access = await run_in_threadpool(reporter.access_by_code, ctx,
                                         str(fields.get("code", ""))[:200])
        if access is not None:
            found.append(access)
        return access is not None

    try:
        # No cookie, so no CSRF token to gate on: the code, checked by `check`, is the gate.
        form = await read_upload_form(request, _no_gate, check=check)
    except HTTPException as exc:
        if exc.status_code == 403:
            return JSONResponse(NOT_FOUND, status_code=404)
        raise
    if form.rejected:
        return _error(422, "unsafe_file", files=form.rejected)
    if not form.files:
        return _error(422, "invalid", fields={"file": "required"})
    try:
        ids = await run_in_threadpool(reporter.add_attachments, ctx, found[0], form.files)
    except reporter.CaseClosed:
        return _error(409, "case_closed")
    return JSONResponse({"ids": ids}, status_code=201)


@public
async def verify(request: Request) -> Response:
    data = await read_json(request)
    text = data.get("receipt")
    check = verify_receipt(request.app.state.ctx.keys.receipt_public,
                           text if isinstance(text, str) else "")
    if not check.valid or check.received_on is None:
        return JSONResponse({"valid": False})
    return JSONResponse({"valid": True, "case_number": check.case_number,
                         "received_on": check.received_on.isoformat()})


@public
async def openapi(request: Request) -> Response:
    profile = await run_in_threadpool(store.current, request.app.state.ctx)
    return JSONResponse(openapi_document(profile.kinds))


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        Route("/api/v1/reports", create_report, methods=["POST"]),
        Route("/api/v1/status", status, methods=["POST"]),
        Route("/api/v1/mailbox", mailbox, methods=["POST"]),
        Route("/api/v1/mailbox/messages", post_message, methods=["POST"]),
        Route("/api/v1/mailbox/identity", add_identity, methods=["POST"]),
        Route("/api/v1/mailbox/attachments", add_attachment, methods=["POST"]),
        Route("/api/v1/receipts/verify", verify, methods=["POST"]),
    ]
