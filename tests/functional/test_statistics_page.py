"""The staff statistics page and its CSV: leadership only, recorded, CSV-injection safe, and
working with no case or unit key anywhere (RULES §1, §8)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import delete, select, update

from tests.conftest import Clock, sign_in
from tests.functional.stats_history import build_history
from wbs.context import Context
from wbs.models import AuditEntry, CaseKeyWrap, Unit, UnitKeyWrap
from wbs.reports.tables import CaseCategory

MARCH = "dari=2026-03-01&sampai=2026-03-31"


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def _audit(ctx: Context, action: str) -> list[AuditEntry]:
    with ctx.db() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_leadership_reads_the_month_without_any_key(client: Any, ctx: Context,
                                                    demo: dict[str, Any], clock: Clock) -> None:
    build_history(ctx)
    # No key of any case or unit exists any more: the page reads metadata only.
    with ctx.db.begin() as s:
        s.execute(delete(CaseKeyWrap))
        s.execute(delete(UnitKeyWrap))
        s.execute(update(Unit).values(pending_private_sealed=None))
    clock.advance(days=44)  # 15 April 2026
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    page = client.get(f"/staf/statistik?{MARCH}")
    assert page.status_code == 200
    html = page.text
    assert (_figure(html, "received"), _figure(html, "not_responded"),
            _figure(html, "not_completed"), _figure(html, "avg_response"),
            _figure(html, "avg_completion"), _figure(html, "overdue")) == (
        "8", "3", "5", "2.80", "6.33", "1")
    complaint = re.search(r'data-row="complaint"><th scope="row">[^<]*</th>'
                          r'((?:<td>[^<]*</td>){6})', html)
    assert complaint is not None
    assert re.findall(r"<td>([^<]*)</td>", complaint.group(1)) == [
        "5", "3", "3", "2.50", "8.00", "1"]
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert "<desc id=\"chart-kind-d\">" in html
    [entry] = _audit(ctx, "stats.view")
    assert entry.actor == "pimpinan" and '"cases":8' in entry.details


def test_the_csv_holds_the_figures_and_defuses_formulas(client: Any, ctx: Context,
                                                        demo: dict[str, Any],
                                                        clock: Clock) -> None:
    ids = build_history(ctx)
    with ctx.db.begin() as s:
        s.execute(update(CaseCategory).where(CaseCategory.id == ids["cat_a"])
                  .values(name_id="=HYPERLINK(\"http://x\")", name_en="=HYPERLINK(\"http://x\")"))
    clock.advance(days=44)
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    response = client.get(f"/staf/statistik.csv?{MARCH}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    by = {(r[0], r[1]): r[2:] for r in rows if len(r) == 8}
    assert by[("total", "")] == ["8", "3", "5", "2.80", "6.33", "1"]
    assert by[("category", "'=HYPERLINK(\"http://x\")")] == ["2", "0", "0", "2.50", "8.00", "0"]
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert len(_audit(ctx, "stats.export")) == 1


def test_a_verifier_is_refused_and_the_refusal_is_recorded(client: Any, ctx: Context,
                                                            demo: dict[str, Any],
                                                            clock: Clock) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    for path in ("/staf/statistik", "/staf/statistik.csv"):
        assert client.get(path).status_code == 403
    denied = [e for e in _audit(ctx, "access.route") if e.outcome == "denied"]
    assert len(denied) == 2


def test_a_wrong_period_is_said_and_nothing_breaks(client: Any, ctx: Context,
                                                   demo: dict[str, Any], clock: Clock) -> None:
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    page = client.get("/staf/statistik?dari=2026-03-31&sampai=2026-03-01")
    assert page.status_code == 400 and 'role="alert"' in page.text
    page = client.get("/staf/statistik?unit=tidak-ada")
    assert page.status_code == 400 and 'role="alert"' in page.text


def test_the_administrator_keeps_categories_and_targets(client: Any, ctx: Context,
                                                        demo: dict[str, Any],
                                                        clock: Clock) -> None:
    from tests.conftest import csrf_from
    from wbs.reports.tables import StatTarget

    sign_in(client, demo["admin"], "admin", clock)
    token = csrf_from(client, "/staf/kategori")
    url = "/staf/kategori"
    assert client.post(url, data={"csrf_token": token, "what": "target", "year": "2026",
                                  "received": "76", "completed_pct": "100"}).status_code == 303
    bad = client.post(url, data={"csrf_token": token, "what": "target", "year": "2026",
                                 "received": "76", "completed_pct": "101"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert client.post(url, data={"csrf_token": token, "what": "category", "slug": "pendidikan",
                                  "name_id": "Pendidikan", "name_en": "Education"}
                       ).status_code == 303
    assert client.post(url, data={"csrf_token": token, "what": "category", "slug": "pendidikan",
                                  "name_id": "Lagi", "name_en": "Again"}).status_code == 400
    assert client.post(url, data={"csrf_token": token, "what": "retire",
                                  "slug": "pendidikan"}).status_code == 303
    with ctx.db() as s:
        target = s.get(StatTarget, 2026)
        assert target is not None and (target.received, target.completed_pct) == (76, 100)
        row = s.scalars(select(CaseCategory).where(CaseCategory.slug == "pendidikan")).one()
        assert (row.name_id, row.active) == ("Pendidikan", False)
    actions = [e.action for e in _audit(ctx, "config.stat_target")]
    assert actions == ["config.stat_target"]
    assert len(_audit(ctx, "config.category")) == 2
