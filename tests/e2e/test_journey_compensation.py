"""Compensation (ganti rugi) claimed in the mailbox and decided by the unit (issue 14).

One real path through the live server, in Bahasa Indonesia and once in English: a complaint
is being processed at Dinas Kesehatan; the reporter claims compensation in the mailbox, item by
item; the unit's liaison follows the case page's link to /staf/kasus/N/ganti-rugi, reads the
items and the total, declares the file complete (the decision limit starts), records the
decision with an amount and a payment deadline, and delivers it; the reporter reads the decision
in the mailbox. Each step asserts what the person sees and what the server stored; every page
shown passes the page checks (axe-core WCAG 2.x A/AA and the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e import staff_world
from tests.e2e.conftest import Tab
from tests.e2e.journey import Journey, open_mailbox
from tests.functional.workflow_helpers import ROLE_USERS, Driver
from wbs.cases import deadlines
from wbs.enums import CaseState
from wbs.models import Case, CompensationClaim

pytestmark = pytest.mark.e2e

ITEMS = (("Biaya berobat ke klinik swasta", "350.000", 350_000),
         ("Ongkos perjalanan dua kali", "80000", 80_000))
REASONS = {"id": "Biaya berobat dan perjalanan terbukti dengan kuitansi.",
           "en": "The treatment and travel costs are proven by receipts."}


def _claim(server: Any, number: str) -> CompensationClaim | None:
    with server.db() as session:
        return session.scalars(select(CompensationClaim).join(Case, Case.id ==
                                                              CompensationClaim.case_id)
                               .where(Case.case_number == number)).first()


def _open_limits(server: Any, number: str) -> set[str]:
    with server.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
        return {row.kind for row in deadlines.open_deadlines(session, case)}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_compensation_claim_from_the_mailbox_to_the_delivered_decision(
        lang: str, open_tab: Callable[..., Tab], live_server: Any, axe_ready: None) -> None:
    journey = Journey(open_tab, live_server, lang)
    helpers = {role: staff_world.sign_in(live_server, ROLE_USERS[role])[1]
               for role in ("verifier", "liaison")}
    filed = Driver(live_server.ctx, helpers).build("local", CaseState.IN_PROCESS)
    number = filed.number

    # 1. The reporter claims compensation in the mailbox, item by item.
    reporter = journey.tab("reporter")
    open_mailbox(journey, reporter, filed.code, "mailbox")
    page = reporter.page
    section = page.locator("#ganti-rugi")
    for n, (description, typed, _amount) in enumerate(ITEMS, start=1):
        page.fill(f"#item-{n}-d", description)
        page.fill(f"#item-{n}-a", typed)
    journey.check(reporter, "claim-typed")
    journey.submit(reporter, section.locator("button[type=submit]"), "claimed")
    stored = _claim(live_server, number)
    assert stored is not None and stored.file_complete_on is None
    assert ITEMS[0][0].encode() not in stored.items_sealed  # sealed under the case key
    assert "Rp 430.000" in page.locator("#ganti-rugi").inner_text()

    # 2. The liaison reaches the claim from the case page and reads the items and the total.
    liaison_tab, _liaison = journey.staff("liaison", ROLE_USERS["liaison"])
    journey.open_case(liaison_tab, number, "liaison")
    journey.submit(liaison_tab,
                   liaison_tab.page.locator(f'main a[href="/staf/kasus/{number}/ganti-rugi"]'),
                   "liaison-compensation")
    page = liaison_tab.page
    assert liaison_tab.path() == f"/staf/kasus/{number}/ganti-rugi"
    shown = page.inner_text("main")
    assert all(description in shown for description, _typed, _amount in ITEMS)
    assert "Rp 350.000" in shown and "Rp 430.000" in shown

    # 3. The file is complete: the decision limit starts.
    journey.submit(liaison_tab, page.locator(
        f'form[action="/staf/kasus/{number}/ganti-rugi/lengkap"] button[type=submit]'),
        "liaison-file-complete")
    stored = _claim(live_server, number)
    assert stored is not None and stored.file_complete_on == live_server.ctx.today()
    assert "decision" in _open_limits(live_server, number)

    # 4. The decision: the amount granted, the payment deadline, the reasons.
    due = live_server.ctx.today() + timedelta(days=30)
    page.fill("#amount", "430000")
    page.fill("#payment-due", due.isoformat())
    page.fill("#reason", REASONS[lang])
    journey.check(liaison_tab, "liaison-decision-typed")
    journey.submit(liaison_tab, page.locator(
        f'form[action="/staf/kasus/{number}/ganti-rugi/putusan"] button[type=submit]'),
        "liaison-decided")
    stored = _claim(live_server, number)
    assert stored is not None and stored.decided_on == live_server.ctx.today()
    assert stored.payment_due_on == due and stored.decision_sealed is not None
    assert REASONS[lang].encode() not in stored.decision_sealed
    limits = _open_limits(live_server, number)
    assert "decision" not in limits and "decision_delivery" in limits

    # 5. Delivered to the reporter's mailbox: the delivery limit is met.
    journey.submit(liaison_tab, page.locator(
        f'form[action="/staf/kasus/{number}/ganti-rugi/kirim"] button[type=submit]'),
        "liaison-delivered")
    stored = _claim(live_server, number)
    assert stored is not None and stored.delivered_on == live_server.ctx.today()
    assert "decision_delivery" not in _open_limits(live_server, number)

    # 6. The reporter reads the decision in the mailbox.
    journey.goto(reporter, "/kotak-pesan", "mailbox-decided")  # still signed in with the code
    text = reporter.page.inner_text("main")
    assert "dikabulkan sebesar Rp 430.000" in text and REASONS[lang] in text
    assert f"{due:%d-%m-%Y}" in text

    print(f"\njourney compensation [{lang}]: {journey.pages} pages checked, "
          f"{journey.seconds():.1f} s")
    journey.assert_pages_pass()
