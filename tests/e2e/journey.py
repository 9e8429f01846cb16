"""Steps shared by the staff-side journeys (issue 14): a person in a browser, the page checks.

A journey is one real path through the live server: the public forms, the reporter's mailbox
and the staff pages, each person in a browser context of their own, staff signed in on the
sign-in page with password and TOTP. Every page a journey shows is checked (axe-core WCAG 2.x
A/AA, sideways scroll, target sizes, focus rings) and screenshotted; the failures are collected
and asserted at the end, so one run names them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.e2e import checks, staff_world
from tests.e2e.conftest import Tab
from tests.e2e.test_staff_pages import FOCUSABLE, TARGETS
from wbs.accounts import StaffIdentity

SEND_REPORT = {"id": "Kirim laporan", "en": "Send report"}


@dataclass
class Journey:
    """The tabs of one journey, the page problems found on the way, and how long it took."""

    open_tab: Callable[..., Tab]
    server: Any
    lang: str
    width: int = 1280
    problems: list[str] = field(default_factory=list)
    pages: int = 0
    started: float = field(default_factory=time.monotonic)

    def tab(self, who: str) -> Tab:
        tab = self.open_tab(lang=self.lang, width=self.width)
        tab.folder = tab.folder / f"{self.lang}-{who}"  # one folder of screenshots per person
        tab.folder.mkdir(parents=True, exist_ok=True)
        return tab

    def check(self, tab: Tab, label: str) -> None:
        """Every page check on the page the tab shows now."""
        self.pages += 1
        # A journey clicks and types, and after a click Chromium does not match :focus-visible
        # on a programmatic focus(); the focus-ring check measures the ring a keyboard user
        # sees, so the page is told the last input was a key (Shift changes nothing).
        tab.page.keyboard.press("Shift")
        self.problems += (f"[{tab.variant}] {label} ({tab.path()}): {problem}"
                          for problem in checks.page_problems(tab.page, TARGETS, FOCUSABLE))

    def goto(self, tab: Tab, path: str, label: str) -> Any:
        response = tab.goto(path, label)
        assert response is not None and response.status < 400, (path, response and
                                                                  response.status)
        self.check(tab, label)
        return response

    def submit(self, tab: Tab, locator: Any, label: str) -> None:
        tab.submit(locator, label)
        self.check(tab, label)

    def staff(self, who: str, username: str) -> tuple[Tab, StaffIdentity]:
        """A staff member in a browser of their own, signed in on the sign-in page."""
        tab = self.tab(who)
        # The sign-in page and the start page after it are checked too.
        staff = staff_world.browser_sign_in(self.server, tab, username, check=self.check)
        return tab, staff

    def open_case(self, tab: Tab, number: str, who: str) -> None:
        """Open a case as staff do: the first time in a session, the purpose page comes first."""
        self.goto(tab, f"/staf/kasus/{number}", f"{who}-case")
        if tab.page.locator("#purpose_other").count():
            self.submit(tab, tab.page.locator(f'form[action="/staf/kasus/{number}/tujuan"] '
                                              "button[type=submit]"), f"{who}-case-opened")
        assert tab.page.locator("#purpose_other").count() == 0, "the purpose was not taken"
        assert number in tab.page.inner_text("main")

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def assert_pages_pass(self) -> None:
        assert self.pages, "no page was checked"
        assert not self.problems, "\n".join(self.problems)


def file_report(journey: Journey, tab: Tab, kind: str, title: str, what: str,
                identity: dict[str, str] | None = None) -> tuple[str, str]:
    """A report filed on the public form: (case number, reporter's code) from the receipt."""
    page = tab.page
    journey.goto(tab, "/lapor", "report-form")
    page.locator(f"label[for=kind-{kind}]").click()
    page.fill("#title", title)
    page.fill("#what", what)
    if identity:
        page.locator("label[for=mode-conf]").click()
        for name, value in identity.items():
            page.fill(f"#{name}", value)
    journey.check(tab, "report-form-filled")
    journey.submit(tab, page.get_by_role("button", name=SEND_REPORT[journey.lang]), "receipt")
    assert tab.path() == "/lapor/tanda-terima"
    code = page.locator(".code-box").inner_text().strip()
    number = page.locator("dl.facts dd").first.inner_text().strip()
    assert len(code) == 29 and number.startswith("WBS-"), (code, number)
    return number, code


def open_mailbox(journey: Journey, tab: Tab, code: str, label: str) -> None:
    journey.goto(tab, "/kotak-pesan", f"{label}-code-box")
    tab.page.fill("#code", code)
    journey.submit(tab, tab.page.locator("main form button[type=submit]").first, label)
    assert tab.path() == "/kotak-pesan", tab.path()
