"""SP4N-LAPOR! identity consent (issue 10): the reporter's identity travels only if a disclosure
was approved AND the reporter consented in the mailbox; revocable until the document is sent.

Real mailbox (code, session cookie, CSRF), real intake and forwarding, real connector talking to
the local HTTP server of `tests/lapor_server.py`. A canary identity is looked for in every byte
the server received, in every audit row, and at rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.workflow_helpers import REASON, staff_team
from tests.lapor_server import LaporStub, lapor_server
from wbs.audit import pending
from wbs.cases import intake, routing
from wbs.cases.service import actor_of
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.integrations import connector, outbox
from wbs.models import AuditEntry, Case, IdentityRequest, LaporIdentityConsent
from wbs.profiles import store
from wbs.settings import Secret

NAME = "Maria-CANARY-NAMA-5521"
PHONE = "0813-CANARY-7788"
EMAIL = "canary-7788@contoh.id"
CANARIES = (NAME, PHONE, EMAIL, "CANARY-ALAMAT-99")
PATH = "/api/v1/laporan"


@pytest.fixture
def stub() -> Iterator[LaporStub]:
    with lapor_server() as server:
        yield server


@pytest.fixture
def team(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock, stub: LaporStub) -> Any:
    ctx.settings = replace(ctx.settings, lapor_endpoint=stub.url,
                           lapor_token=Secret("tok-consent-test"), lapor_backoff_seconds=60,
                           lapor_backoff_cap_seconds=300, lapor_max_attempts=4,
                           lapor_timeout_seconds=5)
    return staff_team(ctx, demo, clock, "verifikator", "investigator")


def _file(ctx: Context) -> tuple[str, str]:
    report = intake.ReportInput(
        kind=ReportKind.COMPLAINT, title="Sampah tidak diangkut", what="Dua minggu tidak "
        "diangkut di RT 03.", where="Kelurahan Ilir", profile_kind="pengaduan",
        identity=intake.Identity(name=NAME, phone=PHONE, email=EMAIL,
                                 address="Jl. CANARY-ALAMAT-99", nip="198001012005011001"))
    sub = intake.submit(ctx, report, [], Channel.WEB)
    return sub.case_number, sub.code


def _mailbox(app: Any, code: str) -> TestClient:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    browser.headers["accept-language"] = "en"
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/masuk",
                        data={"csrf_token": token, "code": code}).status_code == 303
    return browser


def _decide(browser: TestClient, decision: str) -> Any:
    token = csrf_from(browser, "/kotak-pesan")
    return browser.post("/kotak-pesan/lapor-identitas",
                        data={"csrf_token": token, "decision": decision})


def _state(html: str) -> str:
    found = re.search(r'data-consent-state="([a-z]+)"', html)
    assert found is not None
    return found.group(1)


def _approve(ctx: Context, team: Any, number: str) -> None:
    """A disclosure approved by the custodians (the row their quorum leaves behind)."""
    with ctx.db.begin() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        s.add(IdentityRequest(case_id=case_id, requester_id=team["investigator"].user_id,
                              reason="Perlu konfirmasi pelapor untuk pemeriksaan", quorum=2,
                              state="approved", created_at=ctx.now(), decided_at=ctx.now(),
                              expires_at=ctx.now() + timedelta(days=7)))


def _sent(stub: LaporStub) -> bytes:
    return b"".join(r.body + json.dumps(r.headers).encode() + r.path.encode()
                    for r in stub.requests)


def _assert_nowhere_else(ctx: Context) -> None:
    """No canary in any audit row (the reporter's, staged for the day's batch, included) nor,
    on SQLite, anywhere in the database files."""
    with ctx.db.begin() as s:
        pending.append_due(s, ctx.audit_keys, ctx.today() + timedelta(days=1))
    with ctx.db() as s:
        rows = [f"{e.action} {e.details} {e.reason}" for e in s.scalars(select(AuditEntry))]
        consents = s.scalars(select(LaporIdentityConsent)).all()
    assert any(row.startswith("lapor.") for row in rows)
    assert not any(c in row for row in rows for c in CANARIES)
    for row in consents:
        assert not any(c.encode() in row.identity_sealed for c in CANARIES)
    url = ctx.settings.database_url
    if url.startswith("sqlite:///"):
        ctx.engine.dispose()
        raw = b"".join(p.read_bytes() for p in
                       Path(url.removeprefix("sqlite:///")).parent.glob("wbs.sqlite3*"))
        assert not any(c.encode() in raw for c in CANARIES)


@pytest.mark.parametrize(("approved", "consented"),
                         [(False, False), (True, False), (False, True), (True, True)])
def test_identity_travels_only_with_approval_and_consent(
        app: Any, ctx: Context, team: Any, stub: LaporStub, approved: bool,
        consented: bool) -> None:
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    page = browser.get("/kotak-pesan").text
    # The question says what would be sent, to whom, and that nothing goes without it.
    assert "May your identity be sent to SP4N-LAPOR!?" in page
    # Which fields would go, by name; never their values (review of profiles2, finding 7).
    section = page.split('id="lapor-consent"')[1].split("</section>")[0]
    assert 'data-field="name"' in section and 'data-field="email"' in section
    assert "KemenPAN-RB" in page
    assert not any(c in page for c in CANARIES)
    assert "198001012005011001" not in page.split('id="lapor-consent"')[1].split("</section>")[0]
    assert _state(page) == "none"
    if consented:
        assert _decide(browser, "give").status_code == 303
        assert _state(browser.get("/kotak-pesan").text) == "given"
    if approved:
        _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    connector.deliver_due(ctx)
    [post] = stub.posts(PATH)
    both = approved and consented
    doc = json.loads(post.body)
    assert doc["anonim"] is (not both)
    if both:
        assert doc["pelapor"] == {"nama": NAME, "alamat": "Jl. CANARY-ALAMAT-99",
                                  "telepon": PHONE, "email": EMAIL, "pekerjaan": ""}
    sent = _sent(stub)
    for canary in CANARIES:
        assert (canary.encode() in sent) is both, canary
    assert b"198001012005011001" not in sent  # the NIP never travels
    page = browser.get("/kotak-pesan").text
    # The decision is frozen when the document is first prepared: without consent it is
    # recorded as withheld (nothing can be given afterwards).
    expected = "sent" if both else "withheld"
    assert _state(page) == expected
    # Sent: no more buttons, nothing to take back.
    assert 'action="/kotak-pesan/lapor-identitas"' not in page
    if consented:
        refused = _decide(browser, "revoke")
        assert refused.status_code == 409 and "can no longer be changed" in refused.text
    _assert_nowhere_else(ctx)


def test_revocation_before_sending_keeps_the_identity_home(
        app: Any, ctx: Context, team: Any, stub: LaporStub) -> None:
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    assert _decide(browser, "give").status_code == 303
    _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    # Queued, not yet sent: the reporter takes it back (the question in Bahasa Indonesia too).
    browser.headers["accept-language"] = "id"
    page = browser.get("/kotak-pesan").text
    assert "Bolehkah identitas Anda dikirim ke SP4N-LAPOR!?" in page
    assert "Tarik persetujuan saya" in page and _state(page) == "given"
    assert _decide(browser, "revoke").status_code == 303
    assert _state(browser.get("/kotak-pesan").text) == "revoked"
    with ctx.db() as s:
        row = s.scalars(select(LaporIdentityConsent)).one()
    assert (row.state, row.identity_sealed) == ("revoked", b"")  # the copy is erased at once
    connector.deliver_due(ctx)
    [post] = stub.posts(PATH)
    assert json.loads(post.body)["anonim"] is True
    assert not any(c.encode() in _sent(stub) for c in CANARIES)
    # The reporter's acts reach the log with the day's batch, dated with the day alone.
    with ctx.db.begin() as s:
        pending.append_due(s, ctx.audit_keys, ctx.today() + timedelta(days=1))
    with ctx.db() as s:
        entries = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "lapor.identity_consent")).all()
    assert sorted((json.loads(e.details)["state"], e.actor) for e in entries) == [
        ("given", "reporter"), ("revoked", "reporter"), ("withheld", "lapor-connector")]
    _assert_nowhere_else(ctx)


def test_a_retry_sends_the_same_document_and_consent_closes_at_the_first_attempt(
        app: Any, ctx: Context, team: Any, stub: LaporStub, clock: Clock) -> None:
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    _decide(browser, "give")
    _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    stub.failures = ["500"]
    connector.deliver_due(ctx)
    # The first attempt may have reached LAPOR!: taking it back is refused from now on.
    refused = _decide(browser, "revoke")
    assert refused.status_code == 409
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    first, second = stub.posts(PATH)
    assert first.body == second.body and NAME.encode() in second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_consent_comes_too_late_once_the_document_left(
        app: Any, ctx: Context, team: Any, stub: LaporStub) -> None:
    number, code = _file(ctx)
    _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    connector.deliver_due(ctx)
    browser = _mailbox(app, code)
    page = browser.get("/kotak-pesan").text
    assert "already been sent to SP4N-LAPOR! without your identity" in page
    assert _decide(browser, "give").status_code == 409
    assert len(stub.posts(PATH)) == 1 and not any(c.encode() in _sent(stub) for c in CANARIES)


def test_the_manual_export_never_carries_the_identity(
        app: Any, ctx: Context, team: Any, stub: LaporStub) -> None:
    """A verifier downloads the export and must never hold the identity (review of profiles2,
    finding 4): even with consent and an approved disclosure the file is anonymous, says so,
    and the consent's copy is erased (withheld); a later consent is too late."""
    ctx.settings = replace(ctx.settings, lapor_endpoint="")
    with_both, code = _file(ctx)
    browser = _mailbox(app, code)
    _decide(browser, "give")
    _approve(ctx, team, with_both)
    consent_only, code = _file(ctx)
    _decide(_mailbox(app, code), "give")
    for number in (with_both, consent_only):
        routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    raw = outbox.export_pending(ctx, actor_of(team["verifikator"]))
    assert not any(c.encode() in raw for c in CANARIES)
    exported = json.loads(raw)
    assert exported["identitas_pelapor"] == "tidak disertakan"
    docs = {e["dokumen"]["id_eksternal"]: e["dokumen"] for e in exported["item"]}
    for number in (with_both, consent_only):
        assert "pelapor" not in docs[number] and docs[number]["anonim"] is True
    with ctx.db() as s:
        rows = s.scalars(select(LaporIdentityConsent)).all()
    assert {(r.state, r.identity_sealed) for r in rows} == {("withheld", b"")}
    assert _decide(browser, "give").status_code == 409


