"""The satisfaction survey end to end (RULES §9): a round set up by the administrator, answered
on the public form (one response per visit, no account), on paper, computed, planned and
published; a response is never linked to a case."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select

from tests.conftest import Clock, csrf_from, sign_in
from wbs.context import Context
from wbs.models import AuditEntry
from wbs.reports import surveys
from wbs.reports.tables import SkmResponse, SkmSurvey

ANSWERS = [
    (4, 3, 3, 4, 3, 3, 4, 2, 3),
    (3, 3, 2, 4, 3, 4, 4, 2, 3),
    (4, 3, 3, 4, 3, 3, 4, 3, 3),
    (3, 3, 2, 4, 3, 4, 4, 1, 3),
]


def _answers(row: tuple[int, ...]) -> dict[str, str]:
    return {f"e{i}": str(a) for i, a in enumerate(row, 1)}


def _visit(html: str) -> str:
    match = re.search(r'name="visit" value="([^"]+)"', html)
    assert match
    return match.group(1)


def _create(client: Any, demo: dict[str, Any], clock: Clock) -> str:
    sign_in(client, demo["admin"], "admin", clock)
    token = csrf_from(client, "/staf/skm")
    done = client.post("/staf/skm", data={
        "csrf_token": token, "unit": "dinas-kesehatan", "service": "Pelayanan puskesmas",
        "dari": "2026-03-01", "sampai": "2026-03-31", "population": "150"})
    assert done.status_code == 303
    page = client.get("/staf/skm")
    assert "108" in page.text  # Krejcie–Morgan for 150
    match = re.search(r"/survei/([A-Za-z0-9_-]{16,32})\"", page.text)
    assert match
    client.post("/keluar", data={"csrf_token": csrf_from(client, "/staf")})
    return match.group(1)


def test_a_round_from_the_public_form_to_the_published_result(
        client: Any, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    token = _create(client, demo, clock)
    # Three visitors answer on the web; one sends its form twice, one forges a visit.
    for row in ANSWERS[:3]:
        form = client.get(f"/survei/{token}")
        assert form.status_code == 200
        visit, csrf = _visit(form.text), csrf_from(client, f"/survei/{token}")
        sent = client.post(f"/survei/{token}", data={"csrf_token": csrf, "visit": visit,
                                                     "sex": "p", **_answers(row)})
        assert sent.status_code == 200 and 'role="status"' in sent.text
    again = client.post(f"/survei/{token}", data={"csrf_token": csrf, "visit": visit,
                                                  **_answers(ANSWERS[0])})
    assert again.status_code == 400 and "sudah dikirim" in again.text  # already sent
    forged = client.post(f"/survei/{token}", data={
        "csrf_token": csrf, "visit": "abcdefghijklmnop." + "0" * 64, **_answers(ANSWERS[0])})
    assert forged.status_code == 400
    incomplete = client.post(f"/survei/{token}", data={
        "csrf_token": csrf, "visit": _visit(client.get(f"/survei/{token}").text), "e1": "4"})
    assert incomplete.status_code == 400 and 'value="4" required checked' in incomplete.text
    qr = client.get(f"/survei/{token}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert client.get("/survei/tidak-ada-survei-ini").status_code == 404
    # The fourth on paper, typed in by the administrator.
    clock.advance(seconds=31)  # a TOTP code is accepted once
    sign_in(client, demo["admin"], "admin", clock)
    with ctx.db() as s:
        survey_id = s.scalars(select(SkmSurvey.id).where(SkmSurvey.token == token)).one()
    paper = client.post(f"/staf/skm/{survey_id}/kertas", data={
        "csrf_token": csrf_from(client, "/staf/skm"), **_answers(ANSWERS[3])})
    assert paper.status_code == 303
    client.post("/keluar", data={"csrf_token": csrf_from(client, "/staf")})
    # Leadership reads the result (worked example of tests/unit/reports/test_skm.py).
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    page = client.get("/staf/skm")
    assert "79.17" in page.text and "3.1667" in page.text
    [result] = surveys.results(ctx)
    assert result.result is not None and result.result.converted == Decimal("79.17")
    assert result.by_source == {"web": 3, "paper": 1}
    csrf = csrf_from(client, "/staf/skm")
    planned = client.post(f"/staf/skm/{survey_id}/rencana", data={
        "csrf_token": csrf, "element_1": "8", "term_1": "short",
        "programme_1": "Loket pengaduan dibuka setiap hari kerja", "when_1": "Triwulan II 2026",
        "who_1": "Kepala Tata Usaha"})
    assert planned.status_code == 303
    assert "79.17" not in client.get("/statistik").text  # not yet published
    assert client.post(f"/staf/skm/{survey_id}/terbitkan",
                       data={"csrf_token": csrf}).status_code == 303
    public_page = client.get("/statistik").text
    assert "79.17" in public_page and "Loket pengaduan dibuka setiap hari kerja" in public_page
    [published] = surveys.results(ctx, published_only=True)
    assert published.survey.plan[0]["element"] == "8"
    with ctx.db() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("skm.%"))))
    assert actions == {"skm.create", "skm.paper", "skm.plan", "skm.publish"}


def test_a_response_has_no_way_back_to_a_case_or_a_person() -> None:
    columns = {c.key for c in inspect(SkmResponse).columns}
    assert not {"case_id", "user_id", "ip", "created_at"} & columns
    assert "answered_on" in columns


def test_a_closed_round_takes_no_answers(client: Any, ctx: Context, demo: dict[str, Any],
                                         clock: Clock) -> None:
    token = _create(client, demo, clock)
    clock.advance(days=40)  # 11 April: after the period
    form = client.get(f"/survei/{token}")
    assert 'role="alert"' in form.text and 'name="visit"' not in form.text
    with ctx.db() as s:
        assert s.scalar(select(SkmResponse.id)) is None


def test_a_reporter_is_invited_once_the_case_has_its_outcome(
        client: Any, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    from tests.functional.workflow_helpers import file_report, staff_team
    from wbs.cases import routing

    sign_in(client, demo["admin"], "admin", clock)
    assert client.post("/staf/skm", data={
        "csrf_token": csrf_from(client, "/staf/skm"), "unit": "dinas-kesehatan",
        "service": "Pengelolaan pengaduan", "dari": "2026-01-01", "sampai": "2026-12-31",
        "for_complaints": "yes"}).status_code == 303
    client.post("/keluar", data={"csrf_token": csrf_from(client, "/staf")})
    with ctx.db() as s:
        token = s.scalars(select(SkmSurvey.token)).one()
    open_case, done_case = file_report(ctx), file_report(ctx)
    clock.advance(seconds=31)
    verifier = staff_team(ctx, demo, clock, "verifikator")["verifikator"]
    routing.archive(ctx, verifier, done_case.number, "Bukan wewenang dan tidak lengkap.")

    def mailbox(code: str) -> str:
        client.cookies.clear()
        csrf = csrf_from(client, "/kotak-pesan")
        page = client.post("/kotak-pesan/masuk", data={"csrf_token": csrf, "code": code})
        if page.status_code == 303:
            page = client.get(page.headers["location"])
        return str(page.text)

    assert f"/survei/{token}" in mailbox(done_case.code)
    assert "/survei/" not in mailbox(open_case.code)
