"""Staff intake of reports received offline (RULES §4): letter, face to face, telephone, SMS,
WhatsApp, social media, complaint box, radio. The same form and sealing as the public form; the
channel is recorded and the staff member who entered it is audited. The reporter gets a printed
receipt with the code, which they must replace at its first use in the mailbox: the official
saw it (issue 8.9). Whistleblowing is entered by APIP staff only: a verifier's form neither
offers nor accepts it (RULES §2)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wbs.access import Actor, Permission
from wbs.cases import intake
from wbs.enums import Channel, ReportKind
from wbs.profiles import kinds as profile_kinds
from wbs.web.guard import requires
from wbs.web.render import render
from wbs.web.upload_form import csrf_gate, read_upload_form

OFFLINE = [c.value for c in Channel if c not in (Channel.WEB, Channel.API)]


def _actor(request: Request) -> Actor:
    staff = request.state.staff
    return Actor(user_id=staff.user_id, username=staff.username, role=staff.role,
                 unit_id=staff.unit_id)


def _page(request: Request, form: intake.FormChoices, values: dict[str, str],
          errors: dict[str, str], rejected: list[str], status_code: int = 200) -> Response:
    allowed = intake.kinds_for(_actor(request))
    # The kinds of the profile in force (issue 10); whistleblowing only for APIP staff.
    choices = profile_kinds.choices(form.profile.kinds,
                                    whistleblowing=ReportKind.WHISTLEBLOWING in allowed)
    kinds = [c.value for c in choices if c.handled_as in allowed]
    return render(request, "staff/intake.html", {
        "kinds": kinds, "kind_choices": {c.value: c for c in choices}, "units": form.units,
        "values": values, "errors": errors,
        "rejected": rejected, "channels": OFFLINE,
        "whistleblowing_elsewhere": ReportKind.WHISTLEBLOWING.value not in kinds},
        status_code=status_code)


async def _choices(request: Request) -> intake.FormChoices:
    # The units and the profile in one read, in the thread pool: not on the event loop.
    return await run_in_threadpool(intake.form_choices, request.app.state.ctx)


@requires(Permission.CASE_INTAKE)
async def intake_form(request: Request) -> Response:
    return _page(request, await _choices(request), {}, {}, [])


@requires(Permission.CASE_INTAKE)
async def intake_submit(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await read_upload_form(request, csrf_gate(request))
    channel = form.fields.get("channel", "")
    choices = await _choices(request)
    errors: dict[str, str] = {}
    if channel not in OFFLINE:
        errors["channel"] = "required"
    received_on, attested = intake.parse_offline(form.fields, channel, ctx.today(), errors)
    try:
        report = choices.parse(form.fields)
    except intake.InvalidReport as exc:
        errors.update(exc.errors)
    if errors:
        return _page(request, choices, form.fields, errors, form.rejected, 400)
    if form.rejected:
        return _page(request, choices, form.fields, {"files": "unsafe_file"}, form.rejected,
                     400)
    try:
        submission = await run_in_threadpool(
            lambda: intake.staff_submit(ctx, _actor(request), report, form.files,
                                        Channel(channel), received_on=received_on,
                                        attested=attested))
    except intake.IntakeRefused:
        # Not kept: whistleblowing typed by a verifier is neither stored nor shown back.
        return _page(request, choices, {"channel": channel}, {"kind": "whistleblowing_apip_only"},
                     [], 403)
    return render(request, "public/receipt.html", {
        "submission": submission, "identity_given": report.identity is not None,
        "staff_intake": True})


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/penerimaan", intake_form, methods=["GET"]),
        Route("/staf/penerimaan", intake_submit, methods=["POST"]),
    ]
