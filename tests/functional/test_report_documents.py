"""Reports as documents (issue 11 done-when 4): every kind renders to PDF, is parsed back and
holds the expected figures and an Indonesian name with letters beyond Latin-1; publication by
leadership makes the (suppressed) copy downloadable by the public.

Figures: the history of tests/functional/test_statistics.py, read on 15 July 2026.
  March: 8 received, averages 2.80 and 6.33 working days (see that module).
  January–June and the year: C1..C10 received (10). Responded by 30 June: C1 3, C2 2, C3 2,
  C4 3, C7 3 (31 Mar, 1, 2 Apr), C9 4, C10 2 (2, 3 Mar) → 19 / 7 = 2.71. Completed: C1 11,
  C2 5, C4 3, C7 6 (31 Mar, 1, 2, 6, 7, 8 Apr; Good Friday 3 Apr), C10 2 → 27 / 5 = 5.40.
  Unit st-dinas-a, January–June: C1 C2 C5 → 3 received, 2.50 and 8.00.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select, update

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.stats_history import build_history
from wbs.context import Context
from wbs.models import AuditEntry, Unit
from wbs.reports.tables import ReportDocument

NAME = "Dinas Pĕrhubungan Kabupaten Ŋgada"  # ĕ U+0115, Ŋ U+014A: not in Latin-1
ACTION = "Pelatihan petugas loket oleh Bapak Wayan Sŭmĕrta"


def _text(pdf: bytes) -> str:
    """The PDF's text with all white space removed: table cells wrap long names."""
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def _squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def signed_in(client: Any, ctx: Context, demo: dict[str, Any], clock: Clock) -> str:
    build_history(ctx)
    with ctx.db.begin() as s:
        s.execute(update(Unit).where(Unit.slug == "st-dinas-a").values(name=NAME))
    clock.advance(days=135)  # 15 July 2026
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    return csrf_from(client, "/staf/laporan")


@pytest.mark.parametrize(("kind", "period", "unit", "figures"), [
    ("monthly", ("2026-03-01", "2026-03-31"), "", ["2.80", "6.33"]),
    ("semester", ("2026-01-01", "2026-06-30"), "", ["2.71", "5.40"]),
    ("unit_semester", ("2026-01-01", "2026-06-30"), "st-dinas-a", ["2.50", "8.00"]),
    ("yearly", ("2026-01-01", "2026-12-31"), "", ["2.71", "5.40"]),
])
def test_every_report_renders_to_a_pdf_with_its_figures_and_unicode_names(
        client: Any, ctx: Context, signed_in: str, kind: str, period: tuple[str, str],
        unit: str, figures: list[str]) -> None:
    typed = {} if kind == "monthly" else {  # a monthly recap carries no such text
        "corrective": ACTION, "recommendations": "Perluas kanal SMS 1708."}
    made = client.post("/staf/laporan", data={
        "csrf_token": signed_in, "kind": kind, "dari": period[0], "sampai": period[1],
        "unit": unit, **typed})
    assert made.status_code == 303
    page = client.get("/staf/laporan")
    report_id = int(page.text.split('href="/staf/laporan/')[1].split('"')[0])
    text = _text(client.get(f"/staf/laporan/{report_id}.pdf").content)
    for figure in figures:
        assert figure in text, (kind, figure)
    assert _squeeze(NAME) in text
    if kind != "monthly":
        assert _squeeze(ACTION) in text
    html = client.get(f"/staf/laporan/{report_id}").text
    assert all(f in html for f in figures) and NAME in html
    # Not public before publication; afterwards the public copy has small figures hidden.
    assert client.get(f"/statistik/laporan/{report_id}.pdf").status_code == 404
    assert client.post(f"/staf/laporan/{report_id}/terbitkan",
                       data={"csrf_token": signed_in}).status_code == 303
    client.cookies.clear()
    public_text = _text(client.get(f"/statistik/laporan/{report_id}.pdf").content)
    assert _squeeze(NAME) in public_text and "<5" in public_text
    assert f"/statistik/laporan/{report_id}.pdf" in client.get("/statistik").text
    with ctx.db() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("report.%"))))
    assert actions == ["report.create", "report.publish"]


def test_the_figures_are_frozen_when_drawn_up(client: Any, ctx: Context,
                                              signed_in: str) -> None:
    client.post("/staf/laporan", data={"csrf_token": signed_in, "kind": "monthly",
                                       "dari": "2026-03-01", "sampai": "2026-03-31"})
    with ctx.db.begin() as s:
        s.execute(update(Unit).where(Unit.slug == "st-dinas-a").values(name="Nama baru"))
    page = client.get("/staf/laporan")
    report_id = int(page.text.split('href="/staf/laporan/')[1].split('"')[0])
    assert NAME in client.get(f"/staf/laporan/{report_id}").text


def test_a_unit_report_needs_its_unit(client: Any, signed_in: str) -> None:
    refused = client.post("/staf/laporan", data={
        "csrf_token": signed_in, "kind": "unit_semester", "dari": "2026-01-01",
        "sampai": "2026-06-30"})
    assert refused.status_code == 400 and 'role="alert"' in refused.text


@pytest.mark.parametrize("field", ["corrective", "recommendations"])
def test_text_a_monthly_recap_would_not_carry_is_refused_and_kept(
        client: Any, ctx: Context, signed_in: str, field: str) -> None:
    """Typed corrective actions used to vanish from a monthly recap without a word."""
    client.cookies.set("wbs-lang", "en")
    refused = client.post("/staf/laporan", data={
        "csrf_token": signed_in, "kind": "monthly", "dari": "2026-03-01",
        "sampai": "2026-03-31", "unit": "st-dinas-a", field: ACTION + " <b>&"})
    assert refused.status_code == 400
    assert "monthly recap has no section for corrective actions" in refused.text
    # The form comes back as sent (escaped), so the author loses nothing.
    assert escape(ACTION + " <b>&") in refused.text and "<b>&" not in refused.text
    assert '<option value="monthly" selected>' in refused.text
    assert 'value="2026-03-01"' in refused.text and 'value="2026-03-31"' in refused.text
    assert '<option value="st-dinas-a" selected>' in refused.text
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(ReportDocument)) == 0
        assert list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("report.%")))) == []


def test_a_refused_period_keeps_what_was_typed(client: Any, signed_in: str) -> None:
    client.cookies.set("wbs-lang", "en")
    refused = client.post("/staf/laporan", data={
        "csrf_token": signed_in, "kind": "semester", "dari": "2026-06-30",
        "sampai": "2026-01-01", "corrective": ACTION, "recommendations": "Perluas kanal."})
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert escape(ACTION) in refused.text and "Perluas kanal." in refused.text
    assert '<option value="semester" selected>' in refused.text


def test_the_refusal_reads_in_indonesian(client: Any, signed_in: str) -> None:
    client.cookies.set("wbs-lang", "id")
    refused = client.post("/staf/laporan", data={
        "csrf_token": signed_in, "kind": "monthly", "dari": "2026-03-01",
        "sampai": "2026-03-31", "corrective": "x"})
    assert refused.status_code == 400
    assert "Rekapitulasi bulanan tidak memuat bagian tindakan korektif" in refused.text
