"""Compensation pages, beyond the straight path: a claim recorded by the unit for the reporter,
a decision with a payment date that is not a date, a step that does not exist, and a reporter's
claim after the session ended or the case closed. Every refusal keeps what was typed and
records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_compensation_pages import ITEM, _case
from tests.functional.test_roundtrip import open_mailbox
from tests.functional.workflow_helpers import audit_since, last_seq
from wbs.context import Context
from wbs.enums import CaseState
from wbs.models import Case, CompensationClaim

PAYMENT_DATE = {"en": "A granted amount needs a payment deadline after today.",
                "id": "Jumlah yang dikabulkan memerlukan batas waktu pembayaran setelah hari "
                      "ini."}


def _liaison(client: TestClient, demo: dict[str, Any], clock: Clock, number: str) -> str:
    assert sign_in(client, demo["penghubung.kesehatan"], "penghubung.kesehatan",
                   clock).status_code == 303
    token = csrf_from(client, f"/staf/kasus/{number}")
    client.post(f"/staf/kasus/{number}/tujuan", data={"csrf_token": token,
                                                       "purpose": "Memutus ganti rugi"})
    return token


def _claims(ctx: Context) -> list[CompensationClaim]:
    with ctx.db() as s:
        return list(s.scalars(select(CompensationClaim)))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_unit_records_a_claim_for_the_reporter_and_a_bad_payment_date_is_refused(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock,
        lang: str) -> None:
    number, _code = _case(ctx, demo, clock)
    token = _liaison(client, demo, clock, number)
    seq = last_seq(ctx)
    r = client.post(f"/staf/kasus/{number}/ganti-rugi/klaim", data={
        "csrf_token": token, "item_1_description": ITEM, "item_1_amount": "750.000"})
    assert r.status_code == 303 and r.headers["location"].endswith("?ok=klaim")
    assert len(_claims(ctx)) == 1
    assert "compensation.claim" in [e.action for e in audit_since(ctx, seq)]
    page = client.get(f"/staf/kasus/{number}/ganti-rugi").text
    assert ITEM in page and "Rp 750.000" in page
    assert client.post(f"/staf/kasus/{number}/ganti-rugi/lengkap",
                       data={"csrf_token": token}).status_code == 303

    seq = last_seq(ctx)
    refused = client.post(f"/staf/kasus/{number}/ganti-rugi/putusan", data={
        "csrf_token": token, "amount": "500.000", "payment_due_on": "30/04/2026",
        "reason": "Sebagian terbukti."}, headers={"Accept-Language": lang})
    assert refused.status_code == 400 and PAYMENT_DATE[lang] in refused.text
    assert "Sebagian terbukti." in refused.text  # kept
    # Nothing decided; the page shown again opened the claim, and says so in the log.
    assert [(e.action, e.outcome) for e in audit_since(ctx, seq)] == [
        ("compensation.view", "allowed")]
    [after] = _claims(ctx)
    assert (after.decided_on, after.decision_sealed, after.payment_due_on) == (None, None, None)


def test_a_step_that_does_not_exist_is_not_found(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    number, _code = _case(ctx, demo, clock)
    token = _liaison(client, demo, clock, number)
    seq = last_seq(ctx)
    assert client.post(f"/staf/kasus/{number}/ganti-rugi/hapus",
                       data={"csrf_token": token}).status_code == 404
    assert audit_since(ctx, seq) == [] and _claims(ctx) == []


def test_a_claim_after_the_session_ended_is_handed_back_unsent(
        app: Any, client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    _number, code = _case(ctx, demo, clock)
    open_mailbox(client, code)
    token = csrf_from(client, "/kotak-pesan")
    clock.advance(seconds=ctx.settings.reporter_session_idle_seconds + 60)
    r = client.post("/kotak-pesan/ganti-rugi", data={
        "csrf_token": token, "item_1_description": ITEM, "item_1_amount": "1.000.000"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 403 and "Your session ended" in r.text and "Nothing was sent" in r.text
    assert _claims(ctx) == []


def test_a_claim_on_a_closed_case_is_refused_with_the_mailbox(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    number, code = _case(ctx, demo, clock)
    open_mailbox(client, code)
    token = csrf_from(client, "/kotak-pesan")
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.case_number == number)
                  .values(state=CaseState.CLOSED.value))
    seq = last_seq(ctx)
    r = client.post("/kotak-pesan/ganti-rugi", data={
        "csrf_token": token, "item_1_description": ITEM, "item_1_amount": "1.000.000"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 409
    assert "This report has been closed, archived or forwarded" in r.text
    assert _claims(ctx) == [] and audit_since(ctx, seq) == []
