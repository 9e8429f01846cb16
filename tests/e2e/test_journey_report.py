"""A report drawn up and published by leadership, read by anyone (issue 14, RULES §8).

One real path through the live server, in Bahasa Indonesia and once in English: leadership
(the Sekda) draws up the semester evaluation on /staf/laporan with corrective actions and
recommendations, reads the staff copy, publishes it; a citizen without any session finds it on
/statistik and reads the public copy, where every count under the suppression threshold is
hidden (it is shown in the staff copy). What the server stored is checked (the document row,
its publication time, the audit rows); every page shown passes the page checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.conftest import Tab
from tests.e2e.journey import Journey
from tests.functional.workflow_helpers import ROLE_USERS, audit_since, last_seq
from wbs.cases import intake
from wbs.enums import Channel, ReportKind
from wbs.reports.tables import ReportDocument

pytestmark = pytest.mark.e2e

CORRECTIVE = {"id": "Loket pengaduan dibuka setiap hari kerja sejak bulan ini.",
              "en": "The complaint desk opens every working day from this month."}
RECOMMEND = {"id": "Menambah petugas penghubung di setiap puskesmas.",
             "en": "Add a liaison officer at every health centre."}


def _cell(page: Any, section: int, row: int, col: int) -> str:
    """The text of one cell of a section's table (column 0 is the row's heading)."""
    cells = page.locator("main > section").nth(section).locator("tbody tr").nth(row) \
        .locator("th, td")
    return str(cells.nth(col).inner_text()).strip()


def _small_counts(doc: dict[str, Any]) -> list[tuple[int, int, int, str]]:
    """(section, row, column, value) of every count under the public threshold but above 0."""
    found = []
    for s, section in enumerate(doc["sections"]):
        for r, row in enumerate(section.get("rows") or []):
            for col in section.get("counts", []):
                if row[col].isdigit() and 0 < int(row[col]) < 5:
                    found.append((s, r, col, row[col]))
    return found


@pytest.mark.parametrize("lang", ["id", "en"])
def test_leadership_publishes_a_report_and_anyone_reads_the_public_copy(
        lang: str, open_tab: Callable[..., Tab], live_server: Any, axe_ready: None) -> None:
    ctx = live_server.ctx
    journey = Journey(open_tab, live_server, lang)
    seq = last_seq(ctx)
    today = ctx.today()
    # A complaint that came by SMS, a channel no other test uses: at least one small count.
    intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="Lampu jalan mati",
                                          what="Lampu jalan di Jalan Merdeka mati seminggu."),
                  [], Channel.SMS, entered_by="verifikator")

    # 1. Leadership draws up the semester evaluation for the Bupati (RULES §8: causes, how they
    #    were settled, corrective actions and recommendations), this half-year so far.
    lead_tab, _lead = journey.staff("leadership", ROLE_USERS["leadership"])
    journey.goto(lead_tab, "/staf/laporan", "reports")
    page = lead_tab.page
    page.select_option("#r-kind", "semester")
    page.fill("#r-from", today.replace(month=1 if today.month <= 6 else 7, day=1).isoformat())
    page.fill("#r-to", today.isoformat())
    page.fill("#r-corr", CORRECTIVE[lang])
    page.fill("#r-rec", RECOMMEND[lang])
    journey.check(lead_tab, "report-typed")
    journey.submit(lead_tab, page.locator('form[action="/staf/laporan"] button[type=submit]'),
                   "report-drawn-up")
    with live_server.db() as session:
        row = session.scalars(select(ReportDocument).where(
            ReportDocument.recommendations == RECOMMEND[lang])).one()
        report_id, snapshot = row.id, json.loads(row.snapshot)
    assert row.kind == "semester" and row.published_at is None
    assert row.created_by == ROLE_USERS["leadership"]

    # Not public before it is published.
    citizen = journey.tab("citizen")
    early = citizen.goto(f"/statistik/laporan/{report_id}", "not-yet-published")
    assert early is not None and early.status == 404
    journey.check(citizen, "not-yet-published")

    # 2. The staff copy, then publication.
    journey.goto(lead_tab, f"/staf/laporan/{report_id}", "staff-copy")
    assert RECOMMEND[lang] in page.inner_text("main")
    # Small counts: the staff copy shows them as they are.
    small = _small_counts(snapshot)
    assert small, "no count under 5 to suppress (the SMS complaint should be one)"
    assert [_cell(page, s, r, c) for s, r, c, _v in small] == [v for _s, _r, _c, v in small]
    journey.goto(lead_tab, "/staf/laporan", "reports-again")
    journey.submit(lead_tab, page.locator(
        f'form[action="/staf/laporan/{report_id}/terbitkan"] button[type=submit]'),
        "report-published")
    with live_server.db() as session:
        assert session.get_one(ReportDocument, report_id).published_at is not None
    assert page.locator(f'a[href="/statistik/laporan/{report_id}"]').count() == 1

    # 3. Anyone finds it on /statistik and reads the public copy.
    journey.goto(citizen, "/statistik", "statistics")
    journey.submit(citizen, citizen.page.locator(f'main a[href="/statistik/laporan/{report_id}"]'),
                   "public-copy")
    public_text = citizen.page.inner_text("main")
    assert CORRECTIVE[lang] in public_text and RECOMMEND[lang] in public_text
    # The public copy never shows a count under 5 (RULES §8): each is "<5" or hidden ("×").
    public_cells = [(section, r, col, _cell(citizen.page, section, r, col))
                    for section, body in enumerate(snapshot["sections"])
                    for r in range(len(body.get("rows") or []))
                    for col in body.get("counts", [])]
    assert public_cells, "the public copy shows no count"
    shown_small = [c for c in public_cells if c[3].isdigit() and 0 < int(c[3]) < 5]
    assert not shown_small, f"counts under 5 in the public copy: {shown_small}"
    assert all(_cell(citizen.page, s, r, c) in ("<5", "×") for s, r, c, _v in small)

    actions = [(e.actor, e.action) for e in audit_since(ctx, seq)]
    assert (ROLE_USERS["leadership"], "report.create") in actions
    assert (ROLE_USERS["leadership"], "report.publish") in actions

    print(f"\njourney report [{lang}]: {journey.pages} pages checked, "
          f"{journey.seconds():.1f} s")
    journey.assert_pages_pass()
