"""A report with files is refused before anything is stored when the process's upload budget stays
full (503 with Retry-After, the body never read) or when it carries more files than a report
may (400)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.functional.test_intake import BASIC
from wbs.context import Context
from wbs.models import Attachment, Case
from wbs.web.upload_budget import ByteBudget
from wbs.web.upload_form import MAX_FILES, RETRY_AFTER_SECONDS


def _stored(ctx: Context) -> tuple[int, int]:
    with ctx.db() as s:
        return (int(s.scalar(select(func.count()).select_from(Case)) or 0),
                int(s.scalar(select(func.count()).select_from(Attachment)) or 0))


def test_a_full_upload_budget_answers_503_after_a_short_wait(
        app: Any, client: TestClient, ctx: Context, demo: Any) -> None:
    ctx.settings = replace(ctx.settings, upload_wait_seconds=0.2)
    full = ByteBudget(64 * 1024)
    assert full.try_take(full.capacity)  # other requests hold every byte
    app.state.upload_budget = full
    token = csrf_from(client, "/lapor")
    r = client.post("/lapor", data={"csrf_token": token, **BASIC},
                    files=[("files", ("bukti.txt", b"kuitansi", "text/plain"))],
                    headers={"Accept-Language": "en"})
    assert r.status_code == 503 and r.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert _stored(ctx) == (0, 0)
    full.give_back(full.capacity)  # room again: the same report goes through
    r = client.post("/lapor", data={"csrf_token": csrf_from(client, "/lapor"), **BASIC},
                    files=[("files", ("bukti.txt", b"kuitansi", "text/plain"))])
    assert r.status_code == 303 and _stored(ctx) == (1, 1)
    assert full.used == 0  # the request gave back what it held


def test_more_files_than_a_report_may_carry_are_refused(
        client: TestClient, ctx: Context, demo: Any) -> None:
    token = csrf_from(client, "/lapor")
    files = [("files", (f"bukti-{n}.txt", b"isi %d" % n, "text/plain"))
             for n in range(MAX_FILES + 1)]
    r = client.post("/lapor", data={"csrf_token": token, **BASIC}, files=files)
    assert r.status_code == 400
    assert _stored(ctx) == (0, 0)
    r = client.post("/lapor", data={"csrf_token": csrf_from(client, "/lapor"), **BASIC},
                    files=files[:MAX_FILES])
    assert r.status_code == 303 and _stored(ctx) == (1, MAX_FILES)
