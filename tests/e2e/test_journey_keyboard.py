"""Issue 14, browser journeys: the report form with the keyboard alone.

Only Tab, Shift+Tab, Space and Enter move and act, and text is typed only into the control that
has the focus: no click, no `fill`, no focus() from the test. From the top of the page the
reporter tabs through the header to every control of the form, in the order they are shown,
each with a visible focus ring; Shift+Tab walks back. The kind is chosen with Space, the form is
sent with Enter before it is complete: the error summary is announced (role=alert) and has the
focus, its first link leads with Enter to the first field in error (the same on the one code
box, with a mistyped code). The reporter types the missing fields, picks an evidence file
through the file chooser opened with Space, and sends with Enter: the receipt is reached, and
the case with its file is in the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.e2e.conftest import Tab
from tests.e2e.journeys import Walk
from wbs.models import Attachment, Case

pytestmark = pytest.mark.e2e

# The form's controls in the order they are shown, as far as the anonymous form shows them.
FORM_ORDER = ["kind-whistleblowing", "title", "what", "who_name", "who_nip", "who_agency",
              "who_position", "reported_unit", "shield_reported_unit", "where", "when", "how",
              "files", "mode-anon", "send"]
TYPED = {"title": "Pungutan di loket izin", "what": "Petugas loket meminta uang tunai.",
         "who_name": "Ahmad", "where": "Loket 3", "how": "Diminta langsung di loket."}
EVIDENCE = {"name": "catatan.txt", "mimeType": "text/plain",
            "buffer": b"Catatan pembayaran: Rp 500.000 pada 3 Maret."}

_FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const s = getComputedStyle(e);
    const r = e.getBoundingClientRect();
    const ring = e.matches(':focus-visible') && s.outlineStyle !== 'none'
                 && parseFloat(s.outlineWidth) >= 2;
    return {id: e.id || (e.type === 'submit' && e.closest('form[action="/lapor"]') ? 'send'
                         : e.tagName.toLowerCase() + ':' + (e.textContent || '').trim()
                         .slice(0, 30)),
            tag: e.tagName.toLowerCase(), cls: String(e.className || ''),
            type: e.type || '', checked: !!e.checked,
            ring, shown: r.width > 0 && r.height > 0,
            inAlert: !!e.closest('[role=alert]'),
            summary: e.classList.contains('error-summary'),
            y: r.top + window.scrollY, x: r.left};
}"""


def focused(tab: Tab) -> dict[str, Any] | None:
    result: dict[str, Any] | None = tab.page.evaluate(_FOCUSED)
    return result


def press(tab: Tab, key: str) -> dict[str, Any] | None:
    tab.page.keyboard.press(key)
    return focused(tab)


def tab_to(tab: Tab, target: str, trail: list[dict[str, Any]], limit: int = 60) -> None:
    """Tab until `target` has the focus, recording every stop on the way."""
    for _ in range(limit):
        now = press(tab, "Tab")
        assert now is not None, f"Tab left the page before {target}: {trail[-3:]}"
        trail.append(now)
        if now["id"] == target:
            return
    raise AssertionError(f"{target} not reached in {limit} Tabs: {[t['id'] for t in trail]}")


def type_here(tab: Tab, field: str, text: str) -> None:
    now = focused(tab)
    assert now is not None and now["id"] == field, (field, now)
    tab.page.keyboard.type(text)


def enter_and_wait(tab: Tab, label: str) -> None:
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    tab.shot(label)


def _cases(live_server: Any) -> int:
    with live_server.db() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


@pytest.mark.parametrize(("lang", "width", "js"), [("id", 1280, True), ("en", 375, False)],
                         ids=["id-1280", "en-375-nojs"])
