"""The reporter's mailbox in the browser (issue 9, blocker 1 and items 5 and 7).

Blocker 1: "accept" was pre-selected; a reporter who chose "object" and forgot the reason got an
error page with the choice reset to "accept", and sending again (reason now typed) accepted the
answer and closed the case for good. Here a reporter does exactly that, with and without
JavaScript, on a phone and at a desk: the objection must survive the error, nothing irreversible
may happen before a confirmation page that names it, and the case must stay open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e import staff_world
from tests.e2e.conftest import Tab
from tests.functional.workflow_helpers import ROLE_USERS, Driver, Filed, state_of
from wbs.enums import CaseState

pytestmark = pytest.mark.e2e

REASON = "Jawaban belum menjawab pertanyaan saya tentang pungutan."


def answered_case(live_server: Any) -> Filed:
    staff = {role: staff_world.sign_in(live_server, ROLE_USERS[role])[1]
             for role in ("verifier", "liaison")}
    return Driver(live_server.ctx, staff).build("local", CaseState.ANSWERED)


def open_mailbox(tab: Tab, code: str) -> None:
    tab.goto("/kotak-pesan", "mailbox-sign-in")
    tab.page.fill("#code", code)
    tab.submit(tab.page.locator("main form button[type=submit]").first, "mailbox")


@pytest.mark.parametrize(("lang", "width", "js"), [("id", 375, False), ("en", 1280, True)],
                         ids=["id-375-nojs", "en-1280-js"])
def test_an_objection_survives_a_missing_reason_and_never_becomes_an_acceptance(
        lang: str, width: int, js: bool, open_tab: Callable[..., Tab],
        live_server: Any) -> None:
    case = answered_case(live_server)
    tab = open_tab(lang=lang, width=width, js=js)
    open_mailbox(tab, case.code)
    page = tab.page
    responses = page.locator("input[name=response]")
    assert responses.count() >= 3
    preselected = [responses.nth(i).get_attribute("value") for i in range(responses.count())
                   if responses.nth(i).is_checked()]
    form = page.locator('form[action="/kotak-pesan/tanggapan"]')
    # The answer is shown above the choice, where the decision is made.
    answer = page.locator("#respond .answer")
    answer_above = (answer.count() == 1 and "Pungutan telah dihentikan" in answer.inner_text()
                    and answer.bounding_box()["y"] < form.locator("fieldset").bounding_box()["y"])

    page.check("#r-object")
    tab.submit(form.locator("button[type=submit]"), "objection-without-reason")
    # The error page keeps the objection chosen and says what is missing, at the top.
    object_kept = page.is_checked("#r-object")
    accept_chosen = page.is_checked("#r-accept")
    summary = page.locator(".error-summary")
    summary_shown = summary.count() == 1 and summary.is_visible()

    # The reporter types the reason and sends again, as in the issue.
    page.fill("#r-text", REASON)
    tab.submit(form.locator("button[type=submit]"), "objection-with-reason")
    confirm = page.locator("#confirm-response")
    confirmation_shown = confirm.count() == 1
    if confirmation_shown:
        shown = confirm.inner_text()
        assert REASON in shown
        tab.submit(confirm.locator("button[value=confirm]"), "objection-confirmed")

    state = state_of(live_server.ctx, case.number)
    assert state != CaseState.CLOSED.value, "the objection became an acceptance: case closed"
    assert state == CaseState.IN_PROCESS.value
    assert object_kept and not accept_chosen, "the error page reset the choice"
    assert preselected == [], f"pre-selected for the reporter: {preselected}"
    assert answer_above, "the answer is not shown above the choice"
    assert summary_shown
    assert confirmation_shown, "no confirmation before an irreversible response"


def test_the_confirmation_names_what_happens_and_going_back_changes_nothing(
        open_tab: Callable[..., Tab], live_server: Any) -> None:
    case = answered_case(live_server)
    tab = open_tab(lang="en", width=375, js=False)
    open_mailbox(tab, case.code)
    page = tab.page
    page.check("#r-accept")
    tab.submit(page.locator("#respond button[type=submit]"), "accept-chosen")
    confirm = page.locator("#confirm-response")
    assert "closed" in confirm.inner_text() and "cannot" in confirm.inner_text()
    assert state_of(live_server.ctx, case.number) == CaseState.ANSWERED.value
    tab.submit(confirm.locator("button[value=edit]"), "changed-mind")
    assert page.is_checked("#r-accept")  # back on the mailbox, the choice still shown
    page.check("#r-reexamine")
    page.fill("#r-text", REASON)
    tab.submit(page.locator("#respond button[type=submit]"), "reexamine-chosen")
    tab.submit(page.locator("#confirm-response button[value=confirm]"), "reexamine-confirmed")
    assert state_of(live_server.ctx, case.number) == CaseState.IN_PROCESS.value
    assert "recorded" in page.inner_text("main")


def test_one_code_box_on_the_home_page_keeps_a_mistyped_code_and_opens_the_mailbox(
        open_tab: Callable[..., Tab], live_server: Any) -> None:
    staff = {role: staff_world.sign_in(live_server, ROLE_USERS[role])[1]
             for role in ("verifier", "liaison")}
    case = Driver(live_server.ctx, staff).build("local", CaseState.NEEDS_INFO)
    tab = open_tab(lang="id", width=375, js=False)
    page = tab.page
    tab.goto("/", "home")
    box = page.locator("#home-code")
    assert box.get_attribute("autocapitalize") == "characters"
    assert box.get_attribute("aria-label") is None
    typo = case.code[:-1] + ("0" if case.code[-1] != "0" else "1")
    box.fill(typo)
    tab.submit(page.locator("main form button[type=submit]").first, "code-not-found")
    assert page.input_value("#code") == typo  # kept, to correct one character
    assert typo not in page.url and typo.replace("-", "") not in page.url
    assert all(typo not in c["value"] for c in page.context.cookies())
    page.fill("#code", case.code)
    tab.submit(page.locator("main form button[type=submit]").first, "mailbox")
    assert tab.path() == "/kotak-pesan"
    status = page.locator("#status-title").bounding_box()
    messages = page.locator("#msgs-title").bounding_box()
    assert status and messages and status["y"] < messages["y"]
    assert "1 pesan baru dari petugas" in page.inner_text("main")
    assert case.number not in page.title()


def test_an_idle_mailbox_gives_the_typed_message_back_to_send_after_signing_in_again(
        open_tab: Callable[..., Tab], live_server: Any) -> None:
    from sqlalchemy import func, select

    from tests.functional.workflow_helpers import file_report
    from wbs.models import Case, Message

    filed = file_report(live_server.ctx)

    def messages() -> int:
        with live_server.db() as s:
            return int(s.scalar(select(func.count(Message.id)).join(Case)
                                .where(Case.case_number == filed.number)) or 0)

    tab = open_tab(lang="en", width=375, js=False)
    page = tab.page
    open_mailbox(tab, filed.code)
    text = "The treasurer asks for a deposit every Friday;\nreceipts are kept in a drawer."
    page.fill("#body", text)
    live_server.clock.advance(seconds=live_server.ctx.settings.reporter_session_idle_seconds
                              + 60)
    tab.submit(page.locator('form[action="/kotak-pesan/pesan"] button[type=submit]'),
               "session-ended")
    main = page.inner_text("main")
    assert "Your session ended" in main and "30 minutes" in main
    assert "refused" not in main.lower() and "recorded" not in main.lower()
    assert page.input_value("#kept-body") == text and messages() == 0
    page.fill("#code", filed.code)
    tab.submit(page.locator("main form button[type=submit]").first, "signed-in-again")
    assert page.input_value("#body") == text and messages() == 0
    tab.submit(page.locator('form[action="/kotak-pesan/pesan"] button[type=submit]'), "sent")
    assert "Your message was sent." in page.inner_text("main") and messages() == 1