def test_a_whistleblower_is_never_asked(app: Any, ctx: Context, team: Any) -> None:
    report = intake.ReportInput(kind=ReportKind.WHISTLEBLOWING, title="Suap", what="Suap "
                                "proyek jalan.", identity=intake.Identity(name=NAME))
    code = intake.submit(ctx, report, [], Channel.WEB).code
    browser = _mailbox(app, code)
    assert 'id="lapor-consent"' not in browser.get("/kotak-pesan").text
    assert _decide(browser, "give").status_code == 409
    with ctx.db() as s:
        assert s.scalars(select(LaporIdentityConsent)).all() == []


@pytest.mark.parametrize(("profile", "expected"), [
    ("jayapura", [("complaint", "keluhan"), ("aspiration", "kritik"),
                  ("complaint", "pengaduan")]),
    ("sanggau", [("complaint", "pengaduan"), ("aspiration", "aspirasi"),
                 ("complaint", "pengaduan")]),
])
def test_a_regional_kind_from_lapor_enters_as_the_profile_names_it(
        ctx: Context, team: Any, stub: LaporStub, profile: str,
        expected: list[tuple[str, str]]) -> None:
    store.choose(ctx, profile, "admin", "administrator")
    stub.incoming = {"laporan": [
        {"nomor_tracking": f"LAPOR-IN-{n}", "judul": "Antrean puskesmas", "isi": "Lama.",
         "jenis": jenis, "pelapor": None}
        for n, jenis in enumerate(("keluhan", "kritik", "pengaduan"))]}
    assert connector.run(ctx)["lapor_imported"] == 3
    with ctx.db() as s:
        rows = s.execute(select(Case.kind, Case.profile_kind).order_by(Case.id)).all()
    assert [tuple(r) for r in rows] == expected


def test_a_keluhan_goes_to_lapor_as_a_keluhan(ctx: Context, team: Any, stub: LaporStub) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    numbers = []
    for kind in ("keluhan", "pengaduan"):
        report = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Antrean", what="Lama.",
                                    profile_kind=kind, identity=intake.Identity(
                                        name="Yakobus", address="Sentani", phone="0812"))
        numbers.append(intake.submit(ctx, report, [], Channel.WEB).case_number)
        routing.forward_external(ctx, team["verifikator"], numbers[-1], "sp4n_lapor", REASON)
    connector.deliver_due(ctx)
    sent = {json.loads(p.body)["id_eksternal"]: json.loads(p.body)["kategori"]
            for p in stub.posts(PATH)}
    assert sent == {numbers[0]: "keluhan", numbers[1]: "pengaduan"}
