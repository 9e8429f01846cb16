"""Review of issue 12, beyond its own tests: the refused identity decision keeps the page it
was made from when the form says which (F1); a rule written by a statement (not a flush) in
the transaction is read back (F3); on SQLite a wrap updated out of being a unit content wrap
loses its holding copy, as on PostgreSQL (F4)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import insert, select, update

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional import workflow_helpers as wh
from tests.functional.test_finding_12_more_lists import many_requests  # noqa: F401
from wbs import demo as demo_module
from wbs.cases import deadlines, identity
from wbs.context import Context
from wbs.models import CaseKeyWrap, DeadlineRuleRow


def test_a_refused_decision_re_renders_the_page_it_was_made_from(
        ctx: Context, many_requests: int, demo: dict[str, dict[str, str]],  # noqa: F811
        client: Any, clock: Clock) -> None:
    custodian = wh.sign_in(ctx, demo, clock, "inspektur")
    page1 = identity.pending_page(ctx, custodian)
    page2 = identity.pending_page(ctx, custodian, after=page1.next_after)
    assert page1.next_after is not None and page2.rows
    clock.advance(seconds=31)
    sign_in(client, demo["inspektur"], "inspektur", clock)
    # From page 1 (no key in its form): page 1 again, not a page starting at the request.
    token = csrf_from(client, "/staf/identitas")
    r = client.post(f"/staf/identitas/{page1.rows[5].id}", data={
        "csrf_token": token, "decision": "deny", "reason": "too short"})
    assert r.status_code == 400
    shown = [int(i) for i in re.findall(r'id="reason-([0-9]+)"', r.text)]
    assert shown == [row.id for row in page1.rows]
    assert f'rel="next" href="/staf/identitas?setelah={page1.next_after}"' in r.text
    # From page 2, whose forms carry its key: page 2 again, with the way back to page 1.
    text = client.get(f"/staf/identitas?setelah={page1.next_after}").text
    assert f'name="setelah" value="{page1.next_after}"' in text
    token = csrf_from(client, f"/staf/identitas?setelah={page1.next_after}")
    target = page2.rows[-1]
    r = client.post(f"/staf/identitas/{target.id}", data={
        "csrf_token": token, "decision": "deny", "reason": "too short",
        "setelah": str(page1.next_after)})
    assert r.status_code == 400
    shown = [int(i) for i in re.findall(r'id="reason-([0-9]+)"', r.text)]
    assert shown == [row.id for row in page2.rows]
    assert ">too short</textarea>" in r.text
    assert 'href="/staf/identitas">' in r.text
    # Nothing was decided.
    again = identity.pending_page(ctx, custodian, after=page1.next_after)
    assert [(row.id, row.approvals) for row in again.rows] == [
        (row.id, row.approvals) for row in page2.rows]


def test_a_rule_written_by_a_statement_is_read_back_in_the_transaction(ctx: Context) -> None:
    with ctx.db.begin() as session:
        first = deadlines.load_rules(session)["verification"]
        session.execute(insert(DeadlineRuleRow).values(
            key="verification", amount=first.amount + 2, unit=first.unit.value, start=None))
        assert deadlines.load_rules(session)["verification"].amount == first.amount + 2
        session.execute(update(DeadlineRuleRow).where(DeadlineRuleRow.key == "verification")
                        .values(amount=first.amount + 4))
        assert deadlines.load_rules(session)["verification"].amount == first.amount + 4


def test_a_wrap_updated_out_of_being_a_unit_wrap_loses_its_holding_copy(
        ctx: Context, demo: dict[str, dict[str, str]]) -> None:
    demo_module.bulk(ctx.engine, 5, today=ctx.today(), seed=4)
    with ctx.db.begin() as session:
        wrap = session.scalars(select(CaseKeyWrap).where(
            CaseKeyWrap.purpose == "content", CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.next_due.is_not(None)).order_by(CaseKeyWrap.id)).first()
        assert wrap is not None and wrap.received_on is not None
        wrap_id = wrap.id
        session.execute(update(CaseKeyWrap).where(CaseKeyWrap.id == wrap_id).values(
            recipient_kind="user"))
    with ctx.db() as session:
        row = session.get_one(CaseKeyWrap, wrap_id)
        assert (row.received_on, row.next_due) == (None, None)
