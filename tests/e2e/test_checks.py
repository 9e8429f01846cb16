"""The browser checks themselves: each must catch what it is for, and pass a page that is fine.

A checker that never fails proves nothing, so each is shown a page built to break it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import checks

pytestmark = pytest.mark.e2e

FINE = """<!doctype html><html lang="en"><head><title>Fine</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0;font:16px sans-serif} button,a{display:inline-block;min-height:44px;
min-width:44px;padding:10px} :focus-visible{outline:3px solid #0b0c0c;outline-offset:2px}
.choice{display:flex;align-items:center}
.choice label{flex:1;min-height:44px;padding:10px;box-sizing:border-box}
</style></head><body><main><h1>Fine</h1><p><a href="#x">A link</a></p>
<div class="choice"><input type="radio" id="r1" name="r"><label for="r1">One</label></div>
<button type="button">Go</button></main></body></html>"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    yield context.new_page()
    context.close()


def test_axe_reports_a_missing_alt_text_and_passes_a_clean_page(page: Any, axe_ready: None,
                                                                 ) -> None:
    page.set_content(FINE)
    checks.assert_no_axe_violations(page)
    page.set_content(FINE.replace("<h1>Fine</h1>", '<h1>Fine</h1><img src="x.png">'))
    with pytest.raises(AssertionError, match="image-alt"):
        checks.assert_no_axe_violations(page)


def test_axe_runs_under_the_pages_content_security_policy(page: Any, axe_ready: None) -> None:
    # The app's CSP forbids inline scripts; the checker must still run, without weakening it.
    page.set_content(FINE.replace(
        "<head>", "<head><meta http-equiv=\"Content-Security-Policy\" "
                  "content=\"default-src 'none'; script-src 'self'; style-src 'unsafe-inline'\">"))
    checks.assert_no_axe_violations(page)
    assert page.evaluate("() => typeof axe.run") == "function"


def test_sideways_scroll_is_caught_at_375_px(page: Any) -> None:
    page.set_content(FINE)
    checks.assert_no_sideways_scroll(page)
    page.set_content(FINE.replace("<h1>Fine</h1>", '<pre id="wide">' + "x" * 300 + "</pre>"))
    with pytest.raises(AssertionError, match="pre#wide"):
        checks.assert_no_sideways_scroll(page)


def test_small_targets_are_caught_and_a_radio_counts_with_its_label(page: Any) -> None:
    page.set_content(FINE)
    assert checks.assert_target_sizes(page, "button, a, input[type=radio]") == 3
    page.set_content(FINE.replace("<button", '<button style="min-height:0;padding:0"'))
    with pytest.raises(AssertionError, match="target"):
        checks.assert_target_sizes(page, "button")
    page.set_content(FINE.replace("flex:1;min-height:44px;padding:10px", "flex:1"))
    with pytest.raises(AssertionError, match="radio"):
        checks.assert_target_sizes(page, "input[type=radio]")


def test_focus_ring_contrast_is_measured_against_what_it_sits_on(page: Any) -> None:
    page.set_content(FINE)
    assert checks.assert_focus_ring_contrast(page, "a, button, input") == 3
    # The old amber ring (#f5b400) on white is about 1.8:1.
    page.set_content(FINE.replace("outline:3px solid #0b0c0c", "outline:3px solid #f5b400"))
    with pytest.raises(AssertionError, match=r"1\.8\d:1"):
        checks.assert_focus_ring_contrast(page, "button")
    page.set_content(FINE.replace("outline:3px solid #0b0c0c", "outline:none"))
    with pytest.raises(AssertionError, match="no focus ring"):
        checks.assert_focus_ring_contrast(page, "button")


def test_contrast_ratio_matches_the_wcag_formula() -> None:
    assert checks.contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert checks.contrast((255, 255, 255), (255, 255, 255)) == pytest.approx(1.0)
    assert checks.contrast((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


def test_live_server_serves_the_app_in_each_language_and_width(tab: Any) -> None:
    response = tab.goto("/")
    assert response.status == 200
    assert tab.page.locator("html").get_attribute("lang") == tab.lang
    heading = tab.page.locator("h1").inner_text()
    assert heading == {"id": "Laporkan korupsi dan pelayanan publik yang buruk, dengan aman",
                       "en": "Report corruption and poor public services, safely"}[tab.lang]
    assert tab.page.viewport_size["width"] == tab.width
    assert tab.shots[-1].exists() and tab.shots[-1].stat().st_size > 1000


def test_pages_work_without_javascript(open_tab: Any) -> None:
    tab = open_tab(lang="en", width=375, js=False)
    tab.goto("/lapor")
    assert tab.page.evaluate("1 + 1") == 2  # evaluation from the test still works
    assert tab.page.locator("form[action='/lapor']").count() == 1
