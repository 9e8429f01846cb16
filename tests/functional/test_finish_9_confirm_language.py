"""Issue 9, item 1: changing the language on the mailbox's confirmation page keeps the response.

The language switch of every page leads back to the page's address with a GET; for the
confirmation page (the answer to a POST) that was the mailbox, with the reporter's choice and
explanation gone. The switch on that page now posts the pending response with it and shows the
same confirmation in the other language; it stores nothing and acts on nothing.
"""

from __future__ import annotations

import html
import re
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.workflow_helpers import Driver, staff_team, state_of
from wbs.enums import CaseState

REASON = "Pungutan itu masih terjadi minggu lalu,\ndi loket yang sama & oleh petugas <yang sama>."


def _form(page: str, marker: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form whose tag contains `marker`."""
    start = page.index(marker)
    tag_start = page.rindex("<form", 0, start)
    form = page[tag_start:page.index("</form>", start)]
    action = re.search(r'action="([^"]*)"', form)
    assert action is not None
    return html.unescape(action.group(1)), {
        name: html.unescape(value) for name, value in re.findall(
            r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form)}


def _row_counts(ctx: Any) -> dict[str, int]:
    with ctx.read() as session:
        tables = sa.MetaData()
        tables.reflect(bind=session.get_bind())
        return {t.name: session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in tables.sorted_tables}


def test_finish_9_language_switch_on_confirmation_keeps_choice_and_text(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    case = Driver(ctx, {"verifier": team["verifikator"],
                        "liaison": team["penghubung.kesehatan"]}).build(
        "local", CaseState.ANSWERED)
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/masuk",
                        data={"csrf_token": token, "code": case.code}).status_code == 303
    mailbox = browser.get("/kotak-pesan").text
    _, respond = _form(mailbox, 'action="/kotak-pesan/tanggapan"')
    confirm = browser.post("/kotak-pesan/tanggapan",
                           data={**respond, "response": "object", "text": REASON})
    assert 'id="confirm-response"' in confirm.text and "Pastikan tanggapan Anda" in confirm.text
    before = _row_counts(ctx)

    action, fields = _form(confirm.text, 'class="lang-switch"')
    switched = browser.post(action, data={**fields, "lang": "en"})

    assert switched.status_code == 200, switched.headers.get("location")
    assert 'id="confirm-response"' in switched.text, "the switch left the confirmation page"
    assert '<html lang="en"' in switched.text
    assert "You object to the answer." in switched.text
    assert html.escape(REASON) in switched.text
    _, pending = _form(switched.text, 'name="step" value="confirm"')
    assert pending["response"] == "object" and pending["text"] == REASON
    assert "wbs-lang=en" in switched.headers.get("set-cookie", "")
    # Nothing stored, nothing acted on: the case waits for the reporter's "yes".
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    assert _row_counts(ctx) == before
    # And back: the other language again, still the same pending response; then "yes" acts.
    action, fields = _form(switched.text, 'class="lang-switch"')
    back = browser.post(action, data={**fields, "lang": "id"})
    assert "Pastikan tanggapan Anda" in back.text and html.escape(REASON) in back.text
    _, pending = _form(back.text, 'name="step" value="confirm"')
    done = browser.post("/kotak-pesan/tanggapan", data={**pending, "step": "confirm"})
    assert done.status_code == 303
    assert state_of(ctx, case.number) != CaseState.ANSWERED.value


def test_finish_9_other_pages_keep_the_plain_language_switch(app: Any) -> None:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = browser.get("/lapor").text
    action, fields = _form(page, 'class="lang-switch"')
    assert action == "/bahasa" and fields["next"] == "/lapor" and "step" not in fields
