"""Review of issue 8 finding 10 on the LAPOR! manual export (merged after it): the export
hands over each pending document's title and content, so a case hidden from the exporter (a
declared conflict of interest, RULES §6) must not be in the exporter's file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.workflow_helpers import REASON, audit_since, last_seq, staff_team
from wbs.cases import intake, routing
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import Case, Conflict, LaporOutboxItem, User

TITLE = "Pungutan CANARY-REVIEW8-LAPOR di puskesmas"


def test_review_8_lapor_export_leaves_out_a_case_hidden_from_the_exporter(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    report = intake.ReportInput(kind=ReportKind.COMPLAINT, title=TITLE, what="Isi CANARY.")
    number = intake.submit(ctx, report, [], Channel.WEB).case_number
    verifier = staff_team(ctx, demo, clock, "verifikator")["verifikator"]
    routing.forward_external(ctx, verifier, number, "sp4n_lapor", REASON)
    with ctx.db.begin() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        user_id = s.scalars(select(User.id).where(User.username == "verifikator")).one()
        s.add(Conflict(case_id=case_id, user_id=user_id, reason="Saudara saya",
                       declared_at=datetime(2026, 3, 2, tzinfo=UTC)))
    clock.advance(seconds=31)  # a TOTP code is accepted once
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    seq = last_seq(ctx)
    download = client.post("/staf/lapor/ekspor",
                           data={"csrf_token": csrf_from(client, "/staf/lapor")})
    assert download.status_code == 200
    assert "CANARY" not in download.text and number not in download.text
    assert json.loads(download.content)["item"] == []
    with ctx.db() as s:
        # Still pending: another verifier (or the connector) hands it over.
        assert s.scalars(select(LaporOutboxItem.state)).all() == ["pending"]
    [row] = [e for e in audit_since(ctx, seq) if e.action == "lapor.outbox.export"]
    assert json.loads(row.details)["items"] == 0
