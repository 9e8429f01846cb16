"""Review of issue 9, blocker 1: a confirmation page that outlived the answer it confirms.

The confirmation step named what would happen ("the case will be closed") but not which answer
was being accepted. A reporter who left that page open in one tab, objected in another, and
later (after the officials answered again) pressed "Yes, accept" on the old page accepted an
answer they had never seen, and the case closed for good. The confirmation now carries the
answer it was made for, and the act is refused (the mailbox shown again, with the new answer,
the choice and the text kept) when the case's latest answer is another one.
"""

from __future__ import annotations

import html
import re
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.workflow_helpers import Driver, staff_team, state_of
from wbs.cases import routing
from wbs.enums import CaseState

NEW_ANSWER = "Setelah keberatan: pungutan sebagian dikembalikan, sebagian masih diperiksa."
REASON = "Pungutan itu masih terjadi minggu lalu."


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page)}


def test_review_9_a_stale_confirmation_does_not_accept_a_newer_answer(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    liaison = team["penghubung.kesehatan"]
    case = Driver(ctx, {"verifier": team["verifikator"], "liaison": liaison}).build(
        "local", CaseState.ANSWERED)
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/masuk",
                        data={"csrf_token": token, "code": case.code}).status_code == 303
    mailbox = browser.get("/kotak-pesan").text
    form = mailbox[mailbox.index('action="/kotak-pesan/tanggapan"'):]
    first = {**_hidden(form.split("</form>")[0]), "response": "accept"}
    # Tab A: "I accept" -> the confirmation page, left open.
    stale = browser.post("/kotak-pesan/tanggapan", data=first)
    assert 'id="confirm-response"' in stale.text
    confirm_a = _hidden(stale.text)
    # Tab B: an objection, confirmed; the officials answer again.
    asked = browser.post("/kotak-pesan/tanggapan",
                         data={**first, "response": "object", "text": REASON})
    assert browser.post("/kotak-pesan/tanggapan",
                        data={**_hidden(asked.text), "step": "confirm"}).status_code == 303
    routing.answer(ctx, liaison, case.number, NEW_ANSWER)
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    # Tab A, much later: "Yes, accept and close the case" on the old page.
    late = browser.post("/kotak-pesan/tanggapan", data={**confirm_a, "step": "confirm"})
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value, \
        "an answer the reporter never saw was accepted and the case closed"
    assert late.status_code == 409
    assert NEW_ANSWER in late.text  # the new answer is shown above the choice
    assert re.findall(r'name="response" value="([a-z]+)" checked', late.text) == ["accept"]
    # A confirmation without the answer it confirms (a forged or pre-review form) acts neither.
    bare = {k: v for k, v in confirm_a.items() if k != "answer"}
    assert browser.post("/kotak-pesan/tanggapan",
                        data={**bare, "step": "confirm"}).status_code == 409
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    # Confirmed from a page showing the new answer, it acts.
    fresh = browser.post("/kotak-pesan/tanggapan",
                         data={**_hidden(late.text.split('action="/kotak-pesan/tanggapan"')[1]
                                         .split("</form>")[0]), "response": "accept"})
    done = browser.post("/kotak-pesan/tanggapan", data={**_hidden(fresh.text), "step": "confirm"})
    assert done.status_code == 303
    assert state_of(ctx, case.number) == CaseState.CLOSED.value
