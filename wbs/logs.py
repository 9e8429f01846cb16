"""Structured logging that cannot carry what must not leave the boundary.

Log lines are JSON objects built from explicit fields. The access log records method, path
(never the query string), status and duration: no client address, no user agent, no cookie, no
body. Exceptions are logged by type and code location only, because an exception *message* can
carry data (an SQL parameter, a decoded field).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("wbs")


# Staff-facing paths. Everything else faces reporters or the public, and a line with a time on
# it there could be matched with a proxy's IP log to find who reported (DESIGN §1.4).
STAFF_PREFIXES = ("/staf", "/masuk", "/keluar", "/api/v1/audit", "/static")


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        untimed = isinstance(fields, dict) and fields.pop("untimed", False)
        entry: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        if not untimed:
            entry["ts"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        if isinstance(fields, dict):
            entry.update(fields)
        return json.dumps(entry, ensure_ascii=False, sort_keys=True)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log prints the client address and full URL: it stays off.
    logging.getLogger("uvicorn.access").disabled = True


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    log.log(level, name, extra={"fields": fields})


def safe_exception_fields(exc: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    return {
        "exception": type(exc).__name__,
        "where": [f"{f.filename.rsplit('/wbs/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames],
    }


class AccessLogMiddleware:
    """Outermost layer: logs each request safely; swallows what the error page already answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
            event("request", method=scope["method"], path=scope["path"], status=status,
                  ms=round((time.perf_counter() - start) * 1000, 1))
