"""No request reads the database on the event loop.

A synchronous database call made inside an async handler runs on the worker's one event loop:
while it waits (a slow or hung database, a full pool with its 30 s timeout, SQLite busy) every
other request of that worker waits too, /healthz included. Database work belongs in the thread
pool (`run_in_threadpool`, or a sync endpoint, which Starlette runs there).

The probe is a pool `checkout` listener on the app's engine: it notes every connection taken
while the taking thread runs an asyncio loop. The TestClient runs the app's loop in its portal
thread; the thread-pool workers run none. The walks below drive every route of the app, as a
visitor, as a reporter with a mailbox and as each staff role, with the Pemda's identity cache
emptied before each request, so that a page which would read it on the loop is caught too.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

import wbs
from tests.conftest import CSRF_RE, Clock, sign_in
from wbs.app import all_routes, create_app
from wbs.demo import USERS
from wbs.web.guard import access_of, public

ROOT = str(Path(wbs.__file__).resolve().parent.parent) + "/"
NONCE_RE = re.compile(r'name="nonce" value="([A-Za-z0-9_-]+)"')
REPORT = {"kind": "complaint", "title": "Air mati", "what": "Air PDAM mati seminggu.",
          "identity_mode": "anonymous"}
NO_FILE = [("files", ("", b"", "x/y"))]
# Signing out ends the walk's session; it is driven last, on its own.
NOT_WALKED = {("/keluar", "POST")}


class LoopReads:
    """Connections checked out on a thread that runs an event loop, and the requests that did."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []

    def checkout(self, _dbapi: Any, _record: Any, _proxy: Any) -> None:
        # get_running_loop() raises where there is none; this is its quiet twin.
        if asyncio._get_running_loop() is not None:
            self.hits.append((_request_of(sys._getframe(1)), _where()))

    def report(self) -> str:
        lines: dict[str, None] = {}
        for label, where in self.hits:
            lines.setdefault(f"{label}  <-  {where}")
        return "database read on the event loop:\n  " + "\n  ".join(lines)


def _request_of(frame: FrameType | None) -> str:
    """The request being served: the innermost ASGI `scope` up the stack."""
    while frame is not None:
        scope = frame.f_locals.get("scope")
        if isinstance(scope, dict) and scope.get("type") == "http":
            return f"{scope.get('method')} {scope.get('path')}"
        frame = frame.f_back
    return "(no request)"


def _where() -> str:
    """The project's frames that led to the checkout, innermost last (file:line function)."""
    frames = [f for f in traceback.extract_stack()[:-2]
              if f.filename.startswith(ROOT) and "/.venv/" not in f.filename]
    return " > ".join(f"{f.filename.removeprefix(ROOT)}:{f.lineno} {f.name}"
                      for f in frames[-4:]) or "(no project frame)"


@pytest.fixture
def loop_reads(ctx: Any) -> Iterator[LoopReads]:
    probe = LoopReads()
    event.listen(ctx.engine, "checkout", probe.checkout)
    yield probe
    event.remove(ctx.engine, "checkout", probe.checkout)


def _drive(app: Any, probe: LoopReads, client: TestClient, method: str, path: str,
           **kwargs: Any) -> Any:
    """One request, with the Pemda's identity not cached (as every CACHE_SECONDS)."""
    app.state.brand_cache = None
    return client.request(method, path, **kwargs)


