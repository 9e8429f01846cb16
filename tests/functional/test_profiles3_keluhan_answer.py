"""Issue 10, RULES §5: under Perbup Jayapura 58/2023 Ps 16(7) a keluhan is answered in 5 days,
like an information request. The profile says so (its keluhan names the profile's answer_5
limit): the verifier's form preselects it, a longer limit is refused with the form kept, and
the due date is counted by the rule in force (unit and start event as configured).

Dates counted by hand on the 2026 calendar: the case is received on Monday 2 March and
dispositioned on Monday 16 March. 18 March is cuti bersama Nyepi, 19 Nyepi, 20 cuti bersama
Idul Fitri, 21-22 Idul Fitri (a weekend), 23-24 cuti bersama; 3 April Good Friday.
- 5 calendar days from 16 March: 21 March (the holidays count: Jayapura says "hari").
- 5 working days from 16 March: 17, 25, 26, 27, 30 March -> 30 March.
- 5 calendar days from receipt (2 March): 7 March.
- 14 calendar days from 16 March: 30 March; 60 calendar days: 15 May.
- 14 working days from 16 March: 17, 25, 26, 27, 30, 31 March, 1, 2, 6, 7, 8, 9, 10, 13 April.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock, csrf_from
from tests.conftest import sign_in as http_sign_in
from tests.functional.test_roundtrip import staff_open
from tests.functional.workflow_helpers import ROLE_USERS, sign_in, state_of
from wbs.cases import calendar_admin, intake, routing
from wbs.context import Context
from wbs.enums import Channel
from wbs.models import Case, Deadline
from wbs.profiles import store

TITLE, WHAT = "Loket KTP tutup siang", "Loket KTP di kecamatan tutup jam 12 setiap hari."
DISPOSED_ON = date(2026, 3, 16)


def _file(ctx: Context, kind: str) -> str:
    profile = store.current(ctx)
    report = intake.parse_report({"kind": kind, "title": TITLE, "what": WHAT,
                                  "identity_mode": "confidential", "identity_name": "Yakobus",
                                  "identity_address": "Sentani", "identity_phone": "0812"},
                                 [], identity_required=profile.identity_required,
                                 kinds=profile.kinds)
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def _answer_due(ctx: Context, number: str) -> list[date]:
    with ctx.db() as s:
        return list(s.scalars(select(Deadline.due_on).join(Case).where(
            Case.case_number == number, Deadline.kind == "answer")))


def _dispose(ctx: Context, demo: Any, clock: Clock, number: str, days: int,
             classification: str = "no_oversight") -> None:
    verifier = sign_in(ctx, demo, clock, "verifikator")
    routing.verify_and_dispose(ctx, verifier, number, classification=classification,
                               resolution_days=days, unit_slugs=["dinas-kesehatan"])


def _to_disposition_day(clock: Clock) -> None:
    clock.advance(days=14)  # from Monday 2 March to Monday 16 March 2026


@pytest.mark.parametrize(("override", "expected"), [
    (None, date(2026, 3, 21)),  # the profile's rule: 5 days from disposition
    (("working_days", None), date(2026, 3, 30)),  # changed locally to working days
    (("calendar_days", "receipt"), date(2026, 3, 7)),  # counted from receipt instead
])
def test_a_keluhan_under_jayapura_gets_the_5_day_limit_of_the_rule_in_force(
        ctx: Context, demo: Any, clock: Clock, override: tuple[str, str | None] | None,
        expected: date) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    if override is not None:
        calendar_admin.set_rule(ctx, "admin", "administrator", "answer_5", 5, override[0],
                                override[1])
    number = _file(ctx, "keluhan")
    _to_disposition_day(clock)
    assert ctx.today() == DISPOSED_ON
    _dispose(ctx, demo, clock, number, 5)
    assert _answer_due(ctx, number) == [expected]
    with ctx.db() as s:
        assert s.scalars(select(Case.resolution_days).where(
            Case.case_number == number)).one() == 5


@pytest.mark.parametrize(("days", "classification"), [(14, "no_oversight"),
                                                       (60, "needs_oversight")])
def test_a_longer_limit_for_a_keluhan_is_refused(ctx: Context, demo: Any, clock: Clock,
                                                 days: int, classification: str) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    number = _file(ctx, "keluhan")
    _to_disposition_day(clock)
    with pytest.raises(routing.InvalidInput) as refused:
        _dispose(ctx, demo, clock, number, days, classification)
    assert refused.value.code == "resolution_kind"
    assert state_of(ctx, number) == "received"
    assert _answer_due(ctx, number) == []


@pytest.mark.parametrize(("days", "classification", "expected"), [
    (14, "no_oversight", date(2026, 3, 30)), (60, "needs_oversight", date(2026, 5, 15))])
def test_a_pengaduan_under_jayapura_keeps_the_14_60_choice(
        ctx: Context, demo: Any, clock: Clock, days: int, classification: str,
        expected: date) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    number = _file(ctx, "complaint")
    _to_disposition_day(clock)
    _dispose(ctx, demo, clock, number, days, classification)
    assert _answer_due(ctx, number) == [expected]


def test_under_sanggau_nothing_changes(ctx: Context, demo: Any, clock: Clock) -> None:
    # Sanggau has no keluhan; a keluhan filed under Jayapura before a switch to Sanggau is
    # not bound either: the profile in force fixes nothing for it.
    store.choose(ctx, "jayapura", "admin", "administrator")
    old_keluhan = _file(ctx, "keluhan")
    store.choose(ctx, "sanggau", "admin", "administrator")
    complaint = _file(ctx, "complaint")
    _to_disposition_day(clock)
    verifier = sign_in(ctx, demo, clock, "verifikator")
    for number in (complaint, old_keluhan):
        routing.verify_and_dispose(ctx, verifier, number, classification="no_oversight",
                                   resolution_days=14, unit_slugs=["dinas-kesehatan"])
    assert _answer_due(ctx, complaint) == [date(2026, 4, 13)]
    assert _answer_due(ctx, old_keluhan) == [date(2026, 4, 13)]


# --- the verifier's form -------------------------------------------------------------------

def _verifier(app: Any, demo: Any, clock: Clock, lang: str) -> Any:
    from starlette.testclient import TestClient

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.headers["Accept-Language"] = lang
    username = ROLE_USERS["verifier"]
    assert http_sign_in(client, demo[username], username, clock).status_code == 303
    clock.advance(seconds=31)
    return client


def _checked(html: str) -> list[str]:
    return re.findall(r'<input type="radio" id="rd-(\d+)"[^>]*checked', html)


@pytest.mark.parametrize(("lang", "message"), [
    ("id", "Menurut aturan yang berlaku, Keluhan dijawab dalam 5 hari: pilih batas waktu "
           "jawaban itu."),
    ("en", "Under the rules in force, a Grievance is answered within 5 days: choose that "
           "time to answer.")])
def test_the_form_preselects_5_days_for_a_keluhan_and_refuses_14_with_the_form_kept(
        app: Any, ctx: Context, demo: Any, clock: Clock, lang: str, message: str) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    keluhan, pengaduan = _file(ctx, "keluhan"), _file(ctx, "complaint")
    _to_disposition_day(clock)
    client = _verifier(app, demo, clock, lang)
    page = staff_open(client, keluhan).text
    assert _checked(page) == ["5"]
    assert 'id="rd-fixed"' in page  # the hint saying why
    assert _checked(staff_open(client, pengaduan).text) == []  # the verifier chooses
    token = csrf_from(client, f"/staf/kasus/{keluhan}")
    refused = client.post(f"/staf/kasus/{keluhan}/aksi/verify_and_dispose", data={
        "csrf_token": token, "classification": "no_oversight", "resolution_days": "14",
        "unit_dinas-kesehatan": "dinas-kesehatan"})
    assert refused.status_code == 400
    assert message in " ".join(refused.text.split())
    # The form is kept as chosen: 14 and the unit still checked, for the verifier to correct.
    assert _checked(refused.text) == ["14"]
    assert re.search(r'id="u-dinas-kesehatan"[^>]*checked', refused.text)
    assert 'id="act-verify_and_dispose-error"' in refused.text
    assert state_of(ctx, keluhan) == "received"
    done = client.post(f"/staf/kasus/{keluhan}/aksi/verify_and_dispose", data={
        "csrf_token": token, "classification": "no_oversight", "resolution_days": "5",
        "unit_dinas-kesehatan": "dinas-kesehatan"})
    assert done.status_code == 303
    assert _answer_due(ctx, keluhan) == [date(2026, 3, 21)]


@pytest.mark.parametrize(("lang", "line"), [
    ("id", "Keluhan: dijawab dalam 5 hari kerja"),
    ("en", "Grievance: answered within 5 working days")])
def test_the_service_standard_states_the_keluhan_limit(
        client: Any, ctx: Context, lang: str, line: str) -> None:
    client.headers["Accept-Language"] = lang
    assert "data-fixed-answer" not in client.get("/standar-layanan").text  # Sanggau: none
    store.choose(ctx, "jayapura", "admin", "administrator")
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_5", 5, "working_days")
    page = client.get("/standar-layanan").text
    assert page.count("data-fixed-answer") == 1
    text = " ".join(re.sub(r"<[^>]+>", "", page).split())
    # Stated from the rule in force: changed locally to working days.
    assert line in text
