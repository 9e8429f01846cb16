"""Issue 8, finding 9: offline intake handed the reporter's code to the staff member.

A verifier who typed a report in could follow it through the mailbox, read APIP's messages,
accept and close it, or replace the identity, all logged as "reporter". Now a code issued
through staff intake shows the status only, until the reporter replaces it at first use (new
code shown once; the old one dead: lookup hash, salt and the reporter's key wraps replaced).
Whistleblowing received offline is entered by APIP staff: the verifier's form neither offers
nor accepts it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE
from wbs.context import Context
from wbs.models import (
    AuditEntry,
    Case,
    CaseKeyWrap,
    Message,
    PendingAuditEntry,
    ReporterSession,
    Unit,
)
from wbs.web.reporter import MAILBOX_COOKIE

LETTER = {"channel": "letter", "kind": "complaint", "title": "Surat pengaduan pungli",
          "what": "Petugas loket meminta uang tambahan untuk KTP.", "identity_mode": "anonymous"}
WHISTLE = {**LETTER, "kind": "whistleblowing", "title": "Dugaan korupsi dana desa",
           "what": "Bendahara desa memotong dana bantuan."}


def _intake(client: TestClient, fields: dict[str, str]) -> Any:
    token = csrf_from(client, "/staf/penerimaan")
    return client.post("/staf/penerimaan", data={"csrf_token": token, **fields},
                       files=[("files", ("", b"", "x/y"))])


def _reporter(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _count(ctx: Context, model: Any) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _case(ctx: Context) -> Case:
    with ctx.db() as s:
        return s.scalars(select(Case)).one()


def _reporter_wraps(ctx: Context, case_id: int) -> set[tuple[int, str, bytes]]:
    with ctx.db() as s:
        return {(w.id, w.purpose, w.wrapped) for w in s.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.case_id == case_id, CaseKeyWrap.recipient_kind == "reporter"))}


def _open_mailbox(browser: TestClient, code: str) -> Any:
    token = csrf_from(browser, "/kotak-pesan")
    return browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code})


def test_finding_9_a_staff_issued_code_shows_the_status_only_until_replaced(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    receipt = _intake(client, LETTER)
    assert receipt.status_code == 200
    found = CODE_RE.search(receipt.text)
    assert found
    old_code = found.group(1)
    assert "Anda akan membuat kode baru" in receipt.text  # the reporter is told at once

    # The status: yes, with a word on what to do.
    staff_as_reporter = _reporter(app)
    token = csrf_from(staff_as_reporter, "/status")
    status = staff_as_reporter.post("/status", data={"csrf_token": token, "code": old_code})
    assert status.status_code == 200 and _case(ctx).case_number in status.text
    assert staff_as_reporter.post("/api/v1/status", json={"code": old_code}).status_code == 200

    # The mailbox: no session, only the page that replaces the code.
    page = _open_mailbox(staff_as_reporter, old_code)
    assert page.status_code == 200 and 'action="/kotak-pesan/kode-baru"' in page.text
    assert MAILBOX_COOKIE not in staff_as_reporter.cookies
    assert _count(ctx, ReporterSession) == 0
    assert staff_as_reporter.get("/kotak-pesan").text.count('action="/kotak-pesan/masuk"') == 1

    # The API: nothing read, nothing stored, no identity, no attachment.
    api = _reporter(app)
    for path, body in (("/api/v1/mailbox", {}), ("/api/v1/mailbox/messages", {"body": "Hai"}),
                       ("/api/v1/mailbox/identity", {"identity": {"name": "Palsu"}})):
        r = api.post(path, json={"code": old_code, **body})
        assert (r.status_code, r.json()["error"]) == (409, "code_must_be_replaced"), path
    r = api.post("/api/v1/mailbox/attachments", data={"code": old_code},
                 files={"file": ("x.txt", b"palsu", "text/plain")})
    assert r.status_code == 409
    case = _case(ctx)
    assert not case.identity_provided and _count(ctx, Message) == 0
    before_wraps = _reporter_wraps(ctx, case.id)
    assert len(before_wraps) == 2

    # The reporter replaces it: a new code, shown once, and the mailbox opens with it.
    reporter = _reporter(app)
    page = _open_mailbox(reporter, old_code)
    token = csrf_from(reporter, "/kotak-pesan")
    done = reporter.post("/kotak-pesan/kode-baru", data={"csrf_token": token, "code": old_code})
    assert done.status_code == 200
    new = CODE_RE.search(done.text)
    assert new and new.group(1) != old_code
    new_code = new.group(1)
    assert reporter.cookies.get(MAILBOX_COOKIE)
    assert 'action="/kotak-pesan/pesan"' in reporter.get("/kotak-pesan").text

    # The old code is dead everywhere; the lookup hash, salt and wraps are new.
    after = _case(ctx)
    assert after.lookup_hash != case.lookup_hash and after.reporter_salt != case.reporter_salt
    assert not after.code_needs_replacing
    after_wraps = _reporter_wraps(ctx, case.id)
    assert len(after_wraps) == 2 and not after_wraps & before_wraps
    assert not {w for _, _, w in after_wraps} & {w for _, _, w in before_wraps}
    token = csrf_from(staff_as_reporter, "/status")
    assert staff_as_reporter.post("/status", data={"csrf_token": token, "code": old_code}
                                  ).status_code == 404
    assert _open_mailbox(staff_as_reporter, old_code).status_code == 404
    assert api.post("/api/v1/mailbox", json={"code": old_code}).status_code == 404
    token = csrf_from(staff_as_reporter, "/kotak-pesan")
    again = staff_as_reporter.post("/kotak-pesan/kode-baru",
                                   data={"csrf_token": token, "code": old_code})
    assert again.status_code == 404
    assert api.post("/api/v1/mailbox/code", json={"code": new_code}).status_code == 404

    # The new code does everything a code does; the replacement is the reporter's act.
    assert api.post("/api/v1/mailbox/messages", json={"code": new_code, "body": "Terima kasih."}
                    ).status_code == 201
    with ctx.db() as s:
        staged = [p.action for p in s.scalars(select(PendingAuditEntry))]
        intake_rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.intake")
                                ).all()
    assert "code.replace" in staged
    assert [(r.actor, r.outcome) for r in intake_rows] == [("verifikator", "allowed")]


def test_finding_9_the_api_replaces_a_staff_issued_code(app: Any, client: TestClient,
                                                        demo: Any, clock: Clock,
                                                        ctx: Context) -> None:
    sign_in(client, demo["investigator"], "investigator", clock)
    found = CODE_RE.search(_intake(client, WHISTLE).text)
    assert found
    api = _reporter(app)
    replaced = api.post("/api/v1/mailbox/code", json={"code": found.group(1)})
    assert replaced.status_code == 201
    new_code = replaced.json()["code"]
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}", new_code)
    assert api.post("/api/v1/mailbox", json={"code": new_code}).status_code == 200
    assert api.post("/api/v1/mailbox/code", json={"code": found.group(1)}).status_code == 404
    # A report the reporter filed needs no replacement: its code is the reporter's alone.
    own = api.post("/api/v1/reports", json={"kind": "complaint", "title": "t", "what": "w"})
    assert api.post("/api/v1/mailbox/code", json={"code": own.json()["code"]}
                    ).status_code == 404
    assert api.post("/api/v1/mailbox", json={"code": own.json()["code"]}).status_code == 200


def test_finding_9_a_verifier_can_neither_see_nor_enter_whistleblowing_intake(
        client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    form = client.get("/staf/penerimaan", headers={"Accept-Language": "en"})
    assert form.status_code == 200
    assert 'value="whistleblowing"' not in form.text and 'value="complaint"' in form.text
    assert "entered by the Inspectorate (APIP) only" in form.text
    refused = _intake(client, WHISTLE)
    assert refused.status_code == 403
    assert WHISTLE["what"] not in refused.text  # nothing of it is shown back, or kept
    assert _count(ctx, Case) == 0
    with ctx.db() as s:
        [denied] = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.intake")).all()
    assert (denied.actor, denied.outcome) == ("verifikator", "denied")
    assert "whistleblowing" in denied.details and WHISTLE["title"] not in denied.details


def test_finding_9_apip_enters_whistleblowing_and_it_goes_to_apip(
        client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    sign_in(client, demo["investigator"], "investigator", clock)
    form = client.get("/staf/penerimaan")
    assert 'value="whistleblowing"' in form.text
    receipt = _intake(client, WHISTLE)
    assert receipt.status_code == 200 and CODE_RE.search(receipt.text)
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        receiving = s.get(Unit, case.receiving_unit_id)
        holders = {w.recipient_id for w in s.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.case_id == case.id, CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.purpose == "content"))}
    assert case.at_apip and receiving is not None and receiving.kind == "apip"
    assert holders == {receiving.id} and case.code_needs_replacing
