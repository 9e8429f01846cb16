"""Staff case pages: list (metadata only), the case (decrypted after a stated purpose), messages,
evidence downloads and conflict declarations. Every handler declares its permission; the service
layer decides per case and audits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wbs import paging
from wbs.access import Permission
from wbs.cases import deadlines, identity, listing, reported_unit, routing, sealing, service
from wbs.enums import CaseState, ReportKind, Role
from wbs.files import CleanFile
from wbs.integrations import outbox as lapor_outbox
from wbs.profiles import kinds as profile_kinds
from wbs.profiles import store
from wbs.profiles.shipped import SANGGAU_LABELS
from wbs.reports import counting
from wbs.web import forms
from wbs.web.guard import requires
from wbs.web.render import language_of, render
from wbs.web.reporter import file_response
from wbs.web.upload_form import csrf_gate, read_upload_form


def _number(request: Request) -> str:
    number = str(request.path_params["number"])
    if len(number) > 32:
        raise HTTPException(404)
    return number


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(func, *args)
    except (service.CaseNotFound, service.CaseHidden) as exc:
        raise HTTPException(404) from exc
    except service.AccessDenied as exc:
        raise HTTPException(403) from exc
    except sealing.NoKey as exc:
        # The unit's key was not granted to this account (yet): nothing can be decrypted.
        raise HTTPException(403) from exc


def _filters(request: Request) -> listing.CaseFilter:
    q = request.query_params
    state = q.get("status", "")
    kind = q.get("jenis", "")
    within = q.get("jatuh_tempo", "")
    unit = q.get("unit", "")
    after, before = q.get("setelah", ""), q.get("sebelum", "")
    return listing.CaseFilter(
        state=state if state in {s.value for s in CaseState} else "",
        unit=unit if len(unit) <= 64 and unit.replace("-", "").isalnum() else "",
        kind=kind if kind in {k.value for k in ReportKind} else "",
        overdue=q.get("terlambat") == "1",
        due_within=int(within) if within.isdigit() and int(within) <= 365 else None,
        # A key that is not one starts the list at its first page.
        after=after if paging.parse_key(after) else "",
        before=before if paging.parse_key(before) and not after else "")


def _unit_choices(request: Request) -> list[tuple[str, str]]:
    from wbs.cases.intake import reportable_units

    with request.app.state.ctx.read() as session:
        return [(u.slug, u.name) for u in reportable_units(session)]


@requires(Permission.CASE_LIST)
async def case_list(request: Request) -> Response:
    from wbs.cases import duplicates

    ctx = request.app.state.ctx
    staff = request.state.staff
    like = request.query_params.get("mirip", "")
    if like:
        # The cases that resemble one case (metadata only): the list's duplicate pointer.
        facts, similar = await run_in_threadpool(duplicates.similar_to, ctx, staff, like[:32])
        if facts is None:
            raise HTTPException(404)
        return render(request, "staff/similar.html", {
            "case": facts, "rows": similar, "window": duplicates.WINDOW_DAYS,
            "unnamed_window": duplicates.UNNAMED_WINDOW_DAYS})
    filters = _filters(request)
    page = await run_in_threadpool(listing.list_cases, ctx, staff, filters)
    extra = await run_in_threadpool(duplicates.page_facts, ctx, staff,
                                    [row.case_number for row in page.rows])
    return render(request, "staff/cases.html", {
        "rows": page.rows, "page": page, "cap": listing.COUNT_CAP, "filters": filters,
        "extra": extra,
        "states": [s.value for s in CaseState], "kinds": [k.value for k in ReportKind],
        "units": await run_in_threadpool(_unit_choices, request),
        "today": ctx.today(), "query": request.query_params})


async def _render_case(request: Request, number: str, *, error: str = "",
                       kept: dict[str, str] | None = None, kept_action: str = "",
                       rejected: list[str] | None = None, status_code: int = 200) -> Response:
    """The case page; after a refused form, with what was chosen and typed still in it."""
    from wbs.cases import duplicates

    ctx = request.app.state.ctx
    staff = request.state.staff
    try:
        view = await _call(service.view_case, ctx, staff, number)
    except service.PurposeRequired:
        return render(request, "staff/purpose.html", {"number": number})
    info = await _call(routing.panel, ctx, staff, number)
    _facts, similar = await run_in_threadpool(duplicates.similar_to, ctx, staff, number)
    lapor_ref = await run_in_threadpool(lapor_outbox.reference_of, ctx, number)
    limits = await run_in_threadpool(deadlines.rules_in_force, ctx)
    profile = await run_in_threadpool(store.current, ctx)
    return render(request, "staff/case.html", {
        "lapor_ref": lapor_ref,
        "kind_name": profile_kinds.label_of(view.profile_kind, view.kind, profile.kinds,
                                            language_of(request)),
        # The profile's own names of the hasil penelaahan where they differ from the national
        # terms (Belitung Timur, Jayapura: indikasi pelanggaran / sengketa; issue 10).
        "regional_classes": {k: v for k, v in profile.classification_labels.items()
                             if SANGGAU_LABELS.get(k) != v},
        # The answer limit the profile fixes for this kind (Jayapura: keluhan, 5 days).
        "fixed_answer": profile_kinds.answer_rule(view.profile_kind, profile.kinds),
        "view": view, "panel": info, "notice": "" if error else request.query_params.get("ok", ""),
        "error": error or request.query_params.get("galat", ""), "kept": kept or {},
        "kept_action": kept_action, "rejected": rejected or [], "similar": similar,
        "similar_window": duplicates.WINDOW_DAYS, "limits": limits,
        "categories": await run_in_threadpool(_categories, ctx)}, status_code=status_code)


def _categories(ctx: Any) -> list[counting.CategoryChoice]:
    with ctx.db() as session:
        return counting.active_categories(session)


def _kept(values: dict[str, str]) -> dict[str, str]:
    """What a refused form carried, to put back into it (never the CSRF token)."""
    return {k[:80]: v[:50_000] for k, v in values.items() if k != "csrf_token"}


@requires(Permission.CASE_READ)
async def case_page(request: Request) -> Response:
    return await _render_case(request, _number(request))


def _whole(raw: str) -> int:
    """A small whole number from a form, or 0 (which the service refuses with its message):
    `int()` of anything else was a 500."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0


