"""Every public page in both languages at 1280 and 375 px (issue 9, item 10, public part).

The public equivalent of test_staff_pages.py: no axe-core violation of WCAG 2.x A/AA, no
sideways scroll, targets of at least 44 px, a focus ring of at least 3:1. "Every page" means the
pages a reporter or a citizen reaches, each in the states that change what it shows: the one
code box (empty and after a code not found), the mailbox of an answered case (its response
form, its errors, the confirmation page), the page after the session ended, the status page of
old links, the code-replacement page, the receipt check, transparency and about, and the error
pages. Every page visited is screenshotted to var/artifacts/screenshots/ by the Tab helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e import checks
from tests.e2e.conftest import VARIANTS, Tab
from tests.e2e.server import ERROR_PAGES
from tests.e2e.test_mailbox_flows import answered_case
from tests.e2e.test_staff_pages import FOCUSABLE, TARGETS
from wbs.cases import intake
from wbs.enums import Channel, ReportKind

pytestmark = pytest.mark.e2e

GET_PAGES = ("/", "/lapor", "/status", "/kotak-pesan", "/transparansi", "/tentang",
             "/verifikasi", "/statistik", "/standar-layanan")


@dataclass(frozen=True)
class Codes:
    answered: str  # a case waiting for the reporter's response to its answer
    staff_issued: str  # a code typed in by an official, to be replaced at first use
    survey: str = ""  # the public satisfaction survey form's token (RULES §9)


@pytest.fixture(scope="module")
def codes(live_server: Any) -> Codes:
    start = live_server.clock.current
    answered = answered_case(live_server).code
    letter = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Jalan rusak",
                                what="Jalan desa rusak sejak Januari.")
    staff_issued = intake.submit(live_server.ctx, letter, [], Channel.LETTER,
                                 entered_by="verifikator").code
    live_server.clock.current = max(live_server.clock.current, start)
    return Codes(answered=answered, staff_issued=staff_issued, survey=_survey(live_server.ctx))


def _survey(ctx: Any) -> str:
    """A survey round of one unit, as the administrator opens it on /staf/skm."""
    from sqlalchemy import select

    from wbs.accounts import StaffIdentity
    from wbs.enums import Role
    from wbs.models import User
    from wbs.reports import surveys

    with ctx.db() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
    staff = StaffIdentity(user_id=admin.id, username=admin.username, display_name="",
                          role=Role.ADMINISTRATOR, unit_id=admin.unit_id, unit_slug=None,
                          session_id=0, token=b"\0" * 32, private_key_sealed=b"")
    today = ctx.today()
    return surveys.create(ctx, staff, unit_slug="dinas-kesehatan",
                          service="Pelayanan rawat jalan puskesmas", start=today,
                          end=today.replace(year=today.year + 1))


def check_here(tab: Tab, label: str) -> list[str]:
    """Every check on the page the tab shows now; the failures as text."""
    return [f"[{tab.variant}] {label}: {problem}"
            for problem in checks.page_problems(tab.page, TARGETS, FOCUSABLE)]


def _open(tab: Tab, code: str, label: str) -> None:
    tab.goto("/kotak-pesan", "code-box")
    tab.page.fill("#code", code)
    tab.submit(tab.page.locator("main form button[type=submit]").first, label)


@pytest.mark.parametrize(("lang", "width"), VARIANTS, ids=[f"{lang}-{w}" for lang, w in VARIANTS])
def test_public_pages_pass_the_accessibility_checks(
        lang: str, width: int, open_tab: Callable[..., Tab], live_server: Any, codes: Codes,
        axe_ready: None) -> None:
    tab = open_tab(lang=lang, width=width)
    page = tab.page
    problems: list[str] = []
    for path in GET_PAGES:
        response = tab.goto(path)
        if response is None or response.status >= 400:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
        problems += check_here(tab, path)
    for path, status in (("/halaman-yang-tidak-ada", 404), ("/bahasa", 405)):
        response = tab.goto(path, f"error-{status}")
        assert response is not None and response.status == status
        problems += check_here(tab, f"error page {status}")
    for name in ERROR_PAGES:  # 408, 413, 503 and the 503 of a full disk (test-only routes)
        response = tab.goto(f"/uji-galat/{name}", f"error-{name}")
        assert response is not None and response.status == ERROR_PAGES[name][0]
        problems += check_here(tab, f"error page {name}")
    response = tab.goto(f"/survei/{codes.survey}", "survey")
    assert response is not None and response.status == 200
    problems += check_here(tab, "satisfaction survey form")
    response = tab.goto("/kotak-pesan/uji-batas", "rate-limited")
    assert response is not None and response.status == 429
    problems += check_here(tab, "rate-limited page (429)")

    _open(tab, "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01", "code-not-found")
    problems += check_here(tab, "code not found")
    _open(tab, codes.staff_issued, "replace-code")
    problems += check_here(tab, "replace the code")

    _open(tab, codes.answered, "mailbox")
    problems += check_here(tab, "mailbox")
    page.check("#r-object")
    tab.submit(page.locator("#respond button[type=submit]"), "objection-without-reason")
    problems += check_here(tab, "mailbox, response error")
    page.check("#r-accept")
    tab.submit(page.locator("#respond button[type=submit]"), "confirm-acceptance")
    problems += check_here(tab, "confirmation page")
    tab.submit(page.locator("#confirm-response button[value=edit]"), "back-to-mailbox")
    page.fill("#identity_email", "bukan-email")
    # The browser's own checks (required, type=email) would stop the form first: the server's
    # error page is what a browser without them, or a phone's keyboard quirks, leads to.
    page.evaluate("""() => { document.querySelector('form[action="/kotak-pesan/identitas"]')
                               .noValidate = true; }""")
    tab.submit(page.locator('form[action="/kotak-pesan/identitas"] button[type=submit]'),
               "identity-errors")
    problems += check_here(tab, "mailbox, identity errors")
    page.fill("#body", "Pesan yang diketik ketika sesi berakhir.")
    live_server.clock.advance(seconds=live_server.ctx.settings.reporter_session_idle_seconds + 5)
    tab.submit(page.locator('form[action="/kotak-pesan/pesan"] button[type=submit]'),
               "session-ended")
    problems += check_here(tab, "session ended")

    tab.goto("/verifikasi", "verify")
    page.fill("#receipt", "bukan tanda terima")
    tab.submit(page.locator("main form button[type=submit]").first, "verify-result")
    problems += check_here(tab, "receipt check result")

    # The status page of old links (a POST to /status from a page saved before issue 9.5).
    tab.goto("/status", "old-status")
    page.evaluate("""(code) => { const f = document.querySelector('main form');
                                 f.action = '/status'; f.querySelector('#code').value = code;
                                 f.submit(); }""", codes.answered)
    page.wait_for_load_state()
    tab.shot("old-status-result")
    problems += check_here(tab, "status page of old links")
    assert not problems, "\n".join(problems)
