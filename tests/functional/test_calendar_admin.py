"""Administrator calendar corrections and deadline rules change the deadlines opened after."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from wbs.cases import intake
from wbs.cases.sla import WorkingCalendar
from wbs.enums import Channel, ReportKind
from wbs.models import AuditEntry, Case, Deadline


def _due(ctx: Any, number: str, kind: str) -> date:
    with ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        return s.scalars(select(Deadline.due_on).where(Deadline.case_id == case_id,
                                                       Deadline.kind == kind)).one()


def _submit(ctx: Any) -> str:
    report = intake.ReportInput(kind=ReportKind.COMPLAINT, title="t", what="w")
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def test_regional_holiday_and_jayapura_rule(client: TestClient, demo: Any, clock: Clock,
                                            ctx: Any) -> None:
    today = ctx.today()
    before = _due(ctx, _submit(ctx), "verification")
    assert before == WorkingCalendar().add_working_days(today, 3)
    sign_in(client, demo["admin"], "admin", clock)
    holiday = WorkingCalendar().add_working_days(today, 1)
    token = csrf_from(client, "/staf/kalender")
    r = client.post("/staf/kalender", data={"csrf_token": token, "what": "override",
                                            "day": holiday.isoformat(),
                                            "label": "Hari Jadi Kabupaten"})
    assert r.headers["location"] == "/staf/kalender?ok=1"
    after = _due(ctx, _submit(ctx), "verification")
    assert after == WorkingCalendar().add_working_days(before, 1)  # one working day later
    assert "Hari Jadi Kabupaten" in client.get("/staf/kalender").text

    # Jayapura: missing data within 30 calendar days.
    token = csrf_from(client, "/staf/kalender")
    client.post("/staf/kalender", data={"csrf_token": token, "what": "rule",
                                        "key": "missing_data", "amount": "30",
                                        "unit": "calendar_days"})
    from wbs.cases import deadlines

    with ctx.db.begin() as s:
        case = s.scalars(select(Case)).first()
        assert case is not None
        row = deadlines.open_deadline(s, case, "missing_data", "missing_data", today,
                                      calendar=deadlines.load_calendar(s),
                                      rules=deadlines.load_rules(s))
        assert row.due_on == today + timedelta(days=30)
    with ctx.db() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.actor == "admin"))]
    assert "config.calendar" in actions and "config.rule" in actions


def test_bad_values_and_other_roles(client: TestClient, demo: Any, clock: Clock,
                                    ctx: Any) -> None:
    sign_in(client, demo["admin"], "admin", clock)
    for data, code in (({"what": "override", "day": "31-12-2026", "label": "x"}, "bad_date"),
                       ({"what": "rule", "key": "objection", "amount": "999",
                         "unit": "working_days"}, "amount_out_of_range"),
                       ({"what": "rule", "key": "nope", "amount": "5",
                         "unit": "working_days"}, "unknown_rule")):
        token = csrf_from(client, "/staf/kalender")
        r = client.post("/staf/kalender", data={"csrf_token": token, **data})
        assert r.headers["location"].endswith(code)
    client.cookies.clear()
    sign_in(client, demo["verifikator"], "verifikator", clock)
    assert client.get("/staf/kalender").status_code == 403
