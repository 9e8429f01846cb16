"""Every staff page, for every role, in both languages at 1280 and 375 px (issue 9, items 9-11).

Each page must have no axe-core violation of WCAG 2.x A/AA, must not scroll sideways, must give
radios, checkboxes, language buttons, navigation and buttons targets of at least 44 px, and must
show a focus ring of at least 3:1 on whatever it sits. Every page visited is screenshotted to
var/artifacts/screenshots/ by the Tab helper. The flows at the end are the staff findings of
issue 9 seen in the browser: the custodian's waiting request, "Start processing" that stayed,
and a refused action that kept what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e import checks, staff_world
from tests.e2e.conftest import VARIANTS, Tab
from tests.functional.workflow_helpers import ROLE_USERS, Driver
from wbs.cases import service
from wbs.enums import CaseState

pytestmark = pytest.mark.e2e

# Controls inside a closed <details> are not shown (only its summary is): they are checked on
# the pages where their form is open.
_SHOWN = ":not(details:not([open]) *)"
TARGETS = ", ".join(f"{s}{_SHOWN}" for s in (
    "input[type=radio]", "input[type=checkbox]", ".lang-switch button", ".nav a", ".nav button",
    "main a.button", "main button", ".pager a", ".pagination a")) + ", summary"
FOCUSABLE = ", ".join(f"{s}{_SHOWN}" for s in (
    ".nav a", ".nav button", ".lang-switch button", "main a", "main button",
    "main input:not([type=hidden])", "main select", "main textarea", ".table-scroll",
    ".site-footer a")) + ", summary"


@pytest.fixture(scope="module")
def world(live_server: Any) -> staff_world.World:
    start = live_server.clock.current
    built = staff_world.build(live_server)
    live_server.clock.current = max(live_server.clock.current, start)
    return built


def _pages(role: str, world: staff_world.World) -> list[str]:
    local, apip = world.local, world.apip
    common = ["/staf", "/staf/kata-sandi"]
    if role == "verifier":
        return [*common, "/staf/kasus", f"/staf/kasus?mirip={world.duplicate_pair[0]}",
                "/staf/penerimaan", "/staf/lapor",
                f"/staf/kasus/{world.duplicate_pair[1]}",  # purpose page
                *(f"/staf/kasus/{local[s].number}" for s in
                  ("received", "needs_info", "verified", "archived", "forwarded")),
                # The decided claim as a reader who may not decide sees it.
                f"/staf/kasus/{world.compensation[1]}/ganti-rugi"]
    if role == "liaison":
        return [*common, "/staf/kasus", f"/staf/kasus/{world.dispute}",
                *(f"/staf/kasus/{local[s].number}" for s in
                  ("verified", "in_process", "answered", "closed")),
                *(f"/staf/kasus/{number}/ganti-rugi" for number in world.compensation)]
    if role == "investigator":
        return [*common, "/staf/kasus", "/staf/penerimaan", f"/staf/kasus/{world.identity_case}",
                *(f"/staf/kasus/{apip[s].number}" for s in apip)]
    if role == "custodian":
        return [*common, "/staf/identitas"]
    if role == "leadership":
        return [*common, "/staf/ikhtisar", "/staf/sengketa", "/staf/aktivitas", "/staf/statistik",
                "/staf/laporan", f"/staf/laporan/{world.published_report}", "/staf/skm",
                "/staf/lapor"]
    if role == "auditor":
        return [*common, "/staf/audit", "/staf/audit/verifikasi"]
    return [*common, "/staf/kalender", "/staf/pengaturan", "/staf/kategori", "/staf/skm"]


def check_page(tab: Tab, path: str) -> list[str]:
    """Every check on one page; the failures as text (so one run reports them all)."""
    response = tab.goto(path)
    problems = []
    if response is None or response.status >= 400:
        problems.append(f"{path}: HTTP {response.status if response else '?'}")
    if tab.path() != path:  # a redirect (say, to the purpose page) would check another page
        problems.append(f"{path}: the walk landed on {tab.path()}")
    problems += (f"[{tab.variant}] {problem}"
                 for problem in checks.page_problems(tab.page, TARGETS, FOCUSABLE))
    return problems


def _signed_in(open_tab: Callable[..., Tab], live_server: Any, role: str, lang: str,
               width: int, world: staff_world.World) -> Tab:
    tab = open_tab(lang=lang, width=width)
    tab.folder = tab.folder / role  # one folder of screenshots per role
    tab.folder.mkdir(parents=True, exist_ok=True)
    staff = staff_world.browser_sign_in(live_server, tab, ROLE_USERS[role])
    for path in _pages(role, world):
        # The case number is the segment after /staf/kasus/, not the last one: a case's own
        # pages (/staf/kasus/N/ganti-rugi) would name "ganti-rugi" as the case (CaseHidden).
        number = path.split("?", 1)[0].split("/")[3] if path.startswith("/staf/kasus/") else ""
        if number and number != world.duplicate_pair[1]:
            staff_world.state_purpose(live_server, staff, number)
    return tab


@pytest.mark.parametrize("role", list(ROLE_USERS))
@pytest.mark.parametrize(("lang", "width"), VARIANTS, ids=[f"{lang}-{w}" for lang, w in VARIANTS])
def test_staff_pages_pass_the_accessibility_checks(
        role: str, lang: str, width: int, open_tab: Callable[..., Tab], live_server: Any,
        world: staff_world.World, axe_ready: None) -> None:
    tab = _signed_in(open_tab, live_server, role, lang, width, world)
    problems: list[str] = []
    for path in _pages(role, world):
        problems += check_page(tab, path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("lang", "width"), VARIANTS, ids=[f"{lang}-{w}" for lang, w in VARIANTS])
def test_pages_without_a_session_pass_the_accessibility_checks(
        lang: str, width: int, open_tab: Callable[..., Tab], axe_ready: None) -> None:
    tab = open_tab(lang=lang, width=width)
    problems = check_page(tab, "/masuk") + check_page(tab, "/tentang")
    tab.goto("/halaman-yang-tidak-ada", "not-found")
    checks.assert_no_axe_violations(tab.page)
    checks.assert_no_sideways_scroll(tab.page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("lang", "width"), VARIANTS, ids=[f"{lang}-{w}" for lang, w in VARIANTS])
def test_the_published_report_passes_the_accessibility_checks(
        lang: str, width: int, open_tab: Callable[..., Tab], world: staff_world.World,
        axe_ready: None) -> None:
    """The public copy of a report leadership published, reached from /statistik by anyone."""
    tab = open_tab(lang=lang, width=width)
    path = f"/statistik/laporan/{world.published_report}"
    tab.goto("/statistik", "statistics")
    assert tab.page.locator(f'main a[href="{path}"]').count() >= 1, "not linked from /statistik"
    problems = check_page(tab, path)
    assert "Menambah petugas penghubung di puskesmas." in tab.page.inner_text("main")
    assert not problems, "\n".join(problems)


def test_custodian_start_page_shows_the_waiting_request(
        open_tab: Callable[..., Tab], live_server: Any, world: staff_world.World) -> None:
    tab = _signed_in(open_tab, live_server, "custodian", "id", 375, world)
    tab.goto("/staf", "custodian-dashboard")
    waiting = tab.page.locator("#identity-waiting")
    assert waiting.is_visible() and world.identity_case in waiting.inner_text()
    assert "Tidak ada pekerjaan" not in tab.page.inner_text("main")
    tab.submit(waiting.get_by_role("link"), "identity-requests")
    assert tab.path() == "/staf/identitas"


def test_start_processing_goes_away_once_started(
        open_tab: Callable[..., Tab], live_server: Any, world: staff_world.World) -> None:
    tab = open_tab(lang="en", width=1280)
    staff = staff_world.browser_sign_in(live_server, tab, ROLE_USERS["liaison"])
    helpers = {"verifier": staff_world.sign_in(live_server, ROLE_USERS["verifier"])[1],
               "liaison": staff, "investigator": staff}
    number = Driver(live_server.ctx, helpers).build("local", CaseState.VERIFIED).number
    staff_world.state_purpose(live_server, staff, number)
    tab.goto(f"/staf/kasus/{number}", "before-start")
    # The report text is read in the body font at the body size (it was 13 px monospace).
    body, note, size = tab.page.evaluate(
        """() => [getComputedStyle(document.body).fontFamily,
                  getComputedStyle(document.querySelector('.note')).fontFamily,
                  getComputedStyle(document.querySelector('.note')).fontSize]""")
    assert note == body and size == "16px"
    tab.submit(tab.page.get_by_role("button", name="Start processing"), "after-start")
    assert tab.page.get_by_role("button", name="Start processing").count() == 0
    assert tab.page.locator("#act-answer").is_visible()
    assert "Done." in tab.page.inner_text("main")


def test_a_refused_archive_keeps_the_reason_typed(
        open_tab: Callable[..., Tab], live_server: Any, world: staff_world.World) -> None:
    tab = open_tab(lang="id", width=375)
    verifier = staff_world.browser_sign_in(live_server, tab, ROLE_USERS["verifier"])
    number = world.local["received"].number
    staff_world.state_purpose(live_server, verifier, number)
    tab.goto(f"/staf/kasus/{number}", "case")
    tab.page.locator("#act-archive summary").click()
    tab.page.fill("#ar-reason", "Dup")  # under the 5 characters a reason needs
    tab.submit(tab.page.locator("#act-archive button[type=submit]"), "archive-refused")
    assert tab.page.input_value("#ar-reason") == "Dup"
    assert tab.page.locator("#act-archive").get_attribute("open") is not None
    assert tab.page.locator("#act-archive-error").is_visible()
    assert service.can_list(live_server.ctx, verifier, number)  # nothing happened


@pytest.mark.parametrize(("lang", "width"), VARIANTS, ids=[f"{lang}-{w}" for lang, w in VARIANTS])
def test_a_refused_monthly_report_keeps_what_was_typed(
        lang: str, width: int, open_tab: Callable[..., Tab], live_server: Any,
        world: staff_world.World, axe_ready: None) -> None:
    """A monthly recap carries no corrective actions: the refusal says so, keeps the form as
    typed, and the refused page passes the same checks as every other page."""
    tab = open_tab(lang=lang, width=width)
    staff_world.browser_sign_in(live_server, tab, ROLE_USERS["leadership"])
    tab.goto("/staf/laporan", "reports")
    tab.page.select_option("#r-kind", "monthly")
    tab.page.fill("#r-from", "2026-03-01")
    tab.page.fill("#r-to", "2026-03-31")
    tab.page.fill("#r-corr", "Loket dibuka setiap hari kerja.")
    tab.submit(tab.page.locator('form[action="/staf/laporan"] button[type=submit]'),
               "report-refused")
    assert tab.page.get_by_role("alert").is_visible()
    assert tab.page.input_value("#r-corr") == "Loket dibuka setiap hari kerja."
    assert tab.page.input_value("#r-kind") == "monthly"
    assert tab.page.input_value("#r-from") == "2026-03-01"
    problems = [f"[{tab.variant}] {p}"
                for p in checks.page_problems(tab.page, TARGETS, FOCUSABLE)]
    assert not problems, "\n".join(problems)
