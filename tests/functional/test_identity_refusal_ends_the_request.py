"""One custodian's refusal ends an identity request: no later approval discloses, the investigator
reads nothing, and the refusal is audited with its reason. Asking again while a request is
pending gives the same request, not a second one to shop around with."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.functional.test_jobs import staff
from wbs.cases import identity, intake, service
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import AuditEntry, CaseKeyWrap, IdentityRequest

REASON = "Laporan resmi ke Kejaksaan memerlukan identitas pelapor (PP 43/2018)."


def test_a_refusal_ends_the_request(ctx: Context, demo: Any, clock: Clock) -> None:
    done = intake.submit(ctx, intake.ReportInput(
        kind=ReportKind.WHISTLEBLOWING, title="Suap proyek jalan",
        what="Kontraktor menyuap pejabat.", identity=intake.Identity(name="Rahmat Saksi")),
        [], Channel.WEB)
    number = done.case_number
    investigator = staff(ctx, demo, clock, "investigator")
    service.state_purpose(ctx, investigator, number, "Pemeriksaan laporan")
    first = identity.request_identity(ctx, investigator, number, REASON)
    assert identity.request_identity(ctx, investigator, number, REASON) == first
    with ctx.read() as session:
        assert session.scalar(select(func.count(IdentityRequest.id))) == 1

    custodian = staff(ctx, demo, clock, "inspektur")
    assert identity.decide(ctx, custodian, first, False, "Belum ada dasar hukum yang cukup.") \
        == "denied"
    with pytest.raises(identity.AlreadyDecided):
        identity.decide(ctx, custodian, first, True, "Berubah pikiran, disetujui saja.")
    with pytest.raises(service.AccessDenied):
        identity.read_identity(ctx, investigator, number)
    with ctx.read() as session:
        assert session.get(IdentityRequest, first).state == "denied"
        assert session.scalar(select(func.count(CaseKeyWrap.id)).where(
            CaseKeyWrap.recipient_kind == "user")) == 0
        [decided] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "identity.decide")).all()
    assert '"approve":false' in decided.details
    assert decided.reason == "Belum ada dasar hukum yang cukup."
    # A new request may follow (with its own reason); it starts from nothing.
    second = identity.request_identity(ctx, investigator, number, REASON + " Permintaan ulang.")
    assert second != first