def _action_call(action: str, values: dict[str, str],
                 files: list[tuple[str, CleanFile]] | None = None) -> Callable[..., Any] | None:
    """Bind the form of one workflow action to its service function."""
    text = values.get("text", "")
    reason = values.get("reason", "")
    calls: dict[str, Callable[..., Any]] = {
        "verify_and_dispose": lambda ctx, staff, n: routing.verify_and_dispose(
            ctx, staff, n, classification=values.get("classification", ""),
            resolution_days=_whole(values.get("resolution_days", "")),
            unit_slugs=[v for k, v in values.items() if k.startswith("unit_")],
            category=values.get("category", ""), determination=values.get("determination", "")),
        "add_disposition": lambda ctx, staff, n: routing.add_disposition(
            ctx, staff, n, unit_slugs=[v for k, v in values.items() if k.startswith("unit_")]),
        "request_info": lambda ctx, staff, n: routing.request_info(ctx, staff, n, text),
        "archive": lambda ctx, staff, n: routing.archive(ctx, staff, n, reason),
        "forward_external": lambda ctx, staff, n: routing.forward_external(
            ctx, staff, n, values.get("target", ""), reason),
        "hand_to_apip": lambda ctx, staff, n: routing.hand_to_apip(ctx, staff, n, reason),
        "apip_intake": lambda ctx, staff, n: routing.apip_intake(ctx, staff, n),
        "start_processing": lambda ctx, staff, n: routing.start_processing(ctx, staff, n),
        "return_disposition": lambda ctx, staff, n: routing.return_disposition(
            ctx, staff, n, values.get("suggested_unit", ""), reason),
        "answer": lambda ctx, staff, n: routing.answer(
            ctx, staff, n, text, values.get("outcome") or None,
            followup=values.get("followup", ""), improvement=values.get("improvement") == "yes",
            files=files or []),
        "coordinator_close": lambda ctx, staff, n: routing.coordinator_close(
            ctx, staff, n, reason),
        "answer_aspiration": lambda ctx, staff, n: routing.answer_aspiration(
            ctx, staff, n, text),
        "shield_reported_unit": lambda ctx, staff, n: reported_unit.shield(
            ctx, staff, n, reason),
    }
    return calls.get(action)


