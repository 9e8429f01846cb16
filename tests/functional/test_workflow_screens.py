"""The workflow through the staff screens and the reporter mailbox (HTTP, real crypto)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_roundtrip import open_mailbox, staff_open
from tests.functional.workflow_helpers import state_of
from wbs.models import Case, Deadline


def _act(client: TestClient, number: str, action: str, **fields: str) -> Any:
    token = csrf_from(client, f"/staf/kasus/{number}")
    return client.post(f"/staf/kasus/{number}/aksi/{action}",
                       data={"csrf_token": token, **fields})


def test_complaint_from_receipt_to_closure(app: Any, client: TestClient, demo: Any,
                                           clock: Clock, ctx: Any) -> None:
    r = submit_form(client, {"kind": "complaint", "title": "Guru sering absen",
                             "what": "Guru kelas 5 jarang hadir.", "identity_mode": "anonymous"})
    code = CODE_RE.search(r.text)
    assert code
    with ctx.db() as s:
        number = s.scalars(select(Case.case_number)).one()

    verifier = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(verifier, demo["verifikator"], "verifikator", clock)
    page = staff_open(verifier, number)
    title = page.text.split("<title>")[1].split("</title>")[0]
    assert "<" not in title and number in title  # a plain title, nothing leaked into it
    assert "Verifikasi dan disposisi" in page.text or "verify_and_dispose" in page.text
    done = _act(verifier, number, "verify_and_dispose", classification="no_oversight",
                resolution_days="14", unit_dinas_pendidikan="dinas-pendidikan")
    assert done.status_code == 303 and "galat" not in done.headers["location"]

    liaison = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(liaison, demo["penghubung.pendidikan"], "penghubung.pendidikan", clock)
    listing = liaison.get("/staf/kasus")
    assert number in listing.text
    staff_open(liaison, number)
    assert "galat" not in _act(liaison, number, "start_processing").headers["location"]
    answer = _act(liaison, number, "answer", text="Guru tersebut sudah ditegur dan diawasi.")
    assert "galat" not in answer.headers["location"]

    reporter = TestClient(app, base_url="https://testserver", follow_redirects=False)
    open_mailbox(reporter, code.group(1))
    mailbox = reporter.get("/kotak-pesan")
    assert "Guru tersebut sudah ditegur" in mailbox.text
    assert 'action="/kotak-pesan/tanggapan"' in mailbox.text
    token = csrf_from(reporter, "/kotak-pesan")
    seen = re.search(r'name="answer" value="(\d+)"', mailbox.text)
    assert seen  # the confirmation names the answer it accepts (review 9)
    accepted = reporter.post("/kotak-pesan/tanggapan",
                             data={"csrf_token": token, "response": "accept", "step": "confirm",
                                   "answer": seen.group(1)})
    assert accepted.status_code == 303
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        open_rows = s.scalars(select(Deadline).where(Deadline.met_on.is_(None))).all()
    assert case.state == "closed" and open_rows == []
    # An objection after closure is refused and says so.
    token = csrf_from(reporter, "/kotak-pesan")
    late = reporter.post("/kotak-pesan/tanggapan", data={"csrf_token": token,
                                                         "response": "object",
                                                         "text": "Saya tidak setuju.",
                                                         "step": "confirm"})
    assert late.status_code == 400


def test_case_list_filters_and_overdue(app: Any, client: TestClient, demo: Any, clock: Clock,
                                       ctx: Any) -> None:
    for title in ("Satu", "Dua"):
        submit_form(client, {"kind": "complaint", "title": title, "what": "Isi",
                             "identity_mode": "anonymous"})
    submit_form(client, {"kind": "aspiration", "title": "Tiga", "what": "Isi",
                         "identity_mode": "anonymous"})
    sign_in(client, demo["verifikator"], "verifikator", clock)
    everything = client.get("/staf/kasus")
    assert everything.text.count("/staf/kasus/WBS-") == 3
    aspirations = client.get("/staf/kasus?jenis=aspiration")
    assert aspirations.text.count("/staf/kasus/WBS-") == 1
    assert client.get("/staf/kasus?terlambat=1").text.count("/staf/kasus/WBS-") == 0
    clock.advance(days=10)  # past the 3-working-day verification limit
    client.cookies.clear()
    sign_in(client, demo["verifikator"], "verifikator", clock)
    overdue = client.get("/staf/kasus?terlambat=1")
    assert overdue.text.count("/staf/kasus/WBS-") == 3
    assert "terlambat" in overdue.text
    assert client.get("/staf/kasus?jatuh_tempo=abc&halaman=-4").status_code == 200


def test_unit_filter(app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Any) -> None:
    for title in ("Sekolah", "Puskesmas"):
        submit_form(client, {"kind": "complaint", "title": title, "what": "Isi",
                             "identity_mode": "anonymous"})
    with ctx.db() as s:
        first, second = s.scalars(select(Case.case_number).order_by(Case.id)).all()
    sign_in(client, demo["verifikator"], "verifikator", clock)
    for number, unit in ((first, "dinas-pendidikan"), (second, "dinas-kesehatan")):
        staff_open(client, number)
        _act(client, number, "verify_and_dispose", classification="no_oversight",
             resolution_days="5", **{f"unit_{unit}": unit})
    page = client.get("/staf/kasus?unit=dinas-kesehatan")
    assert second in page.text and first not in page.text
    assert client.get("/staf/kasus?unit=../../x").text.count("/staf/kasus/WBS-") == 2


def test_disputes_page_lists_only_cases_in_dispute(app: Any, client: TestClient, demo: Any,
                                                   clock: Clock, ctx: Any) -> None:
    for title in ("Lama", "Baru"):
        submit_form(client, {"kind": "complaint", "title": title, "what": "Isi",
                             "identity_mode": "anonymous"})
    with ctx.db() as s:
        old, new = s.scalars(select(Case.case_number).order_by(Case.id)).all()
    verifier = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(verifier, demo["verifikator"], "verifikator", clock)
    liaison = TestClient(app, base_url="https://testserver", follow_redirects=False)
    sign_in(liaison, demo["penghubung.pendidikan"], "penghubung.pendidikan", clock)
    staff_open(verifier, old)
    _act(verifier, old, "verify_and_dispose", classification="no_oversight",
         resolution_days="5", unit_dinas_pendidikan="dinas-pendidikan")
    staff_open(liaison, old)
    _act(liaison, old, "start_processing")
    clock.advance(days=14)  # the 5-working-day answer limit has passed
    for c in (verifier, liaison):
        c.cookies.clear()
    sign_in(verifier, demo["verifikator"], "verifikator", clock)
    sign_in(liaison, demo["penghubung.pendidikan"], "penghubung.pendidikan", clock)
    staff_open(verifier, new)
    _act(verifier, new, "verify_and_dispose", classification="no_oversight",
         resolution_days="14", unit_dinas_pendidikan="dinas-pendidikan")
    staff_open(liaison, new)
    _act(liaison, new, "start_processing")
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    page = client.get("/staf/sengketa")
    assert old in page.text and new not in page.text
    token = csrf_from(client, "/staf/sengketa")
    refused = client.post(f"/staf/kasus/{new}/aksi/coordinator_close",
                          data={"csrf_token": token, "reason": "Tidak ada kemajuan"})
    assert refused.status_code == 400 and f"{new}: " in refused.text
    assert state_of(ctx, new) == "in_process"
    closed = client.post(f"/staf/kasus/{old}/aksi/coordinator_close",
                         data={"csrf_token": token, "reason": "Berlarut-larut, diputus tim"})
    assert "galat" not in closed.headers["location"]
    with ctx.db() as s:
        assert s.scalars(select(Case.state).where(Case.case_number == old)).one() == "closed"
