"""Review of issue 8 finding 13 on routes merged after it: ids in a URL past PostgreSQL's
`integer` range must be the ordinary 404 (or a refusal), never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from wbs.context import Context

BIG = ("2147483648", "99999999999999999999", "9" * 400)


@pytest.fixture
def loose(app: Any) -> Any:
    with TestClient(app, base_url="https://testserver", follow_redirects=False,
                    raise_server_exceptions=False) as c:
        yield c


def test_review_8_report_document_ids_past_the_integer_range_are_a_404(
        loose: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    for big in BIG:
        assert loose.get(f"/statistik/laporan/{big}").status_code == 404, big
        assert loose.get(f"/statistik/laporan/{big}.pdf").status_code == 404, big
    sign_in(loose, demo["pimpinan"], "pimpinan", clock)
    token = csrf_from(loose, "/staf/laporan")
    for big in BIG:
        assert loose.get(f"/staf/laporan/{big}").status_code == 404, big
        assert loose.get(f"/staf/laporan/{big}.pdf").status_code == 404, big
        answer = loose.post(f"/staf/laporan/{big}/terbitkan", data={"csrf_token": token})
        assert 400 <= answer.status_code < 500, (big, answer.status_code)
        for action in ("rencana", "terbitkan"):
            answer = loose.post(f"/staf/skm/{big}/{action}", data={
                "csrf_token": token, "programme_1": "Program", "element_1": "1"})
            assert 400 <= answer.status_code < 500, (big, action, answer.status_code)


def test_review_8_survey_ids_past_the_integer_range_are_refused_on_paper_entry(
        loose: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    sign_in(loose, demo["admin"], "admin", clock)
    token = csrf_from(loose, "/staf/skm")
    for big in BIG:
        answer = loose.post(f"/staf/skm/{big}/kertas", data={"csrf_token": token})
        assert 400 <= answer.status_code < 500, (big, answer.status_code)
