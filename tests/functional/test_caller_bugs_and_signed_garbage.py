"""Inputs no honest path produces are refused loudly (caller bugs) or quietly (a signed receipt
whose content is not a receipt): holds need a reason, notices a known kind and a batch time,
a unit's pending key can only be peeked while it is pending."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from wbs import notices, units
from wbs.cases import intake, receipts
from wbs.context import Context
from wbs.crypto import signing
from wbs.enums import Channel, ReportKind
from wbs.models import Case, Notice, Unit
from wbs.ops import retention


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("payload", [
    b"not json", b"[1, 2]", json.dumps({"case": "WBS-1", "on": "kemarin", "digest": "00"}).encode(),
    json.dumps({"case": "WBS-1", "on": "2026-03-02", "digest": "zz"}).encode(),
    json.dumps({"case": "WBS-1", "on": "2026-03-02"}).encode(),
])
def test_a_signed_receipt_that_is_not_a_receipt_is_not_valid(ctx: Context,
                                                             payload: bytes) -> None:
    """Signed with the real key (say, by a bug or a stolen key used carelessly): still refused,
    never an error page."""
    private = ctx.keys.receipt_private
    text = (f"{receipts.PREFIX}.{_b64(payload)}."
            f"{_b64(signing.sign(private, receipts._DOMAIN + payload))}")
    assert receipts.verify_receipt(signing.public_key_of(private), text) == \
        receipts.ReceiptCheck(valid=False)


def test_a_legal_hold_needs_a_reason(ctx: Context, demo: Any) -> None:
    done = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="Laporan",
                                                 what="Isi laporan."), [], Channel.WEB)
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(retention.HoldError, match="reason_required"):
            retention.place_hold(ctx, done.case_number, reason, "admin")
        with pytest.raises(retention.HoldError, match="reason_required"):
            retention.lift_hold(ctx, done.case_number, reason, "admin")


def test_notices_refuse_an_unknown_kind_and_need_a_batch_time(ctx: Context, demo: Any) -> None:
    done = intake.submit(ctx, intake.ReportInput(kind=ReportKind.COMPLAINT, title="Laporan",
                                                 what="Isi laporan."), [], Channel.WEB)
    with ctx.db.begin() as session:
        case = session.scalars(select(Case).where(Case.case_number == done.case_number)).one()
        before = len(session.scalars(select(Notice.id)).all())
        with pytest.raises(ValueError, match="unknown notice kind"):
            notices.notify_unit(session, ctx, case, case.receiving_unit_id, "gossip", None)
        assert len(session.scalars(select(Notice.id)).all()) == before
    with pytest.raises(ValueError, match="no notice batch times"):
        notices.next_batch(datetime(2026, 3, 2, 9, tzinfo=UTC), "Asia/Jakarta", ())


def test_a_units_key_is_pending_only_until_it_has_members(ctx: Context, demo: Any) -> None:
    with ctx.read() as session:
        staffed = session.scalars(select(Unit).where(Unit.slug == "inspektorat")).one()
    assert staffed.pending_private_sealed is None
    with pytest.raises(ValueError, match="has members"):
        units.peek_pending_private_key(ctx, staffed)
    assert units.take_pending_private_key(ctx, staffed) is None
