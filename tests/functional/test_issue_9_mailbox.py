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

NEEDS_INFO_LABEL = "<strong>Tertunda</strong>"
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
    # The answer the page showed: a confirmation is for that answer only (review 9).
    seen = re.search(r'name="answer" value="(\d+)"', browser.get("/kotak-pesan").text)
    answer = {"answer": seen.group(1)} if seen else {}
    return browser.post("/kotak-pesan/tanggapan",
                        data={"csrf_token": token, **answer, **data})


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


# --- 5. one place for the code --------------------------------------------------------------

CODE_INPUT = re.compile(r'<input id="([a-z-]*code)" name="code"[^>]*>')


def _code_inputs(html: str) -> list[str]:
    return [m.group(0) for m in CODE_INPUT.finditer(html)]


def test_5_every_code_box_is_typed_for_a_code_and_described_by_its_hint(
        app: Any, client: TestClient) -> None:
    token = csrf_from(client, "/")
    pages = {path: client.get(path).text for path in ("/", "/status", "/kotak-pesan")}
    pages["not found"] = client.post("/kotak-pesan/masuk",
                                     data={"csrf_token": token, "code": "ABCD"}).text
    for name, html in pages.items():
        boxes = _code_inputs(html)
        assert len(boxes) == 1, name
        box = boxes[0]
        for attribute in ('autocapitalize="characters"', 'autocorrect="off"',
                          'autocomplete="off"', 'spellcheck="false"'):
            assert attribute in box, (name, attribute)
        # The hint describes the box, and no aria-label hides the code from a screen reader.
        hint_id = re.search(r'aria-describedby="([^"]+)"', box)
        assert hint_id and f'id="{hint_id.group(1)}"' in html and "ABCD-EFGH" in html, name
        assert "aria-label" not in box, name
        # One box for status and mailbox: every one of them opens the mailbox.
        form = html[:html.index(box)].rsplit("<form", 1)[1]
        assert 'action="/kotak-pesan/masuk"' in form, name


def test_5_a_code_not_found_stays_typed_but_never_in_a_url_cookie_or_log(
        app: Any, client: TestClient, caplog: Any) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    typo = "7K3Q-ZZZZ-ABCD-EFGH-JKMN-PQRX"
    token = csrf_from(client, "/kotak-pesan")
    for path in ("/kotak-pesan/masuk", "/status"):
        r = client.post(path, data={"csrf_token": token, "code": typo})
        assert r.status_code == 404
        assert f'value="{typo}"' in r.text and 'aria-invalid="true"' in r.text
        assert 'class="error-summary"' in r.text and 'href="#code"' in r.text
        assert typo not in str(r.url) and "location" not in r.headers
        assert all(typo not in v and typo.replace("-", "") not in v
                   for k, v in r.headers.multi_items() if k.lower() == "set-cookie")
    assert all(typo not in record.getMessage() and typo not in str(record.__dict__)
               for record in caplog.records)


def test_5_the_mailbox_shows_the_status_on_top_and_counts_new_messages(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    staff = {"verifier": team["verifikator"], "liaison": team["penghubung.kesehatan"]}
    case = Driver(ctx, staff).build("local", CaseState.NEEDS_INFO)
    browser = _mailbox(app, case.code)
    page = browser.get("/kotak-pesan").text
    status = page.index('id="status-title"')
    assert status < page.index('id="msgs-title"')
    assert NEEDS_INFO_LABEL in page[status:page.index('id="msgs-title"')]
    assert "1 pesan baru dari petugas" in page and 'href="#msgs-title"' in page
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/pesan", data={"csrf_token": token,
                                                     "body": "Foto kuitansi menyusul."}
                        ).status_code == 303
    assert "pesan baru dari petugas" not in browser.get("/kotak-pesan").text
    english = browser.get("/kotak-pesan", headers={"Accept-Language": "en"}).text
    assert "new message" not in english
    # The status on top speaks the page's language, dates included.
    top = english[english.index('id="status-title"'):english.index('id="msgs-title"')]
    assert not re.search(r"Januari|Februari|Maret|Mei|Juni|Juli|Agustus|Oktober|Desember", top)
    assert re.search(r"\d{1,2} (January|February|March|April|May|June|July|August|September"
                     r"|October|November|December) \d{4}", top)


