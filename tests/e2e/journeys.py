"""What the journey tests share: every page a journey visits is checked and counted.

A page opened with JavaScript disabled cannot run axe-core: Chromium then disables timers in the
page too, and axe's asynchronous run never ends (a sync `evaluate` still works). The portal has
no JavaScript of its own, so the page the reporter sees is its HTML and CSS alone: the checks run
on a copy of that very document (the DOM as the no-JS page has it, served at the same address so
the same style sheet loads) in a JavaScript-enabled page of the same size and language. The
keyboard journey checks copies too, so that the checks never move its focus. (A copy carries the
markup, not what was typed into a control since the page loaded; no check here depends on it.)
"""

from __future__ import annotations

from typing import Any

from tests.e2e import checks
from tests.e2e.conftest import LOCALES, WIDTHS, Tab
from tests.e2e.test_staff_pages import FOCUSABLE, TARGETS


class Walk:
    """A journey's pages: each one checked (axe-core, sideways scroll, targets, focus ring)."""

    def __init__(self, *, copy: bool = False) -> None:
        # copy: check a copy even with JavaScript on, so the checks (which focus every control
        # in turn) leave the focus of the page under test where the user put it.
        self.copy = copy
        self.problems: list[str] = []
        self.pages: list[str] = []
        self._mirrors: dict[tuple[str, int], Any] = {}

    def _mirror(self, tab: Tab) -> Any:
        key = (tab.lang, tab.width)
        if key not in self._mirrors:
            context = tab.page.context.browser.new_context(
                viewport={"width": tab.width, "height": WIDTHS.get(tab.width, 800)},
                is_mobile=tab.width < 600, has_touch=tab.width < 600, locale=LOCALES[tab.lang])
            context.set_default_timeout(15_000)
            self._mirrors[key] = context.new_page()
        return self._mirrors[key]

    def check(self, tab: Tab, label: str) -> None:
        self.pages.append(f"{tab.variant} {label}: {tab.path()}")
        page = tab.page
        if self.copy or not tab.js:
            html = "<!doctype html>\n" + page.evaluate("() => document.documentElement.outerHTML")
            page = self._mirror(tab)
            url = tab.page.url.split("#")[0]
            page.route(url, lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html))
            page.goto(url)
            page.unroute(url)
        self.problems += (f"[{tab.variant}] {label} ({tab.path()}): {problem}"
                          for problem in checks.page_problems(page, TARGETS, FOCUSABLE))

    def close(self) -> None:
        for page in self._mirrors.values():
            page.context.close()
