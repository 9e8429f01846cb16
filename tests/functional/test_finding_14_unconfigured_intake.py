"""Finding (issue 14, Schemathesis): on an instance with no receiving unit yet, a report was
answered 500 (an unhandled LookupError). It is now a 503 with Retry-After, documented in the
OpenAPI document, and nothing is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from wbs.context import Context
from wbs.models import Case
from wbs.web.openapi import OPENAPI


def test_a_report_before_setup_is_a_503_with_retry_after(client: TestClient,
                                                          ctx: Context) -> None:
    response = client.post("/api/v1/reports", json={"kind": "complaint", "title": "Jalan",
                                                    "what": "Rusak"})
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"] == "unavailable"
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_every_operation_documents_429_and_503() -> None:
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            answers: dict[str, Any] = operation["responses"]
            for busy in ("429", "503"):
                assert "Retry-After" in answers[busy]["headers"], (path, method, busy)
