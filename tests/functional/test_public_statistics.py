"""The public page `/statistik` (issue 11 done-when 3): on a generated data set, no figure below
the threshold is shown, and none hidden can be worked out from the rows, columns and totals of
the same table; published SKM results appear with their method, unpublished ones do not."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

from tests.functional.stats_history import unit
from tests.unit.reports.test_suppression import _derivable
from wbs.context import Context
from wbs.models import Case
from wbs.reports import public_stats
from wbs.reports.suppression import extend

KINDS = ("complaint", "aspiration", "information_request", "whistleblowing")
CHANNELS = ("web", "letter", "sms", "telephone", "complaint_box")
STATES = ("received", "needs_info", "verified", "in_process", "answered", "closed", "archived",
          "forwarded")


def _generate(ctx: Context, seed: int, n: int) -> None:
    import secrets

    rng = random.Random(seed)
    with ctx.db.begin() as s:
        receiving = unit(s, "pub-verifier", "verifier_team")
        for k in range(n):
            # Skewed draws: some groups get a handful of cases, some many.
            s.add(Case(case_number=f"WBS-P-{k:05d}", lookup_hash=secrets.token_bytes(32),
                       reporter_salt=secrets.token_bytes(16),
                       kind=rng.choices(KINDS, weights=(60, 20, 15, 3))[0],
                       channel=rng.choices(CHANNELS, weights=(50, 20, 10, 5, 2))[0],
                       state=rng.choices(STATES, weights=(5, 2, 3, 10, 4, 40, 8, 1))[0],
                       received_on=date(2026, rng.randint(1, 2), rng.randint(1, 28)),
                       receiving_unit_id=receiving, report_sealed=b"s",
                       report_digest=b"d" * 32))


def test_no_small_figure_is_shown_or_derivable(ctx: Context, clock: Any) -> None:
    _generate(ctx, 11, 140)
    page = public_stats.build(ctx, 2026)
    assert page.threshold == 5
    checked = 0
    for table in page.tables:
        grid = table.grid
        shown_numbers = [int(grid.shown(i, j)) for i in range(len(grid.values))
                         for j in range(len(grid.values[0]))
                         if grid.shown(i, j).isdigit()]
        assert all(v >= 5 for v in shown_numbers)
        assert _derivable(grid.values, set(grid.hidden)) == set()
        checked += len(grid.hidden)
        assert grid.values == extend([row[:-1] for row in grid.values[:-1]])
    assert checked > 0  # the data set does have small cells


def test_the_page_shows_only_suppressed_figures(client: Any, ctx: Context) -> None:
    _generate(ctx, 3, 60)
    html = client.get("/statistik?tahun=2026").text
    page = public_stats.build(ctx, 2026)
    for table in page.tables:
        section = html.split(f'data-table="{table.key}"')[1].split("</table>")[0]
        cells = re.findall(r"<td>([^<]*)</td>", section)
        expected = [table.grid.shown(i, j) for i in range(len(table.grid.values))
                    for j in range(len(table.grid.values[0]))]
        assert [c.replace("&lt;", "<") for c in cells] == expected
        for value in cells:
            assert not value.isdigit() or int(value) >= 5
    # The chart's text alternative holds no small figure either.
    for desc in re.findall(r"<desc[^>]*>([^<]*)</desc>", html):
        for number in re.findall(r": (\d+)", desc):
            assert int(number) >= 5
    assert "Krejcie" in html
