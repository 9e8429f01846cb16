"""Review of issue 12 (speed2): the custodians' identity queue is now paged (20 a page), but a
decision refused for a short reason re-renders the *first* page only (identity.pending_requests
without `after`): a custodian deciding a request on page 2 gets a page without it, their typed
reason is lost, and the page has no pager links at all (no next_after in the context)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional import workflow_helpers as wh
from tests.functional.test_finding_12_more_lists import many_requests  # noqa: F401
from wbs.cases import identity
from wbs.context import Context


def test_a_refused_decision_on_page_two_keeps_its_request_and_reason(
        ctx: Context, many_requests: int, demo: dict[str, dict[str, str]],  # noqa: F811
        client: Any, clock: Clock) -> None:
    custodian = wh.sign_in(ctx, demo, clock, "inspektur")
    every = identity.pending_page(ctx, custodian, per_page=10_000).rows
    assert len(every) > identity.PER_PAGE
    target = every[identity.PER_PAGE + 2]  # on page 2
    clock.advance(seconds=31)
    sign_in(client, demo["inspektur"], "inspektur", clock)
    page1 = identity.pending_page(ctx, custodian)
    token = csrf_from(client, f"/staf/identitas?setelah={page1.next_after}")
    r = client.post(f"/staf/identitas/{target.id}",
                    data={"csrf_token": token, "decision": "approve", "reason": "short"})
    assert r.status_code == 400
    # The request the custodian was deciding, with what they typed, is on the page again.
    assert f'id="reason-{target.id}"' in r.text
    assert ">short</textarea>" in r.text


def test_the_dashboard_count_of_requests_awaiting_a_decision_is_not_the_page_size(
        ctx: Context, many_requests: int, demo: dict[str, dict[str, str]],  # noqa: F811
        client: Any, clock: Clock) -> None:
    """The start page says "awaiting your decision: N" with N = len(first page) (at most 20)
    since identity.awaiting_decision became one page: a custodian with 40 requests to decide
    is told 20, and nothing says there are more."""
    import re

    custodian = wh.sign_in(ctx, demo, clock, "inspektur")
    every = identity.pending_page(ctx, custodian, per_page=10_000, undecided=True).rows
    assert len(every) > identity.PER_PAGE
    clock.advance(seconds=31)
    sign_in(client, demo["inspektur"], "inspektur", clock)
    text = client.get("/staf").text
    said = re.search(r'id="identity-waiting">\s*<p><strong>[^<]*?([0-9]+)</strong>', text)
    assert said is not None
    assert int(said.group(1)) == len(every)
