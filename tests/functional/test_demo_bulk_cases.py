"""`wbs demo --cases N` (wbs.demo.bulk): it needs the demo units, a second run continues where
the first ended, and progress is reported per batch."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from wbs import demo as demo_module
from wbs.context import Context
from wbs.models import Case, CaseKeyWrap

TODAY = date(2026, 3, 2)


def _cases(ctx: Context) -> list[tuple[int, str]]:
    with ctx.db() as s:
        return [(cid, number) for cid, number in
                s.execute(select(Case.id, Case.case_number).order_by(Case.id))]


def test_bulk_cases_need_the_demo_units(ctx: Context) -> None:
    with pytest.raises(LookupError, match="load the demo units first"):
        demo_module.bulk(ctx.engine, 5, today=TODAY)
    assert _cases(ctx) == []


def test_a_second_run_continues_and_progress_is_told_per_batch(
        ctx: Context, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "BULK_BATCH", 7)
    seen: list[tuple[int, int]] = []
    assert demo_module.bulk(ctx.engine, 20, today=TODAY,
                            progress=lambda done, total: seen.append((done, total))) == 20
    assert seen == [(7, 20), (14, 20), (20, 20)]
    assert demo_module.bulk(ctx.engine, 3, today=TODAY) == 3
    cases = _cases(ctx)
    assert [cid for cid, _ in cases] == list(range(1, 24))
    assert len({number for _, number in cases}) == 23
    with ctx.db() as s:
        without_wraps = s.scalar(select(func.count()).select_from(Case).where(
            ~select(CaseKeyWrap.id).where(CaseKeyWrap.case_id == Case.id).exists()))
        assert without_wraps == 0  # every case is sealed to someone, as the real flow leaves it
        assert set(s.scalars(select(Case.report_sealed))) == {demo_module.BULK_SEALED}
