"""Intake seals a report before its write transaction (issue 12: the cryptography runs outside
SQLite's one write lock), bound to a case number and units read just before. What changes in
between must never produce a case sealed to the wrong number, unit or key:

- a number taken meanwhile is drawn again (and everything bound to it sealed again);
- a unit key rotated meanwhile is used for the wrap, not the one sealed ahead, so the unit
  opens the case with its new key;
- the receiving unit changed meanwhile: the case goes to the unit that receives now.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.conftest import Clock, sign_in
from tests.functional.test_roundtrip import staff_open
from tests.security.test_key_lifecycle import _client
from wbs.cases import intake, numbers, receipts, reporter, sealing
from wbs.context import Context
from wbs.enums import Channel, ReportKind, UnitKind
from wbs.models import Case, CaseKeyWrap, Unit
from wbs.ops import keys

WB = intake.ReportInput(kind=ReportKind.WHISTLEBLOWING, title="Suap",
                        what="Isi rahasia sealed-ahead")


def _case(ctx: Context, number: str) -> Case:
    with ctx.db() as s:
        return s.scalars(select(Case).where(Case.case_number == number)).one()


def test_a_number_taken_between_sealing_and_storing_is_drawn_again(
        ctx: Context, demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = intake.submit(ctx, WB, [], Channel.WEB)
    drawn: list[str] = []
    real = numbers.draw

    def racing(year: int) -> str:
        # The first draw is a number another report has taken (here, one already stored).
        drawn.append(first.case_number if not drawn else real(year))
        return drawn[-1]

    monkeypatch.setattr(numbers, "draw", racing)
    second = intake.submit(ctx, WB, [], Channel.WEB)
    assert len(drawn) == 2 and second.case_number == drawn[1] != first.case_number
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 2
    case = _case(ctx, second.case_number)
    # Everything bound to the number was sealed again for the new one: the reporter's code
    # opens the report, and the receipt names the number it was stored under.
    access = reporter.access_by_code(ctx, second.code)
    assert access is not None and access.case_number == second.case_number
    with ctx.db() as s:
        key = sealing.reporter_unwrap(s, case, "content", access.secret)
    assert sealing.open_json(key, case, "report", case.report_sealed)["what"] == WB.what
    check = receipts.verify_receipt(ctx.keys.receipt_public, second.receipt)
    assert check.valid and check.case_number == second.case_number
    assert check.digest == case.report_digest


def test_a_unit_key_rotated_between_sealing_and_storing_wraps_to_the_new_key(
        app: Any, ctx: Context, demo: Any, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ahead = intake._seal_ahead
    seen: list[bytes] = []

    def then_rotate(*args: Any, **kwargs: Any) -> Any:
        sealed = ahead(*args, **kwargs)
        seen.append(sealed.wraps["content"].public_key)
        keys.rotate_unit_key(ctx, "inspektorat", "investigator",
                             demo["investigator"]["password"])
        return sealed

    monkeypatch.setattr(intake, "_seal_ahead", then_rotate)
    filed = intake.submit(ctx, WB, [], Channel.WEB)
    with ctx.db() as s:
        unit = s.scalars(select(Unit).where(Unit.slug == "inspektorat")).one()
        wrap = s.scalars(select(CaseKeyWrap).join(Case).where(
            Case.case_number == filed.case_number, CaseKeyWrap.purpose == "content",
            CaseKeyWrap.recipient_kind == "unit")).one()
    assert unit.public_key != seen[0] and unit.key_serial == wrap.unit_key_serial == 1
    investigator = _client(app)
    sign_in(investigator, demo["investigator"], "investigator", clock)
    assert "Isi rahasia sealed-ahead" in staff_open(investigator, filed.case_number).text


def test_a_receiving_unit_changed_between_sealing_and_storing_receives_the_case(
        ctx: Context, demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "_UNITS_HINT", {})  # no hint left by another test's database
    ahead = intake._seal_ahead
    with ctx.db() as s:
        team = s.scalars(select(Unit).where(Unit.kind == UnitKind.VERIFIER_TEAM.value)).one()
        other = s.scalars(select(Unit).where(Unit.kind != UnitKind.CUSTODIAN.value,
                                             Unit.id < team.id).order_by(Unit.id)).first()
    assert other is not None  # the demo makes the inspektorat first
    calls: list[int] = []

    def then_reassign(*args: Any, **kwargs: Any) -> Any:
        sealed = ahead(*args, **kwargs)
        if not calls:  # an administrator makes an older unit the verifier team meanwhile
            with ctx.db.begin() as s:
                s.execute(update(Unit).where(Unit.id == other.id)
                          .values(kind=UnitKind.VERIFIER_TEAM.value))
        calls.append(sealed.units[0].id)
        return sealed

    monkeypatch.setattr(intake, "_seal_ahead", then_reassign)
    complaint = intake.ReportInput(kind=ReportKind.COMPLAINT, title="Loket", what="Keluhan")
    filed = intake.submit(ctx, complaint, [], Channel.WEB)
    assert calls == [team.id, other.id]  # sealed again, for the unit that receives now
    assert _case(ctx, filed.case_number).receiving_unit_id == other.id
    with ctx.db() as s:
        wrapped_to = s.scalars(select(CaseKeyWrap.recipient_id).join(Case).where(
            Case.case_number == filed.case_number, CaseKeyWrap.purpose == "content",
            CaseKeyWrap.recipient_kind == "unit")).all()
    assert wrapped_to == [other.id]
