"""The SKM staff page refuses a bad round, paper form, plan or publication with a message in the
reader's language, and a refusal stores and records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_surveys import ANSWERS, _answers, _create
from tests.functional.workflow_helpers import audit_since, last_seq
from wbs.context import Context
from wbs.reports.tables import SkmResponse, SkmSurvey

MESSAGES = {
    "period_invalid": {
        "en": "Please give a period as two dates, the first not after the second.",
        "id": "Mohon isi periode dengan dua tanggal, yang pertama tidak sesudah yang kedua."},
    "survey_exists": {"en": "This unit already has a survey starting on that day.",
                      "id": "Unit ini sudah memiliki survei yang dimulai pada hari itu."},
    "plan_invalid": {
        "en": "Each action needs an element, a term, a programme, a time and who is responsible.",
        "id": "Setiap tindakan memerlukan unsur, jangka waktu, program, waktu, dan penanggung "
              "jawab."},
    "answers_required": {"en": "Please answer all nine questions.",
                         "id": "Mohon jawab kesembilan pertanyaan."},
    "other": {"en": "Please check the form.", "id": "Mohon periksa formulir."},
}
ROUND = {"unit": "dinas-kesehatan", "service": "Pelayanan puskesmas", "dari": "2026-03-01",
         "sampai": "2026-03-31", "population": "150"}


def _surveys(ctx: Context) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(SkmSurvey)) or 0)


def _post(client: TestClient, path: str, lang: str, **data: str) -> Any:
    token = csrf_from(client, "/staf/skm")
    return client.post(path, data={"csrf_token": token, **data},
                       headers={"Accept-Language": lang})


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_round_with_a_bad_period_a_second_start_or_no_such_unit_is_refused(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock,
        lang: str) -> None:
    sign_in(client, demo["admin"], "admin", clock)
    seq = last_seq(ctx)
    for data, message in (({**ROUND, "dari": "1 Maret 2026"}, "period_invalid"),
                          ({**ROUND, "sampai": ""}, "period_invalid"),
                          ({**ROUND, "unit": "dinas-tidak-ada"}, "other")):
        r = _post(client, "/staf/skm", lang, **data)
        assert r.status_code == 400 and MESSAGES[message][lang] in r.text, data
    assert _surveys(ctx) == 0 and audit_since(ctx, seq) == []

    assert _post(client, "/staf/skm", lang, **ROUND).status_code == 303
    seq = last_seq(ctx)
    r = _post(client, "/staf/skm", lang, **{**ROUND, "service": "Lain"})
    assert r.status_code == 400 and MESSAGES["survey_exists"][lang] in r.text
    assert _surveys(ctx) == 1 and audit_since(ctx, seq) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_paper_forms_plans_and_publication_are_refused_for_bad_input_or_no_such_round(
        client: TestClient, ctx: Context, demo: dict[str, Any], clock: Clock,
        lang: str) -> None:
    _create(client, demo, clock)
    with ctx.db() as s:
        survey_id = s.scalars(select(SkmSurvey.id)).one()
    missing = survey_id + 1000
    clock.advance(seconds=31)
    sign_in(client, demo["admin"], "admin", clock)
    seq = last_seq(ctx)
    r = _post(client, f"/staf/skm/{survey_id}/kertas", lang, e1="4", e2="3")
    assert r.status_code == 400 and MESSAGES["answers_required"][lang] in r.text
    r = _post(client, f"/staf/skm/{missing}/kertas", lang, **_answers(ANSWERS[0]))
    assert r.status_code == 400 and MESSAGES["other"][lang] in r.text
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(SkmResponse)) == 0
    client.post("/keluar", data={"csrf_token": csrf_from(client, "/staf")})

    clock.advance(seconds=31)
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    plan = {"element_1": "8", "term_1": "short", "programme_1": "Loket dibuka setiap hari",
            "when_1": "Triwulan II 2026", "who_1": "Kepala Tata Usaha"}
    for bad in ({"element_1": "10"}, {"term_1": "someday"}, {"programme_1": "Lok"},
                {"when_1": " "}, {"who_1": ""}):
        r = _post(client, f"/staf/skm/{survey_id}/rencana", lang, **{**plan, **bad})
        assert r.status_code == 400 and MESSAGES["plan_invalid"][lang] in r.text, bad
    r = _post(client, f"/staf/skm/{missing}/rencana", lang, **plan)
    assert r.status_code == 400 and MESSAGES["other"][lang] in r.text
    r = _post(client, f"/staf/skm/{missing}/terbitkan", lang)
    assert r.status_code == 400 and MESSAGES["other"][lang] in r.text
    assert [e.action for e in audit_since(ctx, seq)] == ["auth.sign_out", "auth.sign_in"]
    with ctx.db() as s:
        survey = s.get(SkmSurvey, survey_id)
        assert survey is not None and survey.published_at is None
        assert survey.follow_up_plan in (None, "", "[]")


def test_a_survey_link_of_the_wrong_shape_is_not_looked_up(client: TestClient) -> None:
    for token in ("pendek", "a" * 33, "bukan.token.yang.sah!"):
        assert client.get(f"/survei/{token}").status_code == 404
        assert client.get(f"/survei/{token}/qr.svg").status_code == 404
