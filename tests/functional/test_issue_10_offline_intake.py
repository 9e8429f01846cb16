"""Issue 10, smaller gaps: an offline report counts from the day it was received, not the
day it was typed in; a face-to-face record is signed or attested."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from tests.security.test_finding_9_offline_intake import LETTER, _intake
from wbs.context import Context
from wbs.models import AuditEntry, Case, Deadline


def test_an_offline_report_counts_from_the_day_it_was_received(
        client: TestClient, demo: Any, clock: Clock, ctx: Context) -> None:
    # A letter that arrived on Friday 27 February 2026, typed in on Monday 2 March.
    sign_in(client, demo["verifikator"], "verifikator", clock)
    receipt = _intake(client, {**LETTER, "received_on": "2026-02-27"})
    assert receipt.status_code == 200
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        due = s.scalars(select(Deadline.due_on).where(Deadline.case_id == case.id,
                                                      Deadline.kind == "verification")).one()
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.intake")).all()
    assert case.received_on == date(2026, 2, 27)
    # Hand-counted: 2, 3, 4 March 2026 are the three working days after Friday 27 February.
    assert due == date(2026, 3, 4)
    assert json.loads(entry.details)["received_on"] == "2026-02-27"
    assert "27 Februari 2026" in receipt.text or "2026-02-27" in receipt.text


def test_offline_dates_are_checked(client: TestClient, demo: Any, clock: Clock,
                                   ctx: Context) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    for bad in ("2026-03-03", "2025-10-01", "27/02/2026"):
        refused = _intake(client, {**LETTER, "received_on": bad})
        assert refused.status_code == 400, bad
        assert LETTER["what"] in refused.text  # nothing typed is lost
    with ctx.db() as s:
        assert s.scalars(select(Case)).all() == []


def test_a_face_to_face_record_is_signed_or_attested(client: TestClient, demo: Any,
                                                     clock: Clock, ctx: Context) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    in_person = {**LETTER, "channel": "face_to_face"}
    assert _intake(client, in_person).status_code == 400
    assert _intake(client, {**in_person, "attested": "1"}).status_code == 200
    with ctx.db() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.intake")).all()
    assert json.loads(entry.details)["attested"] is True