@requires(Permission.STAFF_SIGNED_IN)
async def case_action(request: Request) -> Response:
    """One route for every workflow action: the service decides per action, role and case."""
    number = _number(request)
    action = str(request.path_params["action"])
    if action == "answer" and _multipart(request):
        # The answer's data and photos: read, capped and cleaned like the reporter's files.
        form = await read_upload_form(request, csrf_gate(request), refuse_large_files=True)
        values, files = form.fields, form.files
        if form.rejected:
            # Nothing is sent: the answer comes back with what was typed and why each file
            # was refused (the files themselves must be chosen again: a browser cannot refill
            # a file input).
            return await _render_case(request, number, error="file_refused",
                                      kept=_kept(values), kept_action=action,
                                      rejected=form.rejected, status_code=400)
    else:
        values, files = await forms.read_form(request), []
    call = _action_call(action, values, files)
    if call is None:
        raise HTTPException(404)
    leadership = request.state.staff.role is Role.LEADERSHIP
    back = "/staf/sengketa" if leadership else f"/staf/kasus/{number}"
    try:
        await _call(call, request.app.state.ctx, request.state.staff, number)
    except (routing.InvalidInput, routing.TransitionRefused,
            counting.CountingInputError) as exc:
        # Shown again at once, not redirected: a redirect would drop every choice and reason.
        if leadership:
            from wbs.web.staff import render_disputes

            # A refused form about a case the actor may not see is that case's 404 (and
            # trace), as on the case page, not a form error naming the number (finding 8.10).
            await _call(routing.panel, request.app.state.ctx, request.state.staff, number)
            return await render_disputes(request, error=exc.code, error_case=number,
                                         kept=_kept(values), status_code=400)
        return await _render_case(request, number, error=exc.code, kept=_kept(values),
                                  kept_action=action, status_code=400)
    # A read, so in the thread pool: on the event loop it would stall the worker's requests.
    visible = await run_in_threadpool(_still_visible, request, number)
    target = back if visible else "/staf/kasus"
    return RedirectResponse(f"{target}?ok=action", status_code=303)


def _multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def _still_visible(request: Request, number: str) -> bool:
    staff = request.state.staff
    if staff.role is Role.LEADERSHIP:
        return True
    return service.can_list(request.app.state.ctx, staff, number)