def _browser(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _token(client: TestClient, path: str = "/") -> str:
    found = CSRF_RE.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _concrete(path: str, number: str) -> str:
    return (path.replace("{number}", number).replace("{attachment_id:rowid}", "1")
            .replace("{request_id:rowid}", "1").replace("{survey_id:rowid}", "1")
            .replace("{report_id:rowid}", "1").replace("{token}", "x" * 32)
            .replace("{name}", "logo-0123456789abcdef.png").replace("{fmt}", "json")
            .replace("{action}", "accept").replace("{step}", "decide"))


def _routes(kind: str, method: str) -> list[str]:
    found = []
    for route in all_routes():
        assert isinstance(route, Route)
        public_route = access_of(route) == "public"
        if (public_route == (kind == "public") and method in (route.methods or ())
                and (route.path, method) not in NOT_WALKED):
            found.append(route.path)
    return found


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


def _api_report(app: Any, probe: LoopReads, client: TestClient) -> dict[str, Any]:
    created = _drive(app, probe, client, "POST", "/api/v1/reports", json=REPORT)
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_the_probe_sees_a_read_on_the_loop_and_none_in_the_thread_pool(
        settings: Any, ctx: Any, loop_reads: LoopReads) -> None:
    """The probe is not vacuous: a read made on the loop is caught, one in the pool is not."""
    def read() -> None:
        with ctx.read() as session:
            session.execute(text("SELECT 1"))

    @public
    async def on_the_loop(request: Request) -> Response:
        read()
        return PlainTextResponse("ok")

    @public
    async def in_the_pool(request: Request) -> Response:
        await run_in_threadpool(read)
        return PlainTextResponse("ok")

    app = create_app(settings, context=ctx, extra_routes=[
        Route("/probe/loop", on_the_loop), Route("/probe/pool", in_the_pool)])
    with _browser(app) as client:
        client.get("/probe/pool")
        assert loop_reads.hits == []
        client.get("/probe/loop")
    assert [label for label, _ in loop_reads.hits] == ["GET /probe/loop"]
    assert "on_the_loop" in loop_reads.hits[0][1]


def test_visitor_pages_and_forms_read_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, loop_reads: LoopReads) -> None:
    filed = _api_report(app, loop_reads, client)
    for path in _routes("public", "GET"):
        _drive(app, loop_reads, client, "GET", _concrete(path, filed["case_number"]))
    # Every public form, sent empty (the refusal's page is rendered too) and as JSON.
    for path in _routes("public", "POST"):
        concrete = _concrete(path, filed["case_number"])
        if path.startswith("/api/"):
            _drive(app, loop_reads, client, "POST", concrete, json={})
            _drive(app, loop_reads, client, "POST", concrete, json={"code": "A" * 24})
        else:
            _drive(app, loop_reads, client, "POST", concrete, data={"csrf_token": _token(client)})
    # The report form: its page, a refused report (shown again) and a filed one.
    page = client.get("/lapor").text
    token, nonce = CSRF_RE.search(page), NONCE_RE.search(page)
    assert token and nonce
    for fields in ({**REPORT, "what": ""}, REPORT):
        _drive(app, loop_reads, client, "POST", "/lapor", files=NO_FILE,
               data={"csrf_token": token.group(1), "nonce": nonce.group(1), **fields})
    _drive(app, loop_reads, client, "GET", "/lapor?jenis=complaint")
    _drive(app, loop_reads, client, "GET", "/lapor/tanda-terima")
    # The API: a refused report, a filed one (with and without an Idempotency-Key), status.
    _drive(app, loop_reads, client, "POST", "/api/v1/reports", json={**REPORT, "kind": "x"})
    _drive(app, loop_reads, client, "POST", "/api/v1/reports", json=REPORT,
           headers={"Idempotency-Key": "k" * 40})
    _drive(app, loop_reads, client, "POST", "/api/v1/status", json={"code": filed["code"]})
    assert not loop_reads.hits, loop_reads.report()


def test_the_reporters_mailbox_reads_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, loop_reads: LoopReads) -> None:
    filed = _api_report(app, loop_reads, client)
    code = filed["code"]
    for path in ("/api/v1/mailbox", "/api/v1/mailbox/messages"):
        _drive(app, loop_reads, client, "POST", path, json={"code": code, "body": "Halo"})
    # The code is checked before the file is read: that check reads the database.
    sent = _drive(app, loop_reads, client, "POST", "/api/v1/mailbox/attachments",
                  data={"code": code}, files={"file": ("foto.png", _png(), "image/png")})
    assert sent.status_code == 201, sent.text
    browser = _browser(app)
    opened = _drive(app, loop_reads, browser, "POST", "/kotak-pesan/masuk",
                    data={"csrf_token": _token(browser, "/kotak-pesan"), "code": code})
    assert opened.status_code == 303
    for path in _routes("public", "GET"):
        if path.startswith("/kotak-pesan"):
            _drive(app, loop_reads, browser, "GET", _concrete(path, filed["case_number"]))
    token = _token(browser, "/kotak-pesan")
    _drive(app, loop_reads, browser, "POST", "/kotak-pesan/pesan",
           data={"csrf_token": token, "body": "Ada tambahan."})
    _drive(app, loop_reads, browser, "POST", "/kotak-pesan/lampiran",
           data={"csrf_token": token}, files={"files": ("foto.png", _png(), "image/png")})
    for path in _routes("public", "POST"):
        if path.startswith("/kotak-pesan") and path != "/kotak-pesan/masuk":
            _drive(app, loop_reads, browser, "POST", path, data={"csrf_token": token})
    assert not loop_reads.hits, loop_reads.report()


@pytest.mark.parametrize("username", [name for name, *_ in USERS])
def test_staff_pages_read_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, clock: Clock, loop_reads: LoopReads,
        username: str) -> None:
    filed = _api_report(app, loop_reads, client)
    number = filed["case_number"]
    assert sign_in(client, demo[username], username, clock).status_code == 303
    for path in _routes("guarded", "GET"):
        _drive(app, loop_reads, client, "GET", _concrete(path, number))
    # Every staff form, sent with nothing but its token: the refusals render pages too.
    token = _token(client, "/staf")
    for path in _routes("guarded", "POST"):
        _drive(app, loop_reads, client, "POST", _concrete(path, number),
               data={"csrf_token": token})
    _drive(app, loop_reads, client, "POST", "/keluar", data={"csrf_token": token})
    assert not loop_reads.hits, loop_reads.report()


