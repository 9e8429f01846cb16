"""Compensation through the pages: the reporter claims in the mailbox, the liaison completes
the file, decides and delivers; refusals keep what was typed; the steps are audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_roundtrip import open_mailbox
from tests.functional.workflow_helpers import (
    audit_since,
    dispose,
    file_report,
    last_seq,
    staff_team,
)
from wbs.cases import calendar_admin, routing
from wbs.context import Context
from wbs.enums import ReportKind
from wbs.models import Deadline

ITEM = "Kaca mobil pecah CANARY-COMP-PAGE"


def _case(ctx: Context, demo: dict[str, Any], clock: Clock,
          kind: ReportKind = ReportKind.COMPLAINT) -> tuple[str, str]:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    filed = file_report(ctx, kind=kind)
    if kind is ReportKind.COMPLAINT:
        dispose(ctx, team["verifikator"], filed.number)
        routing.start_processing(ctx, team["penghubung.kesehatan"], filed.number)
    clock.advance(seconds=31)  # the service sign-ins used this TOTP step
    return filed.number, filed.code


def test_reporter_claims_and_liaison_decides_through_the_pages(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    number, code = _case(ctx, demo, clock)
    open_mailbox(client, code)
    token = csrf_from(client, "/kotak-pesan")
    bad = client.post("/kotak-pesan/ganti-rugi", data={
        "csrf_token": token, "item_1_description": ITEM, "item_1_amount": "satu juta"})
    assert bad.status_code == 400
    assert "jumlah rupiah bulat" in bad.text and "satu juta" in bad.text  # kept
    ok = client.post("/kotak-pesan/ganti-rugi", data={
        "csrf_token": token, "item_1_description": ITEM, "item_1_amount": "1.000.000",
        "item_2_description": "Biaya derek", "item_2_amount": "250000"})
    assert ok.status_code == 303
    page = client.get("/kotak-pesan")
    assert "Rp 1.250.000" in page.text and ITEM in page.text
    client.post("/kotak-pesan/keluar", data={"csrf_token": csrf_from(client, "/kotak-pesan")})

    assert sign_in(client, demo["penghubung.kesehatan"], "penghubung.kesehatan",
                   clock).status_code == 303
    # A purpose first, as for any decryption.
    assert client.get(f"/staf/kasus/{number}/ganti-rugi").status_code == 303
    token = csrf_from(client, f"/staf/kasus/{number}")
    client.post(f"/staf/kasus/{number}/tujuan", data={"csrf_token": token,
                                                       "purpose": "Memutus ganti rugi"})
    page = client.get(f"/staf/kasus/{number}/ganti-rugi")
    assert page.status_code == 200 and ITEM in page.text and "Rp 1.250.000" in page.text
    # The limits stated come from the rules in force (issue 10), never a fixed "60".
    assert "60 hari kerja" in page.text and "14 hari kerja" in page.text
    calendar_admin.set_rule(ctx, "admin", "administrator", "decision_delivery", 20,
                            "working_days")
    page = client.get(f"/staf/kasus/{number}/ganti-rugi")
    assert "20 hari kerja" in page.text and "14 hari kerja" not in page.text
    calendar_admin.set_rule(ctx, "admin", "administrator", "decision_delivery", 14,
                            "working_days")
    seq = last_seq(ctx)
    assert client.post(f"/staf/kasus/{number}/ganti-rugi/lengkap",
                       data={"csrf_token": token}).status_code == 303
    # 60 WD from Mon 2 Mar 2026 (see test_compensation.py): 10 Jun 2026, shown on the page.
    with ctx.db() as s:
        due = s.scalars(select(Deadline.due_on).where(Deadline.kind == "decision")).one()
    assert due == date(2026, 6, 10)
    assert 'datetime="2026-06-10"' in client.get(f"/staf/kasus/{number}/ganti-rugi").text
    refused = client.post(f"/staf/kasus/{number}/ganti-rugi/putusan", data={
        "csrf_token": token, "amount": "900.000", "payment_due_on": "", "reason": "Sebagian."})
    assert refused.status_code == 400 and "900.000" in refused.text
    done = client.post(f"/staf/kasus/{number}/ganti-rugi/putusan", data={
        "csrf_token": token, "amount": "900.000", "payment_due_on": "2026-04-30",
        "reason": "Kerugian derek tidak terbukti."})
    assert done.status_code == 303
    # The case page lists the delivery limit by name; 14 WD from Mon 2 Mar: 3-6 (4), 9-13 (9),
    # 16-17 (11), Nyepi and Idul Fitri 18-24 off, 25-27 (14): Fri 27 Mar.
    page = client.get(f"/staf/kasus/{number}").text
    assert "Penyampaian keputusan kepada pelapor" in page
    with ctx.db() as s:
        assert s.scalars(select(Deadline.due_on).where(
            Deadline.kind == "decision_delivery")).one() == date(2026, 3, 27)
    assert client.post(f"/staf/kasus/{number}/ganti-rugi/kirim",
                       data={"csrf_token": token}).status_code == 303
    actions = [e.action for e in audit_since(ctx, seq)]
    for step in ("compensation.file_complete", "compensation.decide", "compensation.deliver"):
        assert step in actions
    assert all(ITEM not in e.details and "900000" not in e.details
               for e in audit_since(ctx, seq))


def test_no_claim_form_for_whistleblowing_and_verifier_is_refused(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    _number, code = _case(ctx, demo, clock, kind=ReportKind.WHISTLEBLOWING)
    open_mailbox(client, code)
    assert "/kotak-pesan/ganti-rugi" not in client.get("/kotak-pesan").text
    client.post("/kotak-pesan/keluar", data={"csrf_token": csrf_from(client, "/kotak-pesan")})
    number, _code = _case(ctx, demo, clock)
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    seq = last_seq(ctx)
    token = csrf_from(client, "/staf")
    assert client.post(f"/staf/kasus/{number}/ganti-rugi/lengkap",
                       data={"csrf_token": token}).status_code == 403
    [entry] = audit_since(ctx, seq)
    assert entry.outcome == "denied" and "case:compensation:decide" in entry.details
