"""What is counted is set in the existing staff forms (RULES §2, §8): the verifier's category and
determination, the answering unit's kind of follow-up and promised improvement; the first
response and the completion are dated by the acts themselves, in working days across the March
2026 holidays (18–24 March)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    ANSWER,
    DISPOSED_UNIT,
    audit_since,
    case_row,
    details,
    file_report,
    last_seq,
    reporter_access,
    staff_team,
)
from wbs.cases import routing
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.models import CaseTask
from wbs.reports.counting import CountingInputError
from wbs.reports.tables import CaseCategory


def _days(clock: Clock, n: int) -> None:
    clock.advance(days=n)


@pytest.fixture(autouse=True)
def categories(ctx: Context) -> None:
    """The seeded entries used here (the PostgreSQL harness empties every table)."""
    with ctx.db.begin() as s:
        have = set(s.scalars(select(CaseCategory.slug)))
        for slug in {"standar-pelayanan", "informasi"} - have:
            s.add(CaseCategory(slug=slug, name_id=slug, name_en=slug, active=True, position=0))


def test_the_migration_seeds_the_regulations_examples(ctx: Context, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL harness empties the seeded tables")
    with ctx.db() as s:
        slugs = set(s.scalars(select(CaseCategory.slug)))
    assert {"korupsi", "penyalahgunaan-wewenang", "pelanggaran-hukum", "standar-pelayanan",
            "informasi", "aspirasi", "lain-lain"} <= slugs


def test_verifier_and_liaison_record_what_is_counted_and_the_dates_follow(
        ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    team = staff_team(ctx, demo, clock, "verifikator", "penghubung.kesehatan")
    v, liaison = team["verifikator"], team["penghubung.kesehatan"]
    filed = file_report(ctx)  # Monday 2 March 2026
    seq = last_seq(ctx)
    routing.verify_and_dispose(ctx, v, filed.number, classification="no_oversight",
                               resolution_days=14, unit_slugs=[DISPOSED_UNIT],
                               category="standar-pelayanan", determination="violation")
    row = case_row(ctx, filed.number)
    with ctx.db() as s:
        slug = s.scalars(select(CaseCategory.slug).where(CaseCategory.id == row.category_id)).one()
    assert (slug, row.determination) == ("standar-pelayanan", "violation")
    # A disposition is not a response to the reporter.
    assert row.first_response_on is None
    verify_entry = [e for e in audit_since(ctx, seq) if e.action.endswith("verify_and_dispose")]
    assert details(verify_entry[0])["category"] == "standar-pelayanan"
    routing.start_processing(ctx, liaison, filed.number)
    _days(clock, 23)  # Wednesday 25 March, the first working day after the holidays
    routing.answer(ctx, liaison, filed.number, ANSWER, followup="procedure", improvement=True)
    row = case_row(ctx, filed.number)
    # 3 4 5 6 9 10 11 12 13 16 17 25 March.
    assert (row.first_response_on.isoformat(), row.response_wd) == ("2026-03-25", 12)
    assert row.completed_on is None
    with ctx.db() as s:
        task = s.scalars(select(CaseTask).where(CaseTask.case_id == row.id)).one()
    assert (task.followup_kind, task.improvement_promised) == ("procedure", True)
    _days(clock, 1)
    routing.reporter_act(ctx, reporter_access(ctx, filed.code), Action.REPORTER_ACCEPTS)
    row = case_row(ctx, filed.number)
    assert (row.completed_on.isoformat(), row.completion_wd) == ("2026-03-26", 13)
    assert (row.first_response_on.isoformat(), row.response_wd) == ("2026-03-25", 12)


def test_an_outcome_without_a_message_is_the_first_response(
        ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    v = staff_team(ctx, demo, clock, "verifikator")["verifikator"]
    filed = file_report(ctx)
    _days(clock, 3)  # Thursday 5 March
    routing.archive(ctx, v, filed.number, "Bukan pengaduan yang dapat diproses.")
    row = case_row(ctx, filed.number)
    assert (row.first_response_on.isoformat(), row.response_wd) == ("2026-03-05", 3)
    assert (row.completed_on.isoformat(), row.completion_wd) == ("2026-03-05", 3)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("category", "tidak-ada", "category_invalid"),
    ("determination", "maybe", "determination_invalid"),
])
def test_a_wrong_choice_is_refused_and_changes_nothing(
        ctx: Context, demo: dict[str, Any], clock: Clock, field: str, value: str,
        code: str) -> None:
    v = staff_team(ctx, demo, clock, "verifikator")["verifikator"]
    filed = file_report(ctx)
    with pytest.raises(CountingInputError) as refused:
        routing.verify_and_dispose(ctx, v, filed.number, classification="no_oversight",
                                   resolution_days=14, unit_slugs=[DISPOSED_UNIT],
                                   **{field: value})
    assert refused.value.code == code
    row = case_row(ctx, filed.number)
    assert (row.state, row.category_id, row.determination) == ("received", None, None)


def test_the_forms_carry_the_choices(client: Any, ctx: Context, demo: dict[str, Any],
                                     clock: Clock) -> None:
    from tests.conftest import csrf_from, sign_in

    filed = file_report(ctx)
    sign_in(client, demo["verifikator"], "verifikator", clock)
    page = client.get(f"/staf/kasus/{filed.number}")
    if "purpose" in page.text and 'name="purpose"' in page.text:
        client.post(f"/staf/kasus/{filed.number}/tujuan", data={
            "purpose": "Menangani pengaduan", "csrf_token": csrf_from(client, "/staf/kasus")})
        page = client.get(f"/staf/kasus/{filed.number}")
    assert 'name="category"' in page.text and 'value="standar-pelayanan"' in page.text
    assert 'name="determination"' in page.text
    token = csrf_from(client, f"/staf/kasus/{filed.number}")
    bad = client.post(f"/staf/kasus/{filed.number}/aksi/verify_and_dispose", data={
        "csrf_token": token, "classification": "no_oversight", "resolution_days": "14",
        f"unit_{DISPOSED_UNIT}": DISPOSED_UNIT, "category": "tidak-ada"})
    assert bad.status_code == 400
    assert case_row(ctx, filed.number).state == "received"
    ok = client.post(f"/staf/kasus/{filed.number}/aksi/verify_and_dispose", data={
        "csrf_token": token, "classification": "no_oversight", "resolution_days": "14",
        f"unit_{DISPOSED_UNIT}": DISPOSED_UNIT, "category": "informasi",
        "determination": "dispute"})
    assert ok.status_code == 303
    row = case_row(ctx, filed.number)
    assert row.determination == "dispute" and row.category_id is not None
