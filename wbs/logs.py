"""Structured logging that cannot carry what must not leave the boundary.

Log lines are JSON objects built from explicit fields. The access log records method, path
(never the query string) and status: no client address, no user agent, no cookie, no body.
Exceptions are logged by type and code location only, because an exception *message* can carry
data (an SQL parameter, a decoded field).

Requests to staff paths are logged as they happen, with a time. Every other request may be a
reporter's, and a line written at that moment would date the reporter's act twice over: by its
time stamp, and by its place between timed lines (which a proxy's log of client addresses could
then be matched against). So everything logged while such a request runs, its access line
included, is held in the process and written once the (local) day has ended: untimed, counted
per kind, in random order, with the day alone (`flush_deferred`, called by the app's
housekeeping task). A reporter-page error therefore shows up the next day; the health endpoint
and the proxy's own status counters are the live signal.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import threading
import time
import traceback
from collections import Counter
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("wbs")

# Staff-facing paths. Everything else faces reporters or the public (static files included:
# every reporter page loads them), and its lines are deferred to the end of the day.
STAFF_PREFIXES = ("/staf", "/masuk", "/keluar", "/api/v1/audit")
# Distinct deferred lines kept per day; beyond that only an overflow count grows, so a flood
# of odd paths cannot grow the process without bound.
MAX_DEFERRED_KINDS = 5000
_DIGITS = re.compile(r"[^/]*[0-9][^/]*")
_SHUFFLE = secrets.SystemRandom()

# The local day of the public request being served in this context, or None (staff, jobs).
_deferring: ContextVar[date | None] = ContextVar("wbs_log_deferring", default=None)


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


def public_path(path: str) -> str:
    """The path with every segment holding a digit replaced: no ids, bounded variety."""
    return _DIGITS.sub("{n}", path)[:120]


class _Deferred:
    """Lines held until their day ends: day -> canonical JSON of the untimed line -> count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: dict[date, Counter[str]] = {}

    def add(self, day: date, entry: dict[str, Any]) -> None:
        key = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
        with self._lock:
            counts = self._days.setdefault(day, Counter())
            if key not in counts and len(counts) >= MAX_DEFERRED_KINDS:
                key = json.dumps({"event": "log_overflow", "level": "warning", "logger": "wbs"},
                                 sort_keys=True)
            counts[key] += 1

    def take(self, before: date | None) -> list[tuple[date, str, int]]:
        with self._lock:
            days = [d for d in self._days if before is None or d < before]
            taken = [(d, key, n) for d in sorted(days) for key, n in self._days.pop(d).items()]
        return taken


DEFERRED = _Deferred()


def _base_entry(record: logging.LogRecord) -> dict[str, Any]:
    return {"level": record.levelname.lower(), "logger": record.name,
            "event": record.getMessage()}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        fields = dict(fields) if isinstance(fields, dict) else {}
        untimed = fields.pop("untimed", False)
        entry = _base_entry(record)
        if not untimed:
            entry["ts"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        entry.update(fields)
        return json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)


class DeferPublicRecords(logging.Filter):
    """Holds back every record made while a public request runs (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        day = _deferring.get()
        if day is None or getattr(record, "wbs_released", False):
            return True
        fields = getattr(record, "fields", None)
        entry = _base_entry(record)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k != "untimed"})
        DEFERRED.add(day, entry)
        return False


def configure(level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(DeferPublicRecords())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log prints the client address and full URL: it stays off.
    logging.getLogger("uvicorn.access").disabled = True
    return handler


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    log.log(level, name, extra={"fields": fields})


def flush_deferred(before: date | None) -> int:
    """Write the held lines of days before `before` (all if None); return how many kinds.

    Each line is written once with its `count` and `day`, without a time, in random order.
    """
    taken = DEFERRED.take(before)
    _SHUFFLE.shuffle(taken)
    for day, key, count in taken:
        entry = json.loads(key)
        level = logging.getLevelName(str(entry.pop("level", "info")).upper())
        name, message = entry.pop("logger", "wbs"), entry.pop("event", "")
        fields = {**entry, "day": day.isoformat(), "count": count, "untimed": True}
        logging.getLogger(name).log(level if isinstance(level, int) else logging.INFO, message,
                                    extra={"fields": fields, "wbs_released": True})
    return len(taken)


def safe_exception_fields(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    return {
        "exception": type(exc).__name__,
        "where": [f"{f.filename.rsplit('/wbs/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames],
    }


def _local_day(scope: Scope) -> date:
    app = scope.get("app")
    ctx = getattr(getattr(app, "state", None), "ctx", None)
    today = getattr(ctx, "today", None)
    return today() if callable(today) else datetime.now(UTC).date()


class AccessLogMiddleware:
    """Outermost layer: logs each request safely; swallows what the error page already answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public = not is_staff_path(scope["path"])
        token = _deferring.set(_local_day(scope)) if public else None
        start = time.perf_counter()
        status = 500
        started = False

        async def capture(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:
            event("unhandled_error", logging.ERROR, **safe_exception_fields(exc))
            if not started:
                raise
        finally:
            if public:
                # No duration: it would not add up over a day, and nothing needs it per line.
                event("request", method=scope["method"], path=public_path(scope["path"]),
                      status=status)
            else:
                event("request", method=scope["method"], path=scope["path"], status=status,
                      ms=round((time.perf_counter() - start) * 1000, 1))
            if token is not None:
                _deferring.reset(token)
