"""Issue 9, blocker 2 and items 3, 4, 6, 8 in the browser: the report form and its receipt.

The receipt used to be the answer to the POST: a reload filed the report again with a new code,
Back and Forward asked to resend it, and the language switch showed an empty form with the code
gone. Here a reporter files one report and then does all three; the code must stay the same and
the number of cases in the database must not move. The form (with the identity fields opened by
choosing "confidentially"), an error summary and the receipt pass axe-core in both languages at
1280 and 375 px.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.e2e import checks
from tests.e2e.conftest import Tab
from wbs.models import Case

pytestmark = pytest.mark.e2e

SEND = {"id": "Kirim laporan", "en": "Send report"}
SWITCH = {"id": "English", "en": "Bahasa Indonesia"}


def _cases(live_server: Any) -> int:
    with live_server.db() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _fill(tab: Tab, title: str = "Pungutan liar di kantor") -> None:
    tab.page.locator("label[for=kind-whistleblowing]").click()
    tab.page.fill("#title", title)
    tab.page.fill("#what", "Petugas meminta uang untuk mempercepat izin.")


def _file(tab: Tab) -> str:
    tab.goto("/lapor", "form")
    _fill(tab)
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "receipt")
    code = tab.page.locator(".code-box").inner_text().strip()
    assert len(code) == 29, code
    return code


def test_reload_back_and_language_switch_keep_the_code_and_file_nothing(
        open_tab: Callable[..., Tab], live_server: Any) -> None:
    tab = open_tab(lang="id", width=375)
    before = _cases(live_server)
    code = _file(tab)
    assert _cases(live_server) == before + 1

    with tab.page.expect_navigation():
        tab.page.reload()
    tab.shot("after-reload")
    assert _cases(live_server) == before + 1, "the reload filed the report again"
    assert tab.page.locator(".code-box").inner_text().strip() == code
    assert tab.path() == "/lapor/tanda-terima"  # the receipt is a page of its own (PRG)
    assert code not in tab.page.url

    tab.page.go_back()
    tab.shot("after-back")
    assert tab.path() == "/lapor"
    tab.page.go_forward()
    tab.shot("after-forward")
    assert tab.page.locator(".code-box").inner_text().strip() == code
    assert _cases(live_server) == before + 1

    tab.submit(tab.page.locator(".lang-switch button", has_text=SWITCH["id"]), "english")
    assert tab.page.locator("html").get_attribute("lang") == "en"
    assert tab.page.locator(".code-box").inner_text().strip() == code
    assert _cases(live_server) == before + 1
    # No case number in the title: titles land in the browser's history.
    number = tab.page.locator("dl.facts dd").first.inner_text().strip()
    assert number.startswith("WBS-") and number not in tab.page.title()


def _check(tab: Tab, problems: list[str], label: str) -> None:
    for check in (lambda: checks.assert_no_axe_violations(tab.page),
                  lambda: checks.assert_no_sideways_scroll(tab.page),
                  lambda: checks.assert_target_sizes(
                      tab.page, "input[type=radio], main button, main a.button")):
        try:
            check()
        except AssertionError as exc:
            problems.append(f"[{tab.variant}] {label}: {exc}")


def test_form_second_step_errors_and_receipt_pass_the_accessibility_checks(
        tab: Tab, live_server: Any, axe_ready: None) -> None:
    problems: list[str] = []
    tab.goto("/lapor", "form")
    assert not tab.page.locator("#identity_name").is_visible()  # anonymous by default
    _check(tab, problems, "form")
    tab.page.locator("label[for=mode-conf]").click()
    assert tab.page.locator("#identity_name").is_visible()  # the second step, opened
    tab.shot("confidential")
    _check(tab, problems, "confidential")
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "errors")
    summary = tab.page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#title']").count() == 1
    assert summary.locator("a[href='#identity_name']").count() == 1
    _check(tab, problems, "errors")
    _fill(tab)
    tab.page.fill("#identity_name", "Siti Aminah")
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "receipt")
    assert tab.page.locator(".code-box").is_visible()
    assert tab.page.locator("svg.qr").count() == 1
    _check(tab, problems, "receipt")
    tab.submit(tab.page.locator(".actions button"), "closed")
    tab.goto("/lapor/tanda-terima", "receipt-gone")
    _check(tab, problems, "receipt gone")
    assert not problems, "\n".join(problems)


def test_without_javascript_the_files_survive_an_error_and_the_receipt_prints(
        open_tab: Callable[..., Tab], live_server: Any) -> None:
    tab = open_tab(lang="en", width=375, js=False)
    before = _cases(live_server)
    tab.goto("/lapor", "form-nojs")
    assert not tab.page.locator("#identity_name").is_visible()
    tab.page.locator("label[for=mode-conf]").click()  # CSS alone opens the identity step
    assert tab.page.locator("#identity_name").is_visible()
    tab.page.locator("label[for=mode-anon]").click()
    tab.page.locator("label[for=kind-whistleblowing]").click()
    tab.page.set_input_files("#files", files=[
        {"name": "kuitansi.txt", "mimeType": "text/plain", "buffer": b"bukti pembayaran"}])
    tab.submit(tab.page.get_by_role("button", name=SEND["en"]), "error-nojs")
    summary = tab.page.locator(".error-summary")
    assert summary.is_visible() and "kuitansi.txt" in summary.inner_text()
    tab.page.locator(".error-summary a[href='#title']").click()
    assert tab.page.evaluate("location.hash") == "#title"
    assert "kuitansi.txt" in tab.page.locator("#held-files").inner_text()
    tab.page.fill("#title", "Kuitansi fiktif")
    tab.page.fill("#what", "Kuitansi perjalanan dinas fiktif.")
    tab.submit(tab.page.get_by_role("button", name=SEND["en"]), "receipt-nojs")
    assert _cases(live_server) == before + 1
    code = tab.page.locator(".code-box").inner_text().strip()
    # On paper: the code, the return date, the address and the QR; no menu, no buttons.
    tab.page.emulate_media(media="print")
    assert tab.page.locator(".code-box").is_visible()
    assert tab.page.locator("svg.qr").is_visible()
    assert live_server.url in tab.page.locator("dl.facts").inner_text()
    assert not tab.page.locator(".lang-switch").is_visible()
    assert not tab.page.locator(".actions").is_visible()
    tab.page.emulate_media(media="screen")
    # Closing the receipt wipes it: Back or a reload no longer shows the code.
    tab.submit(tab.page.locator(".actions button"), "closed")
    assert tab.path() == "/"
    tab.goto("/lapor/tanda-terima", "gone")
    assert code not in tab.page.content()
    assert _cases(live_server) == before + 1
