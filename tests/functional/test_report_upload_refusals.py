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


def test_a_declared_length_that_is_not_a_number_is_refused_before_the_body(
        app: Any, client: TestClient, ctx: Context, demo: Any) -> None:
    import asyncio

    token = csrf_from(client, "/lapor")
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    read: list[bool] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        read.append(True)
        return {"type": "http.request", "body": f"csrf_token={token}".encode(),
                "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    for length in (b"12abc", "\u00b2".encode()):  # "²" is a digit to str.isdigit()
        read.clear()
        sent.clear()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "https", "path": "/lapor", "raw_path": b"/lapor",
                 "query_string": b"", "root_path": "", "client": ("203.0.113.9", 40000),
                 "server": ("testserver", 443),
                 "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()),
                             (b"content-type", b"multipart/form-data; boundary=XyZ"),
                             (b"content-length", length)]}
        asyncio.run(app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        assert start["status"] == 400, length
        assert not read  # refused on the header alone
    assert _stored(ctx) == (0, 0)
