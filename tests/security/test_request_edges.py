"""Requests at the edges of what the portal reads: a language preference with a malformed
weight is skipped, not a 500; a JSON body past the API's limit is refused as too large."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from wbs.models import Case
from wbs.web.api import MAX_JSON_BYTES


def test_a_language_with_a_malformed_weight_is_skipped(client: TestClient) -> None:
    def lang_of(header: str) -> str:
        page = client.get("/", headers={"Accept-Language": header})
        assert page.status_code == 200
        return page.text.split('<html lang="', 1)[1].split('"', 1)[0]

    assert lang_of("en;q=0.9, id;q=0.3") == "en"
    assert lang_of("en;q=banyak, id;q=0.3") == "id"  # the malformed entry is ignored
    assert lang_of("fr, de;q=0.5") == "id"  # nothing offered: the default


def test_a_json_body_past_the_limit_is_refused_as_too_large(client: TestClient, demo: Any,
                                                           ctx: Any) -> None:
    body = json.dumps({"kind": "complaint", "title": "Jalan rusak",
                       "what": "x" * (MAX_JSON_BYTES + 1), "identity_mode": "anonymous"})
    r = client.post("/api/v1/reports", content=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