def test_the_report_form_with_the_keyboard_alone(lang: str, width: int, js: bool,
                                                 open_tab: Callable[..., Tab],
                                                 live_server: Any, axe_ready: None) -> None:
    started = time.monotonic()
    tab = open_tab(lang=lang, width=width, js=js)
    page = tab.page
    walk = Walk(copy=True)
    before = _cases(live_server)
    tab.goto("/lapor", "form")
    walk.check(tab, "form")

    # From the top: the skip link first, then the header, then the form in its order.
    trail: list[dict[str, Any]] = []
    tab_to(tab, "send", trail)
    ids = [t["id"] for t in trail]
    assert trail[0]["cls"] == "skip", f"the first Tab stop is not the skip link: {trail[0]}"
    form_stops = [i for i in ids if i in FORM_ORDER]
    assert form_stops == FORM_ORDER, f"form order by Tab: {ids}"
    no_ring = [t["id"] for t in trail if not t["ring"]]
    hidden = [t["id"] for t in trail if not t["shown"]]
    assert not no_ring, f"no visible focus ring on: {no_ring}"
    assert not hidden, f"focus on something not shown: {hidden}"
    form_y = [(t["id"], t["y"]) for t in trail if t["id"] in FORM_ORDER]
    assert form_y == sorted(form_y, key=lambda s: s[1]), f"focus jumps up the page: {form_y}"

    # Shift+Tab walks back the same way.
    back = [press(tab, "Shift+Tab") for _ in range(3)]
    assert [b["id"] for b in back if b] == ["mode-anon", "files", "how"], back

    # Back to the top of the form: the kind, chosen with Space.
    tab.goto("/lapor", "form-again")
    trail = []
    tab_to(tab, "kind-whistleblowing", trail)
    now = press(tab, "Space")
    assert now and now["id"] == "kind-whistleblowing" and now["checked"]
    tab_to(tab, "send", trail)
    enter_and_wait(tab, "errors")
    assert _cases(live_server) == before, "an incomplete form was filed"
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.get_attribute("role") == "alert"
    now = focused(tab)
    assert now is not None and now["summary"] and now["ring"], (
        f"after the error page loads the focus is on {now}, not the error summary")
    walk.check(tab, "errors")
    first = press(tab, "Tab")
    assert first and first["inAlert"] and first["tag"] == "a", first
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#title"
    page.keyboard.press("Enter")
    now = focused(tab)
    assert now is not None and now["id"] == "title", f"the error link led to {now}"
    assert page.is_checked("#kind-whistleblowing")  # the choice survived the error

    # The missing fields typed where the focus is, the file through the chooser, Enter.
    type_here(tab, "title", TYPED["title"])
    for field in FORM_ORDER[FORM_ORDER.index("what"):FORM_ORDER.index("send")]:
        tab_to(tab, field, trail, limit=3)
        if field in TYPED:
            type_here(tab, field, TYPED[field])
        elif field == "files":
            with page.expect_file_chooser() as chooser:
                page.keyboard.press("Space")
            chooser.value.set_files(files=[EVIDENCE])
    tab_to(tab, "send", trail, limit=3)
    enter_and_wait(tab, "receipt")
    assert tab.path() == "/lapor/tanda-terima"
    code = page.locator(".code-box").inner_text().strip()
    number = page.locator("dl.facts dd").first.inner_text().strip()
    assert len(code) == 29
    walk.check(tab, "receipt")
    assert _cases(live_server) == before + 1
    with live_server.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
        files = session.scalar(select(func.count()).select_from(Attachment)
                               .where(Attachment.case_id == case.id))
        assert case.kind == "whistleblowing" and files == 1
    # The receipt's buttons are reached by Tab as well: close it with Enter.
    tab_to(tab, f"button:{page.locator('.actions button').inner_text().strip()[:30]}", trail)
    enter_and_wait(tab, "receipt-closed")
    assert tab.path() == "/"
    walk.check(tab, "home")
    walk.close()
    assert not walk.problems, "\n".join(walk.problems)
    print(f"\n[keyboard {tab.variant}] {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize(("lang", "js"), [("id", False), ("en", True)], ids=["id-nojs", "en"])
def test_a_mistyped_code_with_the_keyboard_alone(lang: str, js: bool,
                                                 open_tab: Callable[..., Tab],
                                                 live_server: Any, axe_ready: None) -> None:
    """The one code box: a mistyped code gets an error summary that has the focus; its link
    leads to the code, kept as typed; one character corrected, Enter opens the mailbox."""
    from tests.functional.workflow_helpers import file_report

    filed = file_report(live_server.ctx)
    tab = open_tab(lang=lang, width=375, js=js)
    page = tab.page
    walk = Walk(copy=True)
    tab.goto("/kotak-pesan", "code-box")
    walk.check(tab, "code box")
    trail: list[dict[str, Any]] = []
    tab_to(tab, "code", trail)
    wrong = filed.code[:-1] + ("0" if filed.code[-1] != "0" else "1")
    type_here(tab, "code", wrong)
    enter_and_wait(tab, "code-not-found")
    assert page.locator(".error-summary").is_visible()
    now = focused(tab)
    assert now is not None and now["summary"] and now["ring"], (
        f"after the error page loads the focus is on {now}, not the error summary")
    walk.check(tab, "code not found")
    link = press(tab, "Tab")
    assert link and link["inAlert"] and link["tag"] == "a", link
    page.keyboard.press("Enter")
    now = focused(tab)
    assert now is not None and now["id"] == "code", f"the error link led to {now}"
    assert page.input_value("#code") == wrong  # kept, to correct one character
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.type(filed.code[-1])
    enter_and_wait(tab, "mailbox")
    assert tab.path() == "/kotak-pesan" and page.locator("#msgs-title").count() == 1
    walk.check(tab, "mailbox")
    walk.close()
    assert not walk.problems, "\n".join(walk.problems)


def test_the_confidential_step_with_the_keyboard(open_tab: Callable[..., Tab],
                                                 live_server: Any, axe_ready: None) -> None:
    """Choosing "confidentially" opens the identity fields (CSS alone) right after the choice in
    the Tab order; the report is filed with the identity sealed. Moving between the two radios
    of one group takes an arrow key: that is how a radio group works (Space only checks the
    one that has the focus)."""
    tab = open_tab(lang="id", width=375, js=False)
    page = tab.page
    walk = Walk(copy=True)
    tab.goto("/lapor", "form")
    trail: list[dict[str, Any]] = []
    tab_to(tab, "kind-whistleblowing", trail)
    page.keyboard.press("Space")
    tab_to(tab, "title", trail, limit=1)
    type_here(tab, "title", TYPED["title"])
    tab_to(tab, "what", trail, limit=1)
    type_here(tab, "what", TYPED["what"])
    tab_to(tab, "mode-anon", trail)
    now = press(tab, "ArrowDown")
    assert now and now["id"] == "mode-conf" and now["checked"], now
    tab.shot("confidential")
    walk.check(tab, "confidential")
    identity = ["identity_name", "identity_nip", "identity_address", "identity_phone",
                "identity_email", "identity_occupation"]
    stops = []
    for _ in range(len(identity) + 1):
        now = press(tab, "Tab")
        assert now is not None and now["shown"] and now["ring"], now
        stops.append(now["id"])
    assert stops == [*identity, "send"], stops
    for _ in range(len(identity)):
        press(tab, "Shift+Tab")
    type_here(tab, "identity_name", "Siti Aminah")
    tab_to(tab, "send", trail, limit=len(identity))
    enter_and_wait(tab, "receipt")
    number = page.locator("dl.facts dd").first.inner_text().strip()
    with live_server.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
        assert case.identity_provided and case.identity_sealed is not None
        assert b"Siti Aminah" not in bytes(case.identity_sealed)
    walk.check(tab, "receipt")
    walk.close()
    assert not walk.problems, "\n".join(walk.problems)
