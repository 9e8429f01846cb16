"""The SP4N-LAPOR! pages: the coordinator sees delivery state and no content; the verifier
downloads the undelivered documents; every view, download and refusal is audited."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.workflow_helpers import REASON, audit_since, last_seq, staff_team
from wbs.cases import intake, routing
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import LaporOutboxItem

TITLE = "Pungutan CANARY-PAGE-31 di puskesmas"
IDENTITY = "Budi-CANARY-IDENT-PAGE"


def _forwarded(ctx: Context, demo: dict[str, Any], clock: Clock) -> str:
    report = intake.ReportInput(kind=ReportKind.COMPLAINT, title=TITLE, what="Isi laporan.",
                                identity=intake.Identity(name=IDENTITY))
    number = intake.submit(ctx, report, [], Channel.WEB).case_number
    verifier = staff_team(ctx, demo, clock, "verifikator")["verifikator"]
    routing.forward_external(ctx, verifier, number, "sp4n_lapor", REASON)
    return number


def test_coordinator_sees_state_without_content(client: TestClient, ctx: Context,
                                                demo: dict[str, Any], clock: Clock) -> None:
    number = _forwarded(ctx, demo, clock)
    assert sign_in(client, demo["pimpinan"], "pimpinan", clock).status_code == 303
    seq = last_seq(ctx)
    page = client.get("/staf/lapor")
    assert page.status_code == 200
    assert 'data-state="pending"' in page.text
    assert "CANARY" not in page.text and number not in page.text
    assert "/staf/lapor/ekspor" not in page.text  # leadership never downloads content
    assert [e.action for e in audit_since(ctx, seq)] == ["lapor.outbox.view"]
    seq = last_seq(ctx)
    refused = client.post("/staf/lapor/ekspor", data={"csrf_token": csrf_from(client,
                                                                              "/staf/lapor")})
    assert refused.status_code == 403
    denied = [e for e in audit_since(ctx, seq) if e.outcome == "denied"]
    assert len(denied) == 1 and "integration:lapor:export" in denied[0].details


def test_liaison_is_refused_the_page_and_it_is_audited(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    assert sign_in(client, demo["penghubung.kesehatan"], "penghubung.kesehatan",
                   clock).status_code == 303
    seq = last_seq(ctx)
    assert client.get("/staf/lapor").status_code == 403
    [entry] = audit_since(ctx, seq)
    assert entry.outcome == "denied" and "integration:lapor:read" in entry.details


def test_verifier_exports_pending_items_once_and_it_is_audited(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    number = _forwarded(ctx, demo, clock)
    clock.advance(seconds=31)  # a TOTP code is accepted once
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    token = csrf_from(client, "/staf/lapor")
    assert client.post("/staf/lapor/ekspor", data={}).status_code == 403  # no CSRF token
    seq = last_seq(ctx)
    download = client.post("/staf/lapor/ekspor", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    exported = json.loads(download.content)
    [entry] = exported["item"]
    assert entry["jalur"] == "/laporan" and entry["dokumen"]["judul"] == TITLE
    assert entry["dokumen"]["id_eksternal"] == number
    assert IDENTITY not in download.text
    [row] = [e for e in audit_since(ctx, seq) if e.action == "lapor.outbox.export"]
    assert json.loads(row.details)["items"] == 1 and TITLE not in row.details
    with ctx.db() as s:
        assert s.scalars(select(LaporOutboxItem.state)).all() == ["exported"]
    again = json.loads(client.post("/staf/lapor/ekspor", data={"csrf_token": token}).content)
    assert again["item"] == []


def test_case_page_shows_the_lapor_tracking_number(client: TestClient, ctx: Context,
                                                   demo: dict[str, Any], clock: Clock) -> None:
    from wbs.integrations import lapor_import

    data = json.dumps([{"nomor_tracking": "LAPOR-TRK-5", "judul": "Air PDAM keruh",
                        "isi": "Sejak seminggu."}]).encode()
    [number] = lapor_import.import_documents(ctx, data, actor="t").case_numbers
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    token = csrf_from(client, f"/staf/kasus/{number}")
    client.post(f"/staf/kasus/{number}/tujuan", data={"csrf_token": token,
                                                       "purpose": "Verifikasi"})
    page = client.get(f"/staf/kasus/{number}")
    assert page.status_code == 200 and "data-lapor-ref>LAPOR-TRK-5<" in page.text
