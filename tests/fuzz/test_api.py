"""The JSON API's readers under arbitrary bodies: a clear 4xx, never a 5xx, nothing half-stored."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.fuzz.test_validators import REPORT_KEYS, field_values, json_values, texts
from wbs.app import create_app
from wbs.context import Context
from wbs.models import Case
from wbs.settings import Settings

ENDPOINTS = ["/api/v1/reports", "/api/v1/status", "/api/v1/mailbox", "/api/v1/mailbox/messages",
             "/api/v1/mailbox/identity", "/api/v1/receipts/verify"]
LIMITS = ",".join(f"{c}=100000/1s" for c in ("report", "message", "upload", "status", "signin"))


@pytest.fixture
def api(settings: Settings, ctx: Context, demo: Any) -> Any:
    from wbs.settings import parse_rate_ceilings, parse_rate_limits

    ceilings = ",".join(f"{c}=1000000" for c in ("report", "message", "upload", "status",
                                                 "signin"))
    tuned = replace(settings, rate_limits=parse_rate_limits(LIMITS),
                    rate_ceilings=parse_rate_ceilings(ceilings))
    app = create_app(tuned, context=ctx)
    app.state.failure_floor = 0.0
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


objects = st.dictionaries(st.one_of(st.sampled_from([*REPORT_KEYS, "who", "identity", "code",
                                                     "body", "receipt"]), texts),
                          st.one_of(field_values, json_values), max_size=10)


@given(st.sampled_from(ENDPOINTS), st.one_of(objects, json_values))
def test_any_json_body_gets_a_clear_answer(api: TestClient, path: str, body: Any) -> None:
    response = api.post(path, content=json.dumps(body),
                        headers={"content-type": "application/json"})
    assert response.status_code < 500, (path, body, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    if response.status_code >= 400:
        assert "error" in response.json() or "detail" in response.json()


@given(st.sampled_from(ENDPOINTS), st.binary(max_size=300),
       st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                        "multipart/form-data", ""]))
def test_any_bytes_get_a_clear_answer(api: TestClient, path: str, body: bytes,
                                      ctype: str) -> None:
    # Valid UTF-8 JSON of lone surrogates or NUL is hard-b's: keep to bytes that are not JSON
    # objects, which is where a reader's own checks matter.
    response = api.post(path, content=body, headers={"content-type": ctype})
    assert response.status_code < 500, (path, body, ctype, response.text[:300])


@given(objects)
def test_accepted_reports_are_whole(api: TestClient, body: dict[str, Any]) -> None:
    ctx: Context = api.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db() as session:
        before = session.scalar(select(func.count()).select_from(Case))
    response = api.post("/api/v1/reports", json=body)
    with ctx.db() as session:
        after = session.scalar(select(func.count()).select_from(Case))
    assert response.status_code in (201, 422), response.text[:300]
    assert after == before + (response.status_code == 201)
    if response.status_code == 201:
        status = api.post("/api/v1/status", json={"code": response.json()["code"]})
        assert status.status_code == 200
        assert status.json()["case_number"] == response.json()["case_number"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_deeply_nested_json_is_a_400(api: TestClient, path: str) -> None:
    # Found by this fuzzer's probes (and by the attack pass, issue 8 finding 13): Python's JSON
    # reader recurses and the RecursionError became a 500; the text layer now refuses it. The
    # strategies above stay shallow so they keep finding other things.
    body = "[" * 100_000 + "]" * 100_000
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
