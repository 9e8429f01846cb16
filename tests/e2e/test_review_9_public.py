"""Review of issue 9 in the browser: what the first round's browser tests did not reach.

- A name typed under "confidentially", then "stay anonymous" chosen: the server rightly refuses
  to drop it silently and asks the reporter to "clear them to stay anonymous", but the page it
  sent back hid the identity fields (CSS `:has()` hides them under "anonymous"), so there was
  nothing to clear: the reporter had to guess that switching back would show them.
- The "already sent" page (a form whose nonce was used by another browser) was never checked by
  axe-core; nor were the confirmation page's and the receipt's focus rings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Tab
from tests.e2e.test_public_pages import check_here

pytestmark = pytest.mark.e2e

SEND = {"id": "Kirim laporan", "en": "Send report"}


def _fill(tab: Tab) -> None:
    tab.page.locator("label[for=kind-whistleblowing]").click()
    tab.page.fill("#title", "Pungutan liar di kantor")
    tab.page.fill("#what", "Petugas meminta uang untuk mempercepat izin.")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_review_9_identity_typed_under_anonymous_comes_back_visible(
        open_tab: Callable[..., Tab], js: bool) -> None:
    tab = open_tab(lang="id", width=375, js=js)
    tab.goto("/lapor", "form")
    _fill(tab)
    tab.page.locator("label[for=mode-conf]").click()
    tab.page.fill("#identity_name", "Siti Aminah")
    tab.page.locator("label[for=mode-anon]").click()  # a change of mind, the name left typed
    assert not tab.page.locator("#identity_name").is_visible()
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "identity-typed")
    assert tab.page.locator(".error-summary").is_visible()
    # Asked to choose "confidentially" or to clear what was typed: both must be possible here.
    name = tab.page.locator("#identity_name")
    assert name.is_visible(), "the page asks to clear identity fields it keeps hidden"
    assert name.input_value() == "Siti Aminah"
    name.fill("")
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "receipt")
    assert tab.page.locator(".code-box").is_visible()


@pytest.mark.parametrize("tab", [("id", 1280), ("id", 375), ("en", 1280), ("en", 375)],
                         indirect=True, ids=["id-1280", "id-375", "en-1280", "en-375"])
def test_review_9_already_sent_page_and_receipt_pass_every_check(
        tab: Tab, open_tab: Callable[..., Tab], live_server: Any, axe_ready: None) -> None:
    problems: list[str] = []
    tab.goto("/lapor", "form")
    nonce = tab.page.locator("input[name=nonce]").get_attribute("value")
    _fill(tab)
    tab.submit(tab.page.get_by_role("button", name=SEND[tab.lang]), "receipt")
    problems += check_here(tab, "receipt")
    # Another browser (a shared computer's cached form) sends a form under the same nonce.
    other = open_tab(lang=tab.lang, width=int(tab.variant.rsplit("-", 1)[-1]))
    other.goto("/lapor", "other-form")
    other.page.evaluate("(n) => { document.querySelector('input[name=nonce]').value = n; }",
                        nonce)
    _fill(other)
    other.submit(other.page.get_by_role("button", name=SEND[other.lang]), "already-sent")
    assert other.page.locator(".code-box").count() == 0
    problems += check_here(other, "already sent")
    assert not problems, "\n".join(problems)
