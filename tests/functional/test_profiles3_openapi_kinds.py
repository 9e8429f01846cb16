"""Issue 10: the API accepts the kinds of the profile in force (whistleblowing and the profile's
kinds); its OpenAPI document must list exactly those, not the four built-in kinds. Every
candidate below is posted to /api/v1/reports: what the API accepts must be what the document
lists, and nothing else.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from wbs.app import create_app
from wbs.context import Context
from wbs.profiles import store
from wbs.settings import RATE_CATEGORIES, Settings, parse_rate_ceilings, parse_rate_limits

# Written out by hand (RULES §2): the workflow kinds' values, every profile's keys, and names
# no profile has (a Jayapura "sengketa" is a classification, not a kind; case matters).
CANDIDATES = ["whistleblowing", "complaint", "information_request", "aspiration", "pengaduan",
              "permintaan_informasi", "aspirasi", "apresiasi", "kritik", "keluhan", "sengketa",
              "Keluhan", "grievance", "wbs"]
NATIONAL = ["whistleblowing", "complaint", "pengaduan", "information_request",
            "permintaan_informasi", "aspiration", "aspirasi"]
LISTED = {
    "sanggau": NATIONAL, "kapuas": NATIONAL, "belitung-timur": NATIONAL,
    "jayapura": ["whistleblowing", "apresiasi", "aspiration", "aspirasi", "kritik",
                 "information_request", "permintaan_informasi", "keluhan", "complaint",
                 "pengaduan"],
}


@pytest.fixture
def api(settings: Settings, ctx: Context, demo: Any) -> Any:
    tuned = replace(
        settings,
        rate_limits=parse_rate_limits(",".join(f"{c}=1000000/1s" for c in RATE_CATEGORIES)),
        rate_ceilings=parse_rate_ceilings(",".join(f"{c}=1000000" for c in RATE_CATEGORIES)))
    app = create_app(tuned, context=ctx)
    app.state.failure_floor = 0.0
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


def _listed(client: TestClient) -> list[str]:
    doc = client.get("/api/v1/openapi.json").json()
    schema = doc["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    enum: list[str] = schema["properties"]["kind"]["enum"]
    return enum


def _accepted(client: TestClient, kind: str) -> bool:
    answer = client.post("/api/v1/reports", json={
        "kind": kind, "title": "Loket KTP tutup siang",
        "what": "Loket KTP di kecamatan tutup jam 12 setiap hari.",
        "identity": {"name": "Yakobus", "address": "Sentani", "phone": "0812"}})
    if answer.status_code == 201:
        return True
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == {"kind": "kind_not_offered"}
    return False


@pytest.mark.parametrize("profile", sorted(LISTED))
def test_the_document_lists_exactly_the_kinds_the_api_accepts(
        api: TestClient, ctx: Context, profile: str) -> None:
    store.choose(ctx, profile, "admin", "administrator")
    listed = _listed(api)
    assert listed == LISTED[profile]
    accepted = [kind for kind in CANDIDATES if _accepted(api, kind)]
    assert sorted(accepted) == sorted(listed)


def test_the_document_follows_a_change_of_profile(api: TestClient, ctx: Context) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    assert "keluhan" in _listed(api) and _accepted(api, "keluhan")
    store.choose(ctx, "sanggau", "admin", "administrator")
    assert "keluhan" not in _listed(api) and not _accepted(api, "keluhan")