def test_5_old_status_links_keep_working(app: Any, client: TestClient, ctx: Any,
                                         demo: Any) -> None:
    from tests.functional.workflow_helpers import file_report

    filed = file_report(ctx)
    page = client.get("/status")
    assert page.status_code == 200 and 'action="/kotak-pesan/masuk"' in page.text
    token = csrf_from(client, "/status")
    shown = client.post("/status", data={"csrf_token": token, "code": filed.code})
    assert shown.status_code == 200 and filed.number in shown.text
    # Titles land in the browser's history: no case number there (item 8).
    assert filed.number not in shown.text.split("<title>")[1].split("</title>")[0]


# --- 7. calm expiry -------------------------------------------------------------------------

def _expire(clock: Clock, ctx: Any) -> None:
    clock.advance(seconds=ctx.settings.reporter_session_idle_seconds + 60)


def test_7_a_message_typed_as_the_session_ends_is_given_back_never_stored(
        app: Any, ctx: Any, demo: Any, clock: Clock, db_url: str) -> None:
    from tests.functional.workflow_helpers import file_report

    filed = file_report(ctx)
    browser = _mailbox(app, filed.code)
    token = csrf_from(browser, "/kotak-pesan")
    canary = "Kanari-7f3a: bendahara meminta setoran tiap Jumat."
    _expire(clock, ctx)
    ended = browser.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": canary})
    assert ended.status_code == 403  # nothing was done
    assert "Sesi Anda telah berakhir" in ended.text and "30 menit" in ended.text
    assert "Akses ditolak" not in ended.text and "dicatat" not in ended.text
    assert f">{canary}</textarea>" in ended.text  # the text is in the page, to send again
    with ctx.db() as s:
        assert list(s.scalars(select(Message.id))) == []
    if db_url.startswith("sqlite"):
        path = db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                data = open(path + suffix, "rb").read()  # noqa: SIM115
            except FileNotFoundError:
                continue
            assert canary.encode() not in data
    # Signing in again puts the text back in the message box, not sent.
    again = browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": filed.code,
                                                       "body": canary})
    assert again.status_code == 200
    box = again.text[again.text.index('id="body"'):]
    assert box.index(f">{canary}</textarea>") < box.index("</form>")
    with ctx.db() as s:
        assert list(s.scalars(select(Message.id))) == []
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": canary}
                        ).status_code == 303
    with ctx.db() as s:
        assert len(list(s.scalars(select(Message.id)))) == 1


