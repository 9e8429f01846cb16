"""The 429 page of a refused mailbox message hands the message back when it can, and otherwise
answers just as calmly: a body sent in pieces comes back whole; a body too large to hold, one
that is not UTF-8, one that is not a form, and a client that hung up all get the page without
an echo (never a 500, never a hang), and no message is stored."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.security.test_finding_4_rate_limits import REPORT, _app, _browser, _count, _mailbox
from wbs.context import Context
from wbs.models import Message
from wbs.settings import Settings
from wbs.web.ratelimit import MAX_ECHO_BYTES

ENGLISH = {"Accept-Language": "en"}
NOT_SENT = "Your message has not been sent yet."


def _limited_mailbox(settings: Settings, ctx: Context) -> tuple[Any, TestClient, str]:
    """A mailbox whose one message an hour is spent."""
    app = _app(settings, ctx, limits="message=1/h")
    code = _browser(app, "192.0.2.200").post("/api/v1/reports", json=REPORT).json()["code"]
    browser = _mailbox(app, code)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": "Pertama."}
                        ).status_code == 303
    return app, browser, token


def _form_headers() -> dict[str, str]:
    return {**ENGLISH, "Content-Type": "application/x-www-form-urlencoded"}


def _asgi_post(app: Any, browser: TestClient,
               messages: list[dict[str, Any]]) -> tuple[int, dict[bytes, bytes], str]:
    """POST /kotak-pesan/pesan as a server hands it over: the body in the messages given."""
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "https", "path": "/kotak-pesan/pesan",
             "raw_path": b"/kotak-pesan/pesan", "query_string": b"", "root_path": "",
             "client": ("203.0.113.5", 40000), "server": ("testserver", 443),
             "headers": [(b"host", b"testserver"), (b"accept-language", b"en"),
                         (b"cookie", cookie.encode()),
                         (b"content-type", b"application/x-www-form-urlencoded")]}
    queue = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body.decode()


def test_a_message_sent_in_pieces_comes_back_whole(settings: Settings, ctx: Context,
                                                    demo: Any) -> None:
    app, browser, token = _limited_mailbox(settings, ctx)
    status, headers, page = _asgi_post(app, browser, [
        {"type": "http.request", "body": f"csrf_token={token}&body=Bagian+satu".encode(),
         "more_body": True},
        {"type": "http.request", "body": b"+dan+bagian+dua", "more_body": False}])
    assert status == 429 and headers[b"retry-after"] == b"3600" and NOT_SENT in page
    assert "Bagian satu dan bagian dua" in page
    assert _count(ctx, Message) == 1


def test_a_client_that_hangs_up_before_its_body_still_gets_the_page(
        settings: Settings, ctx: Context, demo: Any) -> None:
    app, browser, token = _limited_mailbox(settings, ctx)
    status, headers, page = _asgi_post(app, browser, [
        {"type": "http.request", "body": f"csrf_token={token}&body=Terputus".encode(),
         "more_body": True}])  # then the client is gone
    assert status == 429 and headers[b"retry-after"] == b"3600" and NOT_SENT in page
    assert "Terputus" not in page
    assert _count(ctx, Message) == 1


def test_a_message_too_large_to_hold_is_not_echoed(settings: Settings, ctx: Context,
                                                   demo: Any) -> None:
    _, browser, token = _limited_mailbox(settings, ctx)
    body = f"csrf_token={token}&body=".encode() + b"A" * MAX_ECHO_BYTES
    page = browser.post("/kotak-pesan/pesan", content=body, headers=_form_headers())
    assert page.status_code == 429 and NOT_SENT in page.text
    assert "AAAAAAAAAA" not in page.text and len(page.content) < MAX_ECHO_BYTES // 4
    assert _count(ctx, Message) == 1


def test_a_body_that_is_not_utf8_or_not_a_form_is_not_echoed(settings: Settings, ctx: Context,
                                                             demo: Any) -> None:
    _, browser, token = _limited_mailbox(settings, ctx)
    latin1 = f"csrf_token={token}&body=Caf\xe9+tersembunyi".encode("latin-1")
    page = browser.post("/kotak-pesan/pesan", content=latin1, headers=_form_headers())
    assert page.status_code == 429 and NOT_SENT in page.text and "tersembunyi" not in page.text
    page = browser.post("/kotak-pesan/pesan", json={"body": "JSON tersembunyi"}, headers=ENGLISH)
    assert page.status_code == 429 and NOT_SENT in page.text and "tersembunyi" not in page.text
    assert _count(ctx, Message) == 1
