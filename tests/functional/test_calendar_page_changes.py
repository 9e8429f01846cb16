"""The administrator's calendar and rules page (/staf/kalender): removing a correction, changing
the profile's settings, and what each refusal says (in Indonesian and English) and leaves: no
change and no audit row."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.workflow_helpers import audit_since, last_seq
from wbs.cases import calendar_admin
from wbs.context import Context
from wbs.profiles import store

MESSAGES = {
    "label_required": {"en": "Please give the day a name.", "id": "Beri nama untuk hari tersebut."},
    "bad_date": {"en": "Enter a date as YYYY-MM-DD, for example 2026-03-31.",
                 "id": "Tulis tanggal dengan format TTTT-BB-HH, misalnya 2026-03-31."},
    "other": {"en": "This value is not allowed: amounts are 1 to 365 days.",
              "id": "Nilai ini tidak diizinkan: jumlah hari 1 sampai 365."},
}


@pytest.fixture
def admin(client: TestClient, demo: Any, clock: Clock) -> TestClient:
    assert sign_in(client, demo["admin"], "admin", clock).status_code == 303
    return client


def post(client: TestClient, **data: str) -> str:
    token = csrf_from(client, "/staf/kalender")
    r = client.post("/staf/kalender", data={"csrf_token": token, **data})
    assert r.status_code == 303
    return str(r.headers["location"])


def test_a_correction_is_removed_once_and_recorded_once(admin: TestClient,
                                                        ctx: Context) -> None:
    day = date(2026, 8, 28)
    assert post(admin, what="override", day=day.isoformat(), label="Hari Jadi") == (
        "/staf/kalender?ok=1")
    seq = last_seq(ctx)
    assert post(admin, what="remove", day=day.isoformat()) == "/staf/kalender?ok=1"
    assert calendar_admin.overrides(ctx) == []
    assert [(e.action, e.actor) for e in audit_since(ctx, seq)] == [
        ("config.calendar_remove", "admin")]
    seq = last_seq(ctx)
    assert post(admin, what="remove", day=day.isoformat()) == "/staf/kalender?ok=1"
    assert audit_since(ctx, seq) == []  # nothing was there: nothing recorded
    assert post(admin, what="remove", day="kemarin") == "/staf/kalender?galat=bad_date"


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(("data", "code", "message"), [
    ({"what": "override", "day": "2026-08-28", "label": "   "}, "label_required",
     "label_required"),
    ({"what": "override", "day": "28/08/2026", "label": "Hari Jadi"}, "bad_date", "bad_date"),
    ({"what": "rule", "key": "verification", "amount": "tiga", "unit": "working_days"},
     "amount_out_of_range", "other"),
    ({"what": "profile", "auto_archive": "sometimes", "auto_close": "silence"}, "bad_value",
     "other"),
    ({"what": "shred-everything"}, "unknown", "other"),
])
def test_a_refused_change_says_why_and_changes_nothing(
        admin: TestClient, ctx: Context, lang: str, data: dict[str, str], code: str,
        message: str) -> None:
    seq = last_seq(ctx)
    before = (calendar_admin.overrides(ctx), calendar_admin.rules(ctx), store.current(ctx))
    location = post(admin, **data)
    assert location == f"/staf/kalender?galat={code}"
    page = admin.get(location, headers={"Accept-Language": lang}).text
    assert MESSAGES[message][lang] in page and 'role="alert"' in page
    assert audit_since(ctx, seq) == []
    assert (calendar_admin.overrides(ctx), calendar_admin.rules(ctx),
            store.current(ctx)) == before


def test_the_profile_form_records_and_marks_only_what_it_changed(
        admin: TestClient, ctx: Context) -> None:
    shipped = store.current(ctx)
    archive = "staff" if shipped.auto_archive.value != "staff" else "off"
    seq = last_seq(ctx)
    # The form always sends both settings; only auto_archive differs from what is in force.
    assert post(admin, what="profile", auto_archive=archive,
                auto_close=shipped.auto_close.value) == "/staf/kalender?ok=1"
    now = store.current(ctx)
    assert now.auto_archive.value == archive and now.auto_close == shipped.auto_close
    changes = [(e.action, e.details) for e in audit_since(ctx, seq)]
    assert [a for a, _ in changes] == ["config.profile_change"]
    assert '"auto_archive"' in changes[0][1]
    with ctx.db() as s:
        assert set(store.changes(s)) == {"auto_archive"}
    page = admin.get("/staf/kalender", headers={"Accept-Language": "en"}).text
    assert page.count('<span class="tag">changed</span>') == 1

    # Saving the same again changes nothing and records nothing.
    seq = last_seq(ctx)
    assert post(admin, what="profile", auto_archive=archive,
                auto_close=shipped.auto_close.value) == "/staf/kalender?ok=1"
    assert audit_since(ctx, seq) == []

    # Back to the shipped value: recorded, and no longer marked as a change.
    assert post(admin, what="profile", auto_archive=shipped.auto_archive.value,
                auto_close=shipped.auto_close.value) == "/staf/kalender?ok=1"
    assert [e.action for e in audit_since(ctx, seq)] == ["config.profile_change"]
    with ctx.db() as s:
        assert store.changes(s) == {}
    assert store.current(ctx) == shipped
    page = admin.get("/staf/kalender", headers={"Accept-Language": "en"}).text
    assert '<span class="tag">changed</span>' not in page


def test_only_the_administrator_changes_the_calendar(client: TestClient, demo: Any,
                                                     clock: Clock, ctx: Context) -> None:
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    token = csrf_from(client, "/staf")
    seq = last_seq(ctx)
    r = client.post("/staf/kalender", data={"csrf_token": token, "what": "override",
                                            "day": "2026-08-28", "label": "Hari Jadi"})
    assert r.status_code == 403 and calendar_admin.overrides(ctx) == []
    assert [(e.action, e.outcome) for e in audit_since(ctx, seq)] == [
        ("access.route", "denied")]