def test_staff_acts_that_succeed_read_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, clock: Clock, loop_reads: LoopReads) -> None:
    """The forms above are refused; these pass, and so take the paths that follow an act."""
    from tests.functional.workflow_helpers import DISPOSED_UNIT

    filed = _api_report(app, loop_reads, client)
    number, case = filed["case_number"], f"/staf/kasus/{filed['case_number']}"
    for username, purpose, act, fields in (
            ("verifikator", "Verifikasi", "verify_and_dispose", {
                "classification": "no_oversight", "resolution_days": "14",
                f"unit_{DISPOSED_UNIT}": DISPOSED_UNIT}),
            ("penghubung.kesehatan", "Tindak lanjut", "start_processing", {})):
        client.cookies.clear()
        assert sign_in(client, demo[username], username, clock).status_code == 303
        token = _token(client, "/staf")
        _drive(app, loop_reads, client, "POST", f"{case}/tujuan",
               data={"csrf_token": token, "purpose": purpose})
        assert _drive(app, loop_reads, client, "GET", case).status_code == 200
        sent = _drive(app, loop_reads, client, "POST", f"{case}/pesan",
                      data={"csrf_token": token, "body": "Mohon kirim fotonya."})
        assert sent.status_code == 303, (username, sent.status_code)
        done = _drive(app, loop_reads, client, "POST", f"{case}/aksi/{act}",
                      data={"csrf_token": token, **fields})
        assert done.status_code == 303, (username, act, done.status_code, number)
    assert not loop_reads.hits, loop_reads.report()


def test_staff_intake_reads_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, clock: Clock, loop_reads: LoopReads) -> None:
    assert sign_in(client, demo["verifikator"], "verifikator", clock).status_code == 303
    _drive(app, loop_reads, client, "GET", "/staf/penerimaan")
    token = _token(client, "/staf/penerimaan")
    letter = {"csrf_token": token, "channel": "letter", **REPORT}
    for fields in ({**letter, "channel": ""}, {**letter, "kind": "whistleblowing"}, letter):
        _drive(app, loop_reads, client, "POST", "/staf/penerimaan", data=fields, files=NO_FILE)
    assert not loop_reads.hits, loop_reads.report()


def test_error_pages_read_in_the_thread_pool(
        app: Any, client: TestClient, demo: Any, loop_reads: LoopReads) -> None:
    """An error page is a page: it shows the Pemda's identity, read off the loop."""
    _drive(app, loop_reads, client, "GET", "/tidak-ada")
    _drive(app, loop_reads, client, "DELETE", "/lapor")
    _drive(app, loop_reads, client, "POST", "/lapor", data={"csrf_token": "forged"})
    _drive(app, loop_reads, client, "GET", "/api/v1/tidak-ada")
    assert not loop_reads.hits, loop_reads.report()


def _multipart(code: str, *files: bytes) -> list[bytes]:
    """The API's attachment form: the code, then each file part, each piece a body chunk."""
    chunks = [b'--XyZ\r\nContent-Disposition: form-data; name="code"\r\n\r\n' + code.encode()
              + b"\r\n"]
    for n, data in enumerate(files):
        chunks.append(b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
                      + f'filename="f{n}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
                      + data + b"\r\n")
    return [*chunks, b"--XyZ--\r\n"]


def test_the_code_is_checked_off_the_loop_before_the_body_is_read_on(
        app: Any, client: TestClient, demo: Any, ctx: Any, loop_reads: LoopReads) -> None:
    """The API's code is looked up in the thread pool, between two chunks of the body: an
    unknown code still stops the upload at the chunk that began the file, and stores nothing."""
    from sqlalchemy import func, select

    from tests.functional.test_intake_guarantees import _drive as drive_asgi
    from wbs.models import Attachment

    filed = _api_report(app, loop_reads, client)
    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ")]
    path = "/api/v1/mailbox/attachments"

    def endless(code: str) -> Iterator[bytes]:
        first, start_of_file, _end = _multipart(code, b"")
        yield first
        yield start_of_file.removesuffix(b"\r\n")
        while True:
            yield b"\0" * (1 << 20)

    status, pulled = asyncio.run(drive_asgi(app, path, endless("A" * 24), headers))
    assert (status, pulled) == (404, 2)  # the file's first chunk, and not one more
    # A body whose one chunk holds the code and the file: checked once it is parsed.
    status, _ = asyncio.run(drive_asgi(app, path, [b"".join(_multipart("B" * 24, _png()))],
                                       headers))
    assert status == 404
    # The same with the reporter's code is taken; without a file the code is checked too.
    status, _ = asyncio.run(drive_asgi(app, path, [b"".join(_multipart(filed["code"], _png()))],
                                       headers))
    assert status == 201
    status, _ = asyncio.run(drive_asgi(app, path, _multipart("C" * 24), headers))
    assert status == 404
    status, _ = asyncio.run(drive_asgi(app, path, _multipart(filed["code"]), headers))
    assert status == 422
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert not loop_reads.hits, loop_reads.report()
