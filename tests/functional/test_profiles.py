"""Issue 10: the regional profile in force drives the deadlines and the jobs, is chosen at
`wbs init --profile`, and shows (with local changes) on the administrator's page and on the
public /standar-layanan page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.functional.test_jobs import (
    LIAISON,
    audit_rows,
    case_of,
    deadline,
    dispose,
    go_to,
    notices,
    run,
    staff,
    submit,
)
from wbs import cli
from wbs.cases import calendar_admin, reporter, routing
from wbs.context import Context
from wbs.models import RuleProfileRow
from wbs.profiles import store


def test_jayapura_leaves_archiving_to_staff_and_closes_only_on_satisfaction(
        ctx: Context, demo: Any, clock: Clock) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    asked, answered = submit(ctx), submit(ctx)
    routing.request_info(ctx, staff(ctx, demo, clock, "verifikator"), asked.case_number,
                         "Mohon lampirkan bukti pembayaran.")
    # 2 March 2026 + 30 days (Ps 14(4)) = 1 April 2026.
    assert deadline(ctx, asked.case_number, "missing_data").due_on == date(2026, 4, 1)
    dispose(ctx, demo, clock, answered.case_number, 5)
    # 2 March + 5 days = 7 March 2026, a Saturday: days are days (Ps 16(7)).
    assert deadline(ctx, answered.case_number, "answer").due_on == date(2026, 3, 7)
    liaison = staff(ctx, demo, clock, LIAISON)
    routing.start_processing(ctx, liaison, answered.case_number)
    routing.answer(ctx, liaison, answered.case_number, "Pungutan dihentikan.")

    go_to(ctx, clock, date(2026, 6, 1))  # long past every window
    report = run(ctx)
    assert (report.archived, report.closed) == (0, 0)
    assert case_of(ctx, asked.case_number).state == "needs_info"
    assert case_of(ctx, answered.case_number).state == "answered"
    # Staff are told once that the reporter's time passed; they decide.
    assert notices(ctx, asked.case_number, "overdue") == {("verifikator", "overdue")}
    assert len(audit_rows(ctx, "deadline.staff_decide", asked.case_number)) == 1
    run(ctx)
    assert len(audit_rows(ctx, "deadline.staff_decide", asked.case_number)) == 1

    # Satisfaction closes it.
    access = reporter.access_by_code(ctx, answered.code)
    assert access is not None
    routing.reporter_act(ctx, access, routing.Action.REPORTER_ACCEPTS)
    assert case_of(ctx, answered.case_number).state == "closed"


def test_belitung_timur_counts_the_answer_from_receipt(ctx: Context, demo: Any,
                                                       clock: Clock) -> None:
    store.choose(ctx, "belitung-timur", "admin", "administrator")
    sub = submit(ctx)  # Monday 2 March 2026
    go_to(ctx, clock, date(2026, 3, 5))
    dispose(ctx, demo, clock, sub.case_number, 5)
    row = deadline(ctx, sub.case_number, "answer")
    # 3, 4, 5, 6, 9 March: the fifth working day after receipt (Ps 24(1)).
    assert (row.start_on, row.due_on) == (date(2026, 3, 2), date(2026, 3, 9))


def test_a_local_change_counts_against_the_profile(ctx: Context) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    # Back to the profile's own value: no override is stored.
    calendar_admin.set_rule(ctx, "admin", "administrator", "missing_data", 30, "calendar_days")
    views = {v.key: v for v in calendar_admin.rules(ctx)}
    assert not views["missing_data"].overridden
    assert (views["answer_5"].default_amount, views["answer_5"].default_unit) == (
        5, "calendar_days")
    store.set_change(ctx, "admin", "administrator", "auto_archive", "on")
    assert store.current(ctx).auto_archive.value == "on"
    with pytest.raises(store.InvalidProfile):
        store.set_change(ctx, "admin", "administrator", "auto_archive", "sometimes")
    with pytest.raises(store.InvalidProfile):
        store.choose(ctx, "atlantis")


def test_init_chooses_the_profile(settings: Any, ctx: Context) -> None:
    args = cli.build_parser().parse_args(["init", "--profile", "kapuas"])
    assert cli.cmd_init(settings, args) == 0
    with ctx.db() as s:
        assert s.scalars(select(RuleProfileRow.name)).one() == "kapuas"


def test_standar_layanan_page_shows_the_rules_in_force(ctx: Context, client: TestClient) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_14", 10, "calendar_days")
    page = client.get("/standar-layanan", headers={"Accept-Language": "id"})
    assert page.status_code == 200
    text = page.text
    assert "Perbup Jayapura 58/2023" in text
    assert "30 hari" in text and "5 hari" in text
    assert "10 hari" in text  # the local change, marked as changed
    assert "Keluhan" in text and "Kritik" in text
    assert "Radio Kenambai Umbai" in text
    # Whistleblowing never needs identity, whatever the profile.
    assert "tanpa identitas" in text


def test_the_administrator_sees_the_profile(ctx: Context, client: TestClient, demo: Any,
                                           clock: Clock) -> None:
    store.choose(ctx, "belitung-timur", "admin", "administrator")
    sign_in(client, demo["admin"], "admin", clock)
    page = client.get("/staf/kalender", headers={"Accept-Language": "id"}).text
    assert "Perbup Belitung Timur 79/2022" in page
    assert "diterima dalam sistem" in page  # the answer limits' start event


def test_identity_is_required_for_a_complaint_by_profile_never_for_whistleblowing(
        ctx: Context, client: TestClient, demo: Any) -> None:
    from tests.functional.test_intake import submit_form
    from wbs.models import Case

    anonymous = {"kind": "complaint", "title": "Jalan rusak", "what": "Jalan di pasar rusak.",
                 "identity_mode": "anonymous"}
    store.choose(ctx, "belitung-timur", "admin", "administrator")
    refused = submit_form(client, anonymous)
    assert refused.status_code == 400
    assert "memerlukan identitas" in refused.text or "needs your identity" in refused.text
    named_only = {**anonymous, "identity_mode": "confidential", "identity_name": "Siti"}
    assert submit_form(client, named_only).status_code == 400  # address and contact too
    full = {**named_only, "identity_address": "Jl. Merdeka 1, Manggar",
            "identity_phone": "0812 1234 5678"}
    assert submit_form(client, full).status_code == 200
    # Whistleblowing, and other kinds, stay anonymous-friendly.
    assert submit_form(client, {**anonymous, "kind": "whistleblowing"}).status_code == 200
    assert submit_form(client, {**anonymous, "kind": "aspiration"}).status_code == 200
    with ctx.db() as s:
        assert len(s.scalars(select(Case.id)).all()) == 3

    store.choose(ctx, "sanggau", "admin", "administrator")
    assert submit_form(client, anonymous).status_code == 200
