"""The real app served over HTTP for the browser: uvicorn in a thread, on a free port.

A test instance, as `make run` builds one (keys, a migrated SQLite database, demo units and
users), but with the fast argon2 parameters of the test suite and a controllable clock, so a
test can let a mailbox session expire without sleeping. The server is shared by the whole
session; tests file their own reports and compare counts, never absolute numbers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import uvicorn
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import Clock
from wbs import demo, instance, migrate
from wbs.app import create_app
from wbs.context import Context
from wbs.crypto.passwords import TEST_PARAMS, PasswordKDF
from wbs.db import make_engine, make_sessionmaker
from wbs.settings import RATE_CATEGORIES, Settings, parse_rate_ceilings, parse_rate_limits
from wbs.web.guard import public
from wbs.web.ratelimit import limited_page

# The error statuses a browser cannot be made to meet on demand (a slow upload, a too-large
# body, a full disk, a rate limit): test-only routes render the real pages, so the
# accessibility walk checks them like the others (issue 9, item 10).
ERROR_PAGES = {"408": (408, None), "413": (413, None), "503": (503, None),
               "503-low-disk": (503, "low_disk")}


@public
def _error_page(request: Request) -> Response:
    status, reason = ERROR_PAGES[request.path_params["name"]]
    raise HTTPException(status, reason)


@public
def _rate_limited_page(request: Request) -> Response:
    return limited_page(request, "message", 300, {
        "text": "Penjelasan panjang yang diketik pelapor sebelum batas permintaan tercapai.",
        "response": "object"})


TEST_ROUTES = [Route("/uji-galat/{name}", _error_page),
               Route("/kotak-pesan/uji-batas", _rate_limited_page, methods=["GET", "POST"])]


@dataclass
class LiveServer:
    url: str
    ctx: Context
    clock: Clock
    creds: dict[str, dict[str, str]]  # demo staff: username → password, TOTP secret, role

    def db(self) -> Any:
        return self.ctx.db()


@contextmanager
def serve(root: Path) -> Iterator[LiveServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port, held until uvicorn takes the socket
    port = sock.getsockname()[1]
    keys_dir, data_dir = root / "keys", root / "data"
    instance.create_keys(keys_dir)
    url = f"sqlite:///{data_dir / 'wbs.sqlite3'}"
    migrate.upgrade(url)
    settings = replace(Settings(), env="development", database_url=url, data_dir=data_dir,
                       keys_dir=keys_dir, mail_dir=data_dir / "mail", argon2=TEST_PARAMS,
                       base_url=f"http://127.0.0.1:{port}",
                       # One browser session files far more than an address's hourly share
                       # (20 reports): every journey comes from 127.0.0.1. The limits have their
                       # own tests; the limited page is walked through /kotak-pesan/uji-batas.
                       rate_limits=parse_rate_limits(
                           ",".join(f"{c}=100000/1h" for c in RATE_CATEGORIES)),
                       rate_ceilings=parse_rate_ceilings(
                           ",".join(f"{c}=100000" for c in RATE_CATEGORIES)))
    clock = Clock()
    engine = make_engine(url)
    ctx = Context(settings=settings, keys=instance.load_keys(keys_dir), engine=engine,
                  db=make_sessionmaker(engine), kdf=PasswordKDF(settings.argon2), clock=clock)
    creds = demo.load(ctx)
    app = create_app(settings, context=ctx, extra_routes=TEST_ROUTES)
    app.state.failure_floor = 0.0  # no sign-in delay in tests
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           lifespan="off", server_header=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=settings.base_url, ctx=ctx, clock=clock, creds=creds)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        engine.dispose()
