"""Caps on request bodies, at the ASGI level and through the app.

Issue 8 finding 3: a url-encoded form sent chunked was read to ~200 MB before the CSRF check.
Issue 12: the 100 MB per-report cap must count file bytes, not multipart overhead, and the API's
503 must carry Retry-After like the HTML one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from wbs.db import make_engine, make_sessionmaker
from wbs.models import Attachment, AttachmentChunk
from wbs.web import security

CHUNK = 64 * 1024


async def _drive(app: Any, path: str, chunks: Iterator[bytes],
                 headers: list[tuple[bytes, bytes]]) -> tuple[int, int, dict[bytes, bytes]]:
    """Call the ASGI app with a body handed out chunk by chunk (as a chunked request arrives:
    no Content-Length); return the status, the chunks it pulled, the response headers."""
    pulled = 0
    status = 0
    answer: dict[bytes, bytes] = {}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            answer.update(dict(message.get("headers", [])))

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"testserver"), *headers],
             "scheme": "https", "http_version": "1.1",
             "server": ("testserver", 443), "client": ("127.0.0.1", 5000), "root_path": "",
             "asgi": {"version": "3.0"}}
    await app(scope, receive, send)
    return status, pulled, answer


def _endless_form(total: int) -> Iterator[bytes]:
    """Many fields, each under Starlette's 1 MB part limit: what the finding sent."""
    sent = 0
    field = 0
    while sent < total:
        field += 1
        yield f"f{field}=".encode()
        for _ in range(12):  # 768 KiB per field
            yield b"A" * CHUNK
            sent += CHUNK
        yield b"&"


def _form_headers(cookie: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/x-www-form-urlencoded"),
               (b"transfer-encoding", b"chunked")]
    if cookie:
        headers.append((b"cookie", f"{security.CSRF_COOKIE}={cookie}".encode()))
    return headers


def test_finding_8_3_chunked_form_is_capped_as_it_streams(app: Any) -> None:
    # A CSRF cookie is present (anyone can get one), so only the cap can stop this body.
    cookie = security.new_csrf_cookie_value()
    status, pulled, _ = asyncio.run(_drive(app, "/status", _endless_form(20 * 1024 * 1024),
                                           _form_headers(cookie)))
    assert status == 413
    # The cap is 256 KiB: the body is abandoned at the chunk that crosses it, not at 20 MB.
    assert pulled * CHUNK <= 256 * 1024 + 2 * CHUNK


def test_finding_8_3_form_without_csrf_cookie_is_refused_before_its_body(app: Any) -> None:
    status, pulled, _ = asyncio.run(_drive(app, "/status", _endless_form(20 * 1024 * 1024),
                                           _form_headers(None)))
    assert (status, pulled) == (403, 0)


def test_finding_8_3_chunked_upload_is_capped_as_it_streams(app: Any, demo: Any) -> None:
    # The multipart path under the same framing: no Content-Length, a CSRF cookie, no token.
    cookie = security.new_csrf_cookie_value()

    def body() -> Iterator[bytes]:
        yield b'--B\r\nContent-Disposition: form-data; name="what"\r\n\r\n'
        for _ in range(320):
            yield b"w" * CHUNK

    headers = [(b"content-type", b"multipart/form-data; boundary=B"),
               (b"cookie", f"{security.CSRF_COOKIE}={cookie}".encode())]
    status, pulled, _ = asyncio.run(_drive(app, "/lapor", body(), headers))
    assert status == 400  # the field's own cap (64 KiB), long before 20 MB
    assert pulled <= 3


def test_form_still_parses_like_before(client: TestClient, demo: Any) -> None:
    # The streaming reader keeps Starlette's decoding: UTF-8 escapes, '+' as space.
    token = csrf_from(client, "/status")
    response = client.post("/status", content=f"csrf_token={token}&code=%E2%80%94+x".encode(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 404  # parsed, token accepted, the code is unknown


def test_report_of_exactly_four_files_of_25_000_000_bytes_is_accepted(client: TestClient,
                                                                       demo: Any,
                                                                       ctx: Any) -> None:
    token = csrf_from(client, "/lapor")
    size = ctx.settings.max_file_bytes
    assert 4 * size == ctx.settings.max_report_bytes == 100_000_000
    files = [("files", (f"rekaman-{i}.bin", bytes([i + 1]) * size, "application/octet-stream"))
             for i in range(4)]
    response = client.post("/lapor", data={
        "csrf_token": token, "kind": "complaint", "title": "Rekaman", "what": "Empat rekaman.",
        "identity_mode": "anonymous"}, files=files, follow_redirects=True)
    assert response.status_code == 200, response.text[:300]
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 4
        assert session.scalar(select(func.count()).select_from(AttachmentChunk)) \
            == 4 * (size // CHUNK + 1)
    # One byte more of files is over the cap, whatever the framing.
    token = csrf_from(client, "/lapor")
    files.append(("files", ("satu.bin", b"\x01", "application/octet-stream")))
    response = client.post("/lapor", data={"csrf_token": token, "kind": "complaint"},
                           files=files)
    assert response.status_code == 413


def test_api_503_carries_retry_after_like_the_html_one(client: TestClient, ctx: Any) -> None:
    token = csrf_from(client, "/status")
    # The database becomes unreachable: every answer is 503, and says when to come back.
    ctx.db = make_sessionmaker(make_engine("sqlite:////nonexistent-wbs-dir/none.sqlite3"))
    ctx.__dict__["read"] = ctx.db  # the status lookup is a read: its sessions go down too
    code = "0123-4567-89AB-CDEF-GHJK-MNPQ"
    page = client.post("/status", data={"csrf_token": token, "code": code})
    assert page.status_code == 503
    assert page.headers["retry-after"] == "30"
    api = client.post("/api/v1/status", json={"code": code})
    assert api.status_code == 503
    assert api.headers["retry-after"] == "30"
    assert api.json()["error"] == "unavailable"