@requires(Permission.CASE_READ)
async def case_purpose(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    purpose = values.get("purpose_other", "").strip() or values.get("purpose", "")
    try:
        await _call(service.state_purpose, request.app.state.ctx, request.state.staff, number,
                    purpose)
    except service.PurposeRequired:
        return render(request, "staff/purpose.html", {"number": number, "error": True},
                      status_code=400)
    return RedirectResponse(f"/staf/kasus/{number}", status_code=303)


@requires(Permission.CASE_MESSAGE)
async def case_message(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(service.post_staff_message, request.app.state.ctx, request.state.staff,
                    number, values.get("body", ""))
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    except ValueError:
        return await _render_case(request, number, error="message_required",
                                  kept=_kept(values), kept_action="message", status_code=400)
    return RedirectResponse(f"/staf/kasus/{number}?ok=message", status_code=303)


@requires(Permission.CASE_ATTACHMENT_READ)
async def case_download(request: Request) -> Response:
    number = _number(request)
    try:
        meta, chunks = await _call(service.download, request.app.state.ctx, request.state.staff,
                                   number, int(request.path_params["attachment_id"]))
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    return file_response(meta, chunks)


@requires(Permission.CASE_CONFLICT_DECLARE)
async def case_conflict(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(service.declare_conflict, request.app.state.ctx, request.state.staff, number,
                    values.get("reason", ""))
    except ValueError as exc:
        raise HTTPException(400) from exc
    return RedirectResponse("/staf/kasus?ok=conflict", status_code=303)


@requires(Permission.CASE_IDENTITY_REQUEST)
async def identity_request(request: Request) -> Response:
    number = _number(request)
    values = await forms.read_form(request)
    try:
        await _call(identity.request_identity, request.app.state.ctx, request.state.staff,
                    number, values.get("reason", ""))
    except identity.NothingToDisclose:
        return RedirectResponse(f"/staf/kasus/{number}?ok=anonymous", status_code=303)
    except ValueError:
        return await _render_case(request, number, error="identity_reason_required",
                                  kept=_kept(values), kept_action="identity", status_code=400)
    return RedirectResponse(f"/staf/kasus/{number}?ok=identity_requested", status_code=303)


@requires(Permission.CASE_IDENTITY_READ)
async def identity_view(request: Request) -> Response:
    number = _number(request)
    try:
        data = await _call(identity.read_identity, request.app.state.ctx, request.state.staff,
                           number)
    except sealing.NoKey as exc:
        raise HTTPException(403) from exc
    return render(request, "staff/identity.html", {"number": number, "identity": data})


@requires(Permission.CASE_IDENTITY_DECIDE)
async def identity_queue(request: Request) -> Response:
    after = _page_key(request.query_params.get("setelah", ""))
    page = await run_in_threadpool(lambda: identity.pending_page(
        request.app.state.ctx, request.state.staff, after=after))
    return render(request, "staff/identity_requests.html", {
        "rows": page.rows, "notice": request.query_params.get("ok", ""),
        "next_after": page.next_after, "paged": after is not None, "after": after})


def _page_key(raw: str) -> int | None:
    """The id a page of the identity queue continues after (a query or form value)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


@requires(Permission.CASE_IDENTITY_DECIDE)
async def identity_decide(request: Request) -> Response:
    values = await forms.read_form(request)
    request_id = int(request.path_params["request_id"])
    try:
        state = await _call(identity.decide, request.app.state.ctx, request.state.staff,
                            request_id, values.get("decision") == "approve",
                            values.get("reason", ""))
    except identity.AlreadyDecided:
        state = "already"
    except ValueError:
        # The custodian's reason stays in its box (a redirect would lose it), on the page they
        # were deciding from (its key comes with the form), or else on the page that starts
        # with this request, with the pager either way.
        ctx, staff = request.app.state.ctx, request.state.staff
        after = _page_key(values.get("setelah", ""))

        def page_with_it() -> identity.RequestPage:
            page = identity.pending_page(ctx, staff, after=after)
            if any(row.id == request_id for row in page.rows):
                return page
            return identity.pending_page(ctx, staff, after=request_id - 1)

        page = await run_in_threadpool(page_with_it)
        shown = after if any(row.id == request_id for row in page.rows) else request_id - 1
        return render(request, "staff/identity_requests.html", {
            "rows": page.rows, "notice": "reason_required",
            "next_after": page.next_after, "paged": bool(shown), "after": shown or None,
            "kept_reasons": {str(request_id): values.get("reason", "")[:500]}},
            status_code=400)
    return RedirectResponse(f"/staf/identitas?ok={state}", status_code=303)


@requires(Permission.CASE_EXPORT)
async def case_dossier(request: Request) -> Response:
    from urllib.parse import quote

    from wbs.reports import dossier

    number = _number(request)
    fmt = str(request.path_params["fmt"])
    if fmt not in dossier.FORMATS:
        raise HTTPException(404)
    try:
        result = await _call(dossier.export, request.app.state.ctx, request.state.staff,
                             number, fmt)
    except service.PurposeRequired:
        return RedirectResponse(f"/staf/kasus/{number}", status_code=303)
    return Response(result.data, media_type=result.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(result.filename)}"})


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/kasus", case_list, methods=["GET"]),
        Route("/staf/kasus/{number}", case_page, methods=["GET"]),
        Route("/staf/kasus/{number}/tujuan", case_purpose, methods=["POST"]),
        Route("/staf/kasus/{number}/pesan", case_message, methods=["POST"]),
        Route("/staf/kasus/{number}/lampiran/{attachment_id:rowid}", case_download,
              methods=["GET"]),
        Route("/staf/kasus/{number}/konflik", case_conflict, methods=["POST"]),
        Route("/staf/kasus/{number}/aksi/{action}", case_action, methods=["POST"]),
        Route("/staf/kasus/{number}/dosier.{fmt}", case_dossier, methods=["GET"]),
        Route("/staf/kasus/{number}/identitas", identity_view, methods=["GET"]),
        Route("/staf/kasus/{number}/identitas/minta", identity_request, methods=["POST"]),
        Route("/staf/identitas", identity_queue, methods=["GET"]),
        Route("/staf/identitas/{request_id:rowid}", identity_decide, methods=["POST"]),
    ]