def test_7_a_response_survives_the_end_of_the_session_with_its_choice(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    token = csrf_from(browser, "/kotak-pesan")
    _expire(clock, ctx)
    ended = browser.post("/kotak-pesan/tanggapan", data={
        "csrf_token": token, "response": "object", "text": REASON, "step": "confirm"})
    assert ended.status_code == 403 and f">{REASON}</textarea>" in ended.text
    assert 'name="response" value="object"' in ended.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value
    again = browser.post("/kotak-pesan/masuk", data={
        "csrf_token": token, "code": case.code, "response": "object", "text": REASON})
    assert again.status_code == 200 and _checked(again.text) == ["object"]
    assert f">{REASON}</textarea>" in again.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value  # confirmed only by hand


def test_7_an_ended_session_on_upload_or_download_says_so_calmly(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    from tests.functional.workflow_helpers import file_report

    filed = file_report(ctx)
    browser = _mailbox(app, filed.code)
    token = csrf_from(browser, "/kotak-pesan")
    _expire(clock, ctx)
    for response in (
            browser.post("/kotak-pesan/lampiran", data={"csrf_token": token},
                         files=[("files", ("a.txt", b"isi", "text/plain"))]),
            browser.get("/kotak-pesan/lampiran/1")):
        assert response.status_code == 403
        assert "Sesi Anda telah berakhir" in response.text
        assert 'action="/kotak-pesan/masuk"' in response.text


# --- 8. titles and the identity form's errors -------------------------------------------------

def test_8_mailbox_titles_hold_no_case_number(app: Any, ctx: Any, demo: Any,
                                              clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    pages = [browser.get("/kotak-pesan").text,
             _respond(browser, response="accept").text,
             _respond(browser, response="object").text]
    for html in pages:
        title = html.split("<title>")[1].split("</title>")[0]
        assert case.number not in title and case.number.split("-")[-1] not in title
    assert case.number in pages[0]  # on the page itself, where it helps


def test_8_the_identity_form_shows_its_errors_at_the_top(app: Any, ctx: Any,
                                                        demo: Any) -> None:
    from tests.functional.workflow_helpers import file_report

    filed = file_report(ctx)
    browser = _mailbox(app, filed.code)
    token = csrf_from(browser, "/kotak-pesan")
    r = browser.post("/kotak-pesan/identitas", data={
        "csrf_token": token, "identity_email": "bukan-email", "identity_nip": "12ab"})
    assert r.status_code == 400
    section = r.text[r.text.index('id="id-title"'):]
    summary = section.index('class="error-summary"')
    assert summary < section.index('name="identity_name"')
    for field in ("identity_name", "identity_email", "identity_nip"):
        assert f'href="#{field}"' in section[summary:section.index("<form")]
    assert 'value="bukan-email"' in section  # what was typed stays


def test_blocker_1_the_language_switch_on_a_mailbox_result_page_leads_back_to_the_mailbox(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    case = _answered(ctx, demo, clock)
    browser = _mailbox(app, case.code)
    # A result page of a mailbox POST (here: a response without a choice). The confirmation
    # page has its own switch that keeps the pending response
    # (tests/functional/test_finish_9_confirm_language.py).
    asked = _respond(browser, response="")
    token = re.search(r'name="csrf_token" value="([^"]+)"', asked.text)
    assert token and 'name="next" value="/kotak-pesan/tanggapan"' in asked.text
    switched = browser.post("/bahasa", data={"csrf_token": token.group(1), "lang": "en",
                                             "next": "/kotak-pesan/tanggapan"})
    landed = browser.get(switched.headers["location"])
    assert landed.status_code == 303 and landed.headers["location"] == "/kotak-pesan"
    page = browser.get("/kotak-pesan")
    assert page.status_code == 200 and "Your response to the answer" in page.text
    assert state_of(ctx, case.number) == CaseState.ANSWERED.value


def test_8_the_home_page_advises_a_private_window_and_no_code_box_has_an_aria_label(
        app: Any, client: TestClient, ctx: Any, demo: Any) -> None:
    from wbs.cases import intake
    from wbs.enums import Channel, ReportKind

    home = client.get("/").text
    assert "jendela pribadi (incognito)" in home
    english = client.get("/", headers={"Accept-Language": "en"}).text
    assert "private (incognito) window" in english
    # The page showing a replaced code: the code itself is what a screen reader must read.
    letter = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Surat", what="Isi surat.")
    old = intake.submit(ctx, letter, [], Channel.LETTER, entered_by="verifikator").code
    token = csrf_from(client, "/kotak-pesan")
    asked = client.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": old})
    assert 'action="/kotak-pesan/kode-baru"' in asked.text
    shown = client.post("/kotak-pesan/kode-baru", data={"csrf_token": token, "code": old})
    box = re.search(r'<p class="code-box"[^>]*>', shown.text)
    assert box and "aria-label" not in box.group(0)


def test_5_a_staff_issued_code_in_the_one_code_box_shows_the_status_before_the_replacement(
        app: Any, client: TestClient, ctx: Any, demo: Any) -> None:
    from wbs.cases import intake
    from wbs.enums import Channel, ReportKind

    letter = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Surat", what="Isi surat.")
    filed = intake.submit(ctx, letter, [], Channel.LETTER, entered_by="verifikator")
    token = csrf_from(client, "/")
    page = client.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": filed.code})
    assert page.status_code == 200
    assert filed.case_number in page.text and "Belum Terverifikasi" in page.text
    assert page.text.index("Belum Terverifikasi") < page.text.index(
        'action="/kotak-pesan/kode-baru"')
    assert filed.case_number not in page.text.split("<title>")[1].split("</title>")[0]


def test_7_an_identity_typed_as_the_session_ends_comes_back_in_its_form(
        app: Any, ctx: Any, demo: Any, clock: Clock) -> None:
    from tests.functional.workflow_helpers import file_report

    filed = file_report(ctx)
    browser = _mailbox(app, filed.code)
    token = csrf_from(browser, "/kotak-pesan")
    _expire(clock, ctx)
    identity = {"identity_name": "Siti Rahma", "identity_phone": "0812 3456 7890"}
    ended = browser.post("/kotak-pesan/identitas", data={"csrf_token": token, **identity})
    assert ended.status_code == 403 and "Sesi Anda telah berakhir" in ended.text
    assert 'name="identity_name" value="Siti Rahma"' in ended.text
    again = browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": filed.code,
                                                       **identity})
    assert again.status_code == 200
    form = again.text[again.text.index('action="/kotak-pesan/identitas"'):]
    assert 'value="Siti Rahma"' in form and 'value="0812 3456 7890"' in form
    from tests.functional.workflow_helpers import case_row

    assert not case_row(ctx, filed.number).identity_provided  # given back, not sealed yet
