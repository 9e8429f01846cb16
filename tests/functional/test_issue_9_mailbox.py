"""Issue 9, the reporter's mailbox over HTTP: blocker 1 (an objection became an acceptance),
5 (one place for the code), 7 (calm expiry) and the mailbox part of 8.

The browser walk of blocker 1 is tests/e2e/test_mailbox_flows.py; these drive the same rules
through the real app without a browser, so they also run where Chromium is missing.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.workflow_helpers import (
    ANSWER,
    Driver,
    Filed,
    staff_team,
    state_of,
)
from wbs.enums import CaseState
from wbs.models import Message

REASON = "Pungutan itu masih terjadi minggu lalu."


def _reporter(app: Any) -> Any:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _answered(ctx: Any, demo: Any, clock: Clock) -> Filed:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    staff = {"verifier": team["verifikator"], "liaison": team["penghubung.kesehatan"]}
    return Driver(ctx, staff).build("local", CaseState.ANSWERED)


def _mailbox(app: Any, code: str) -> Any:
    browser = _reporter(app)
    token = csrf_from(browser, "/kotak-pesan")
    opened = browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code})
    assert opened.status_code == 303
    return browser


def _respond(browser: Any, **data: str) -> Any:
    token = csrf_from(browser, "/kotak-pesan")
    return browser.post("/kotak-pesan/tanggapan", data={"csrf_token": token, **data})


def _checked(html: str) -> list[str]:
    return re.findall(r'name="response" value="([a-z]+)" checked', html)


# --- blocker 1 ------------------------------------------------------------------------------

def test_blocker_1_nothing_is_chosen_and_the_answer_is_above_the_choice(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    page = _mailbox(app, case.code).get("/kotak-pesan").text
    assert 'name="response"' in page and _checked(page) == []
    respond = page[page.index('id="respond"'):]
    assert respond.index(ANSWER) < respond.index("<fieldset")


def test_blocker_1_an_objection_without_reason_keeps_choice_and_text_and_does_nothing(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    refused = _respond(browser, response="object", text="  ")
    assert refused.status_code == 400
    assert _checked(refused.text) == ["object"]
    assert 'class="error-summary"' in refused.text and 'href="#r-text"' in refused.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    # A reason too short is kept as typed, with the choice.
    short = _respond(browser, response="reexamine", text="Ndak")
    assert short.status_code == 400 and _checked(short.text) == ["reexamine"]
    assert ">Ndak</textarea>" in short.text
    # No choice at all: asked to choose, the text kept, nothing chosen for the reporter.
    none = _respond(browser, text=REASON)
    assert none.status_code == 400 and _checked(none.text) == []
    assert f">{REASON}</textarea>" in none.text and 'href="#r-accept"' in none.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value


def test_blocker_1_a_complete_response_is_confirmed_before_it_acts(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    for choice, consequence in (("accept", "kasus akan ditutup"),
                                ("object", "keberatan"), ("apip", "Inspektorat")):
        asked = _respond(browser, response=choice, text=REASON)
        assert asked.status_code == 200 and 'id="confirm-response"' in asked.text
        assert consequence in asked.text.lower() or consequence in asked.text
        assert f'name="response" value="{choice}"' in asked.text
        assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    # "Change it" brings the mailbox back with the choice and the text as they were.
    back = _respond(browser, response="object", text=REASON, step="edit")
    assert back.status_code == 200 and _checked(back.text) == ["object"]
    assert f">{REASON}</textarea>" in back.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    done = _respond(browser, response="object", text=REASON, step="confirm")
    assert done.status_code == 303
    assert state_of(ctx, case.number) == CaseState.IN_PROCESS.value
    with ctx.db() as s:
        kinds = list(s.scalars(select(Message.kind).order_by(Message.id)))
    assert kinds[-1] == "objection"


def test_blocker_1_a_confirmed_acceptance_closes_the_case(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    assert _respond(browser, response="accept", step="confirm").status_code == 303
    assert state_of(ctx, case.number) == CaseState.CLOSED.value
