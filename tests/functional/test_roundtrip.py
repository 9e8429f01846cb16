"""Issue 3, done-when 2: submit → status → mailbox both ways → identity later → staff reads content
but never identity; every other unit and role is refused, and each refusal is audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE, submit_form
from wbs import jobs
from wbs.models import Attachment, AuditEntry, Case, PendingAuditEntry

REPORT = {"kind": "complaint", "title": "Pungutan di sekolah",
          "what": "Kepala sekolah memungut biaya ujian Rp 500.000.",
          "who_name": "Kepala Sekolah X", "where": "SDN 1", "when": "Maret 2026",
          "how": "Diminta tunai", "identity_mode": "confidential",
          "identity_name": "Siti Pelapor", "identity_phone": "0812000111"}


def open_mailbox(client: TestClient, code: str) -> None:
    token = csrf_from(client, "/kotak-pesan")
    r = client.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code})
    assert r.status_code == 303


def staff_open(client: TestClient, number: str) -> Any:
    page = client.get(f"/staf/kasus/{number}")
    if "tujuan" in page.text:
        token = csrf_from(client, f"/staf/kasus/{number}")
        client.post(f"/staf/kasus/{number}/tujuan",
                    data={"csrf_token": token, "purpose": "Verification and classification"})
        page = client.get(f"/staf/kasus/{number}")
    return page


def test_round_trip(app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Any) -> None:
    r = submit_form(client, REPORT, files=[("bukti.txt", b"catatan bukti", "text/plain")])
    code = CODE_RE.search(r.text)
    assert code
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()

    # Reporter: mailbox, message to the officials.
    reporter = TestClient(app, base_url="https://testserver", follow_redirects=False)
    open_mailbox(reporter, code.group(1))
    token = csrf_from(reporter, "/kotak-pesan")
    assert reporter.post("/kotak-pesan/pesan", data={"csrf_token": token,
                                                     "body": "Saya punya foto kuitansi."}
                         ).status_code == 303

    # Verifier (receiving unit): purpose first, then the decrypted report, never the identity.
    sign_in(client, demo["verifikator"], "verifikator", clock)
    page = staff_open(client, number)
    assert page.status_code == 200
    assert "Kepala sekolah memungut biaya ujian" in page.text
    assert "Saya punya foto kuitansi." in page.text
    assert "Siti Pelapor" not in page.text and "0812000111" not in page.text
    token = csrf_from(client, f"/staf/kasus/{number}")
    assert client.post(f"/staf/kasus/{number}/pesan",
                       data={"csrf_token": token, "body": "Mohon kirim fotonya."}
                       ).status_code == 303
    with ctx.db() as s:
        attachment_id = s.scalars(select(Attachment.id)).one()
    download = client.get(f"/staf/kasus/{number}/lampiran/{attachment_id}")
    assert download.status_code == 200 and download.content == b"catatan bukti"
    assert download.headers["content-disposition"].startswith("attachment;")

    # Reporter reads the question, then adds more identity later.
    mailbox = reporter.get("/kotak-pesan")
    assert "Mohon kirim fotonya." in mailbox.text
    token = csrf_from(reporter, "/kotak-pesan")
    assert reporter.post("/kotak-pesan/identitas", data={
        "csrf_token": token, "identity_name": "Siti Pelapor",
        "identity_email": "siti@example.org"}).status_code == 303
    assert "siti@example.org" not in staff_open(client, number).text

    def logged() -> list[str]:
        with ctx.db() as s:
            return [e.action for e in s.scalars(select(AuditEntry).where(
                AuditEntry.case_number == number).order_by(AuditEntry.seq))]

    # Staff acts are in the log at once; the reporter's wait, staged, for the day's batch
    # (DESIGN §4), and opening the mailbox is a read: counted, not logged.
    reporter_acts = {"case.submit", "message.reporter", "identity.add"}
    staff_acts = {"case.purpose", "case.view", "message.staff", "attachment.download"}
    with ctx.db() as s:
        staged = {p.action for p in s.scalars(select(PendingAuditEntry).where(
            PendingAuditEntry.case_number == number))}
        view_rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.view")).all()
    assert staged == reporter_acts
    assert staff_acts <= set(logged()) and not reporter_acts & set(logged())
    assert all(v.reason == "Verification and classification" for v in view_rows)
    clock.advance(days=1)
    jobs.run_all(ctx)
    actions = logged()
    assert reporter_acts | staff_acts <= set(actions) and "mailbox.open" not in actions
    assert set(actions[-3:]) == reporter_acts  # appended after the day's staff entries


@pytest.mark.parametrize("username", ["penghubung.pendidikan", "penghubung.kesehatan",
                                      "investigator", "inspektur", "pimpinan", "auditor",
                                      "admin"])
def test_everyone_else_is_refused_and_audited(app: Any, client: TestClient, demo: Any,
                                              clock: Clock, ctx: Any, username: str) -> None:
    submit_form(client, REPORT)
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()
    sign_in(client, demo[username], username, clock)
    page = client.get(f"/staf/kasus/{number}")
    # Handlers of other units may not see the case at all: the 404 of an unknown number
    # (issue 8, finding 10); roles without case:read are refused by the route (403).
    assert page.status_code == (404 if username in (
        "penghubung.pendidikan", "penghubung.kesehatan", "investigator") else 403)
    assert "Kepala sekolah" not in page.text
    download = client.get(f"/staf/kasus/{number}/lampiran/1")
    assert download.status_code in (403, 404)
    with ctx.db() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.actor == username,
                                                    AuditEntry.outcome == "denied")).all()
    assert len(denied) >= 2
    assert all(re.search(r"case:read|case:attachment:read", d.details) for d in denied)
