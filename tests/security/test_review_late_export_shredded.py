# ruff: noqa: F811 - the fixtures `stub` and `team` are imported from the consent tests
"""Review of the late merges (consent-fix, retention): a PASSING probe. The manual SP4N-LAPOR!
export reads every item in ('pending', 'failed'); shredding turns a pending item into a failed
one with an empty payload. The export does not try to open it: the shredded case has no holding
unit left, so it is hidden from the exporting verifier and skipped (access.hidden_from)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.test_profiles2_lapor_consent import (  # noqa: F401 - fixtures
    _file,
    stub,
    team,
)
from tests.functional.workflow_helpers import REASON
from wbs.cases import routing
from wbs.cases.service import actor_of
from wbs.context import Context
from wbs.enums import CaseState
from wbs.integrations import outbox
from wbs.models import Case, CaseEvent, LaporOutboxItem
from wbs.ops import retention


def test_review_late_the_export_survives_a_shredded_case(
        ctx: Context, team: Any, clock: Clock) -> None:
    shredded, _code = _file(ctx)
    routing.forward_external(ctx, team["verifikator"], shredded, "sp4n_lapor", REASON)
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == shredded)).one()
        assert s.scalars(select(LaporOutboxItem).where(
            LaporOutboxItem.case_id == case.id)).all(), "no outbox item queued"
        case.state = CaseState.CLOSED.value
        s.add(CaseEvent(case_id=case.id, state=CaseState.CLOSED.value, on=ctx.today()))
    clock.advance(days=6 * 366)
    assert retention.shred_expired(ctx) == 1
    with ctx.db() as s:
        case = s.scalars(select(Case).where(Case.case_number == shredded)).one()
        items = s.scalars(select(LaporOutboxItem).where(LaporOutboxItem.case_id == case.id)).all()
        assert {(i.state, i.last_error, i.payload_sealed) for i in items} == {
            ("failed", "shredded", b"")}

    # A later case, queued for LAPOR! as usual: the export must still hand it over.
    later, _ = _file(ctx)
    routing.forward_external(ctx, team["verifikator"], later, "sp4n_lapor", REASON)
    exported = outbox.export_pending(ctx, actor_of(team["verifikator"]))
    assert later.encode() in exported
    assert shredded.encode() not in exported
