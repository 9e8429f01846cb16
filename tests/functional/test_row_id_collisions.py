"""Per-case row ids (wbs/row_ids.py) are random: an id that another case already holds is drawn
again, never reused; if no free id can be found the flush fails and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from wbs import row_ids
from wbs.cases import intake
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import Case, CaseEvent, CaseKeyWrap


def _report(n: int) -> intake.ReportInput:
    return intake.ReportInput(kind=ReportKind.COMPLAINT, title=f"Laporan {n}",
                              what=f"Isi laporan {n}: pungutan liar di loket pelayanan.")


def _case_id(ctx: Context, number: str) -> int:
    with ctx.read() as session:
        return session.scalars(select(Case.id).where(Case.case_number == number)).one()


def _ids(ctx: Context, model: type[Any], case_id: int) -> list[int]:
    with ctx.read() as session:
        return list(session.scalars(select(model.id).where(model.case_id == case_id)
                                    .order_by(model.id)))


def test_an_id_another_case_holds_is_drawn_again(ctx: Context, demo: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = intake.submit(ctx, _report(1), [], Channel.WEB)
    first_id = _case_id(ctx, first.case_number)
    taken = _ids(ctx, CaseEvent, first_id)[0]
    real = row_ids._candidate
    offered: list[int] = []

    def candidate(base: int | None) -> int:
        # The first id offered for a new case's first row is the other case's event id.
        value = taken if base is None and not offered else real(base)
        offered.append(value)
        return value

    monkeypatch.setattr(row_ids, "_candidate", candidate)
    second = intake.submit(ctx, _report(2), [], Channel.WEB)
    second_id = _case_id(ctx, second.case_number)
    events = _ids(ctx, CaseEvent, second_id)
    assert offered[0] == taken and events and taken not in events
    assert _ids(ctx, CaseEvent, first_id)[0] == taken  # the first case's row is untouched
    assert len(_ids(ctx, CaseKeyWrap, second_id)) >= 1


def test_no_free_id_fails_the_flush_and_stores_nothing(ctx: Context, demo: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    first = intake.submit(ctx, _report(1), [], Channel.WEB)
    first_id = _case_id(ctx, first.case_number)
    with ctx.read() as session:
        cases_before = session.scalar(select(func.count(Case.id)))
    taken = _ids(ctx, CaseEvent, first_id)[0]
    monkeypatch.setattr(row_ids, "_candidate", lambda _base: taken)
    with pytest.raises(RuntimeError, match="no free ids"):
        intake.submit(ctx, _report(2), [], Channel.WEB)
    with ctx.read() as session:
        assert session.scalar(select(func.count(Case.id))) == cases_before
        assert session.scalar(select(func.count(CaseEvent.id))) == len(
            _ids(ctx, CaseEvent, first_id))


def test_ids_beyond_a_32_bit_integer_are_drawn_again(ctx: Context, demo: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = row_ids._candidate
    calls: list[int] = []

    def candidate(base: int | None) -> int:
        calls.append(1)
        return 2**31 if len(calls) == 1 else real(base)

    monkeypatch.setattr(row_ids, "_candidate", candidate)
    done = intake.submit(ctx, _report(3), [], Channel.WEB)
    case_id = _case_id(ctx, done.case_number)
    assert max(_ids(ctx, CaseEvent, case_id)) <= 2**31 - 1
    assert len(calls) > 1
