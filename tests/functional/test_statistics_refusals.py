"""Statistics pages, exports, categories and report documents refuse bad input with a message in
the reader's language; an export refused is not a file and is not recorded as an export."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.workflow_helpers import audit_since, last_seq
from wbs.context import Context
from wbs.models import AuditEntry

PERIOD = {"en": "Please give a period as two dates (YYYY-MM-DD), the first not after the "
                "second, at most ten years apart.",
          "id": "Mohon isi periode dengan dua tanggal (TTTT-BB-HH), yang pertama tidak sesudah "
                "yang kedua, paling lama sepuluh tahun."}
TARGET = {"en": "Please give a year, a number of complaints and a percentage from 0 to 100."}
CHECK = {"en": "Please check the form.", "id": "Mohon periksa formulir."}


def _actions(ctx: Context, seq: int) -> list[str]:
    return [e.action for e in audit_since(ctx, seq)]


@pytest.fixture
def leadership(client: TestClient, demo: dict[str, Any], clock: Clock) -> TestClient:
    assert sign_in(client, demo["pimpinan"], "pimpinan", clock).status_code == 303
    return client


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_export_of_a_bad_period_is_the_page_with_its_message_not_a_file(
        leadership: TestClient, ctx: Context, lang: str) -> None:
    seq = last_seq(ctx)
    r = leadership.get("/staf/statistik.csv?dari=2026-03-31&sampai=2026-03-01",
                       headers={"Accept-Language": lang})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert PERIOD[lang] in r.text and "content-disposition" not in r.headers
    assert "stats.export" not in _actions(ctx, seq)


def test_an_export_for_a_unit_that_does_not_exist_is_the_page_asking_for_one(
        leadership: TestClient, ctx: Context) -> None:
    seq = last_seq(ctx)
    r = leadership.get("/staf/statistik.csv?unit=dinas-tidak-ada",
                       headers={"Accept-Language": "en"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "Please choose a unit from the list." in r.text
    assert "stats.export" not in _actions(ctx, seq)
    # A unit that exists: a file, recorded as an export.
    r = leadership.get("/staf/statistik.csv?unit=dinas-kesehatan")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="statistik-')
    assert _actions(ctx, seq)[-1] == "stats.export"


@pytest.mark.parametrize(("data", "message"), [
    ({"what": "target", "year": "2026", "received": "seratus", "completed_pct": "80"}, TARGET),
    ({"what": "target", "year": "2026", "received": "１００", "completed_pct": "80"}, TARGET),
    ({"what": "target", "year": "2026", "received": "1234567890", "completed_pct": "80"},
     TARGET),
    ({"what": "rename"}, CHECK),
])
def test_category_settings_refuse_a_bad_target_or_an_unknown_change(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock,
        data: dict[str, str], message: dict[str, str]) -> None:
    sign_in(client, demo["admin"], "admin", clock)
    seq = last_seq(ctx)
    token = csrf_from(client, "/staf/kategori")
    r = client.post("/staf/kategori", data={"csrf_token": token, **data},
                    headers={"Accept-Language": "en"})
    assert r.status_code == 400 and message["en"] in r.text
    assert _actions(ctx, seq) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_report_document_of_a_bad_period_or_an_unknown_one_is_refused(
        leadership: TestClient, ctx: Context, lang: str) -> None:
    seq = last_seq(ctx)
    token = csrf_from(leadership, "/staf/laporan")
    r = leadership.post("/staf/laporan", data={
        "csrf_token": token, "kind": "monthly", "dari": "2026-03-31", "sampai": "2025-03-01"},
        headers={"Accept-Language": lang})
    assert r.status_code == 400 and PERIOD[lang] in r.text
    r = leadership.post("/staf/laporan/999999/terbitkan", data={"csrf_token": token},
                        headers={"Accept-Language": lang})
    assert r.status_code == 400 and CHECK[lang] in r.text
    assert _actions(ctx, seq) == []
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.like("report.%"))) == 0


def test_a_report_document_is_public_as_a_page_once_published(
        leadership: TestClient, ctx: Context, app: Any) -> None:
    token = csrf_from(leadership, "/staf/laporan")
    assert leadership.post("/staf/laporan", data={
        "csrf_token": token, "kind": "monthly", "dari": "2026-02-01",
        "sampai": "2026-02-28"}).status_code == 303
    page = leadership.get("/staf/laporan").text
    report_id = int(page.split('href="/staf/laporan/')[1].split('"')[0])
    public = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert public.get(f"/statistik/laporan/{report_id}").status_code == 404
    assert leadership.post(f"/staf/laporan/{report_id}/terbitkan",
                           data={"csrf_token": token}).status_code == 303
    shown = public.get(f"/statistik/laporan/{report_id}", headers={"Accept-Language": "en"})
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    assert ctx.settings.pemda_name in shown.text and "Period " in shown.text
    assert public.get(f"/statistik/laporan/{report_id + 1}").status_code == 404
