"""Log lines of public requests wait for the end of their day, untimed (wbs/logs.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from wbs import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    logs.flush_deferred(None)  # lines other tests left behind are not ours
    out = io.StringIO()
    logs.configure(stream=out)
    out.truncate(0)
    yield out
    logs.flush_deferred(None)
    root.handlers[:] = saved
    root.setLevel(level)


class _State:
    def __init__(self, today: date) -> None:
        self.ctx = type("Ctx", (), {"today": staticmethod(lambda: today)})()


class _App:
    def __init__(self, today: date) -> None:
        self.state = _State(today)


def _serve(path: str, today: date, fail: bool = False) -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:
        logs.event("inside", case="WBS-1")
        if fail:
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    scope = {"type": "http", "method": "POST", "path": path, "app": _App(today)}
    middleware = logs.AccessLogMiddleware(inner)
    if fail:
        with pytest.raises(RuntimeError):
            asyncio.run(middleware(scope, receive, send))
    else:
        asyncio.run(middleware(scope, receive, send))


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_public_requests_are_held_and_written_untimed_after_their_day(
        stream: io.StringIO) -> None:
    day = date(2026, 3, 3)
    for _ in range(3):
        _serve("/kotak-pesan/lampiran/123456", day)
    _serve("/lapor", day, fail=True)
    assert stream.getvalue() == ""  # nothing while the day runs
    assert logs.flush_deferred(day) == 0  # the day has not ended
    assert logs.flush_deferred(date(2026, 3, 4)) > 0
    lines = _lines(stream)
    assert lines and all("ts" not in line and line["day"] == "2026-03-03" for line in lines)
    requests = {(e["path"], e["status"]): e["count"] for e in lines if e["event"] == "request"}
    assert requests == {("/kotak-pesan/lampiran/{n}", 200): 3, ("/lapor", 500): 1}
    assert any(e["event"] == "unhandled_error" and e["level"] == "error" for e in lines)
    assert sum(e["count"] for e in lines if e["event"] == "inside") == 4
    assert all("ms" not in e for e in lines)


def test_staff_requests_are_logged_at_once_with_a_time(stream: io.StringIO) -> None:
    _serve("/staf/kasus/WBS-2026-000001", date(2026, 3, 3))
    lines = _lines(stream)
    assert [e["event"] for e in lines] == ["inside", "request"]
    assert all("ts" in e for e in lines) and lines[1]["path"] == "/staf/kasus/WBS-2026-000001"


def test_the_held_lines_are_bounded(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_DEFERRED_KINDS", 5)
    day = date(2026, 3, 3)
    for i in range(50):
        _serve(f"/probe-{chr(97 + i % 26)}{chr(97 + i // 26)}", day)
    logs.flush_deferred(None)
    lines = _lines(stream)
    assert len(lines) <= 6
    assert any(e["event"] == "log_overflow" and e["count"] > 40 for e in lines)


def test_paths_lose_their_ids() -> None:
    assert logs.public_path("/kotak-pesan/lampiran/98765") == "/kotak-pesan/lampiran/{n}"
    assert logs.public_path("/static/app.css") == "/static/app.css"
    long = logs.public_path("/a" * 200)
    assert long.startswith("/a") and len(long) == 120


def test_a_library_line_during_a_public_request_is_held_like_ours(stream: io.StringIO) -> None:
    """A record without our fields (a library's warning, made while a reporter's request runs)
    dates the request as well as our own lines would: it is held too."""
    day = date(2026, 3, 3)

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        logging.getLogger("sqlalchemy.pool").warning("connection invalidated")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(_message: Any) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/status", "app": _App(day)}
    asyncio.run(logs.AccessLogMiddleware(inner)(scope, _receive, send))
    assert stream.getvalue() == ""
    logs.flush_deferred(None)
    held = {e["event"]: e for e in _lines(stream)}
    assert held["connection invalidated"] == {
        "event": "connection invalidated", "level": "warning", "logger": "sqlalchemy.pool",
        "day": "2026-03-03", "count": 1}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


def test_an_error_after_the_response_started_is_logged_and_not_raised_again(
        stream: io.StringIO) -> None:
    """The client already has its status line: the error is logged (type and place only) and
    the request line keeps the status that was sent."""
    sent: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("Pak Budi's report text")

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/staf/kasus/WBS-2026-000001",
             "app": _App(date(2026, 3, 3))}
    asyncio.run(logs.AccessLogMiddleware(inner)(scope, _receive, send))  # does not raise
    assert [m["type"] for m in sent] == ["http.response.start"]
    lines = _lines(stream)
    assert [e["event"] for e in lines] == ["unhandled_error", "request"]
    assert lines[0]["exception"] == "ValueError" and "Budi" not in stream.getvalue()
    assert lines[0]["where"][-1].endswith(":inner")  # where it was raised
    assert (lines[1]["status"], lines[1]["path"]) == (200, "/staf/kasus/WBS-2026-000001")


def test_other_scopes_pass_through_unlogged(stream: io.StringIO) -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(logs.AccessLogMiddleware(inner)({"type": "lifespan"}, _receive, _receive))
    assert seen == ["lifespan"] and stream.getvalue() == ""
