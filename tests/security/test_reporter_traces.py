"""The reporter leaves no time of day behind, and a finished case takes no more input.

DESIGN §1.4: no precise timestamp of a reporter is stored. The mailbox session row keeps the day it
was opened and nothing else that dates it; the sliding idle expiry lives in the cookie under an
HMAC, so a forged or stretched expiry is refused. A closed, archived or forwarded case refuses
messages and evidence (web and API) but still accepts the identity (PP 43/2018). The evidence
upload checks the session before it reads a byte of the body.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, Time, create_engine, func, inspect, select, text, update
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_intake_guarantees import _drive
from wbs.cases import reporter
from wbs.models import Attachment, Case, Message, ReporterSession
from wbs.web.reporter import MAILBOX_COOKIE

REPORT = {"kind": "complaint", "title": "Pungutan liar", "what": "Biaya KTP diminta Rp 100.000.",
          "identity_mode": "anonymous"}
AT_10_17_42 = datetime(2026, 3, 2, 10, 17, 42, tzinfo=UTC)
COOKIE_RE = re.compile(r"[0-9a-f]{64}\.[0-9]+\.[A-Za-z0-9_-]{43}")
LOGIN_FORM = 'action="/kotak-pesan/masuk"'
ENGLISH = {"Accept-Language": "en"}
CLOSED_NOTE = "no longer accepts messages or files"
FINISHED = ["closed", "archived", "forwarded"]


def _file_report(client: TestClient) -> str:
    r = submit_form(client, REPORT)
    found = CODE_RE.search(r.text)
    assert found, r.text[:500]
    return found.group(1)


def _reporter(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _open(client: TestClient, code: str) -> str:
    token = csrf_from(client, "/kotak-pesan")
    r = client.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code})
    assert r.status_code == 303
    cookie = client.cookies.get(MAILBOX_COOKIE)
    assert cookie
    return str(cookie)


def _set_cookie_values(response: Any) -> list[str]:
    values = []
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{MAILBOX_COOKIE}="):
            values.append(header.split(";")[0].split("=", 1)[1])
    return values


def _assert_refreshing_cookie(response: Any) -> str:
    [value] = _set_cookie_values(response)
    header = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith(f"{MAILBOX_COOKIE}="))
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags
    assert COOKIE_RE.fullmatch(value)
    return value


def _expiry(cookie: str) -> int:
    return int(cookie.split(".")[1])


def _raw_rows(db_url: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM reporter_sessions"))]
    engine.dispose()
    return rows


def _set_state(ctx: Any, state: str) -> None:
    with ctx.db.begin() as s:
        s.execute(update(Case).values(state=state))


def _count(ctx: Any, model: Any) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# --- 1. no time of day in the database ---------------------------------------------------------

def test_session_row_holds_a_date_and_no_time_of_day(app: Any, client: TestClient, demo: Any,
                                                     clock: Clock, ctx: Any,
                                                     db_url: str) -> None:
    clock.current = AT_10_17_42
    code = _file_report(client)
    mailbox = _reporter(app)
    _open(mailbox, code)
    token = csrf_from(mailbox, "/kotak-pesan")
    assert mailbox.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": "Ada kuitansi."}
                        ).status_code == 303

    engine = create_engine(db_url)
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("reporter_sessions")}
    engine.dispose()
    assert set(columns) == {"id", "token_hash", "case_id", "created_on", "case_key_sealed",
                            "identity_key_sealed"}
    assert not [n for n, t in columns.items() if isinstance(t, DateTime | Time)]
    assert isinstance(columns["created_on"], Date) and not isinstance(columns["created_on"],
                                                                      DateTime)

    [row] = _raw_rows(db_url)
    stamp = int(AT_10_17_42.timestamp())
    for name, value in row.items():
        assert not isinstance(value, datetime | time), name
        if isinstance(value, str):  # SQLite hands dates back as text
            assert ":" not in value and "T" not in value, (name, value)
        if isinstance(value, int):
            assert abs(value - stamp) > 10 * 24 * 3600, name  # no unix time hiding as a number
    assert str(row["created_on"]) == "2026-03-02"
    with ctx.db() as s:
        assert s.scalars(select(ReporterSession.created_on)).one() == date(2026, 3, 2)


def test_using_the_mailbox_writes_nothing_to_the_session_row(app: Any, client: TestClient,
                                                             demo: Any, clock: Clock,
                                                             db_url: str) -> None:
    clock.current = AT_10_17_42
    mailbox = _reporter(app)
    _open(mailbox, _file_report(client))
    xmin = "SELECT xmin::text AS xmin FROM reporter_sessions"
    before = _raw_rows(db_url)
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        with engine.connect() as conn:
            version_before = conn.execute(text(xmin)).scalar_one()
    for minutes in (3, 11, 7):
        clock.advance(minutes=minutes)
        assert mailbox.get("/kotak-pesan").status_code == 200
    assert _raw_rows(db_url) == before
    if db_url.startswith("postgresql"):
        with engine.connect() as conn:
            assert conn.execute(text(xmin)).scalar_one() == version_before  # never UPDATEd
        engine.dispose()


def test_old_rows_are_purged_when_a_session_opens(app: Any, client: TestClient, demo: Any,
                                                  clock: Clock, ctx: Any) -> None:
    code = _file_report(client)
    first = _reporter(app)
    _open(first, code)
    clock.advance(days=1)
    _open(_reporter(app), code)
    assert _count(ctx, ReporterSession) == 2  # yesterday's row is kept
    clock.advance(days=1)
    _open(_reporter(app), code)
    with ctx.db() as s:
        assert sorted(s.scalars(select(ReporterSession.created_on))) == [
            date(2026, 3, 3), date(2026, 3, 4)]


# --- 2. sliding idle timeout in the cookie --------------------------------------------------------

def test_idle_timeout_slides_with_activity_and_ends_after_idling(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Any) -> None:
    clock.current = AT_10_17_42
    mailbox = _reporter(app)
    opened = _open(mailbox, _file_report(client))
    assert _expiry(opened) == int(AT_10_17_42.timestamp()) + 30 * 60

    for _ in range(3):  # 87 minutes in all, never 30 idle
        clock.advance(minutes=29)
        page = mailbox.get("/kotak-pesan")
        assert page.status_code == 200 and LOGIN_FORM not in page.text
        refreshed = _assert_refreshing_cookie(page)
        assert _expiry(refreshed) == int(clock().timestamp()) + 30 * 60
    token = csrf_from(mailbox, "/kotak-pesan")
    clock.advance(minutes=29)
    posted = mailbox.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": "Masih ada."})
    assert posted.status_code == 303
    assert _expiry(_assert_refreshing_cookie(posted)) == int(clock().timestamp()) + 30 * 60

    clock.advance(minutes=31)
    page = mailbox.get("/kotak-pesan")
    assert page.status_code == 200 and LOGIN_FORM in page.text
    assert _count(ctx, ReporterSession) == 0  # the expired session's row is gone
    token = csrf_from(mailbox, "/kotak-pesan")
    assert mailbox.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": "x"}
                        ).status_code == 403


def test_every_mailbox_handler_refreshes_the_cookie(app: Any, client: TestClient, demo: Any,
                                                    clock: Clock, ctx: Any) -> None:
    r = submit_form(client, REPORT, files=[("bukti.txt", b"catatan", "text/plain")])
    code = CODE_RE.search(r.text)
    assert code
    mailbox = _reporter(app)
    _open(mailbox, code.group(1))
    with ctx.db() as s:
        attachment_id = s.scalars(select(Attachment.id)).one()

    def page(token: str) -> Any:
        return mailbox.get("/kotak-pesan")

    def post(path: str, **data: str) -> Any:
        return lambda token: mailbox.post(path, data={"csrf_token": token, **data})

    requests: dict[str, Any] = {
        "page": page,
        "message": post("/kotak-pesan/pesan", body="Halo"),
        "empty message": post("/kotak-pesan/pesan", body=" "),
        "identity": post("/kotak-pesan/identitas", identity_name="Budi"),
        "bad identity": post("/kotak-pesan/identitas", identity_email="bukan-email"),
        "lapor consent": post("/kotak-pesan/lapor-identitas", decision="give"),
        "lapor consent revoked": post("/kotak-pesan/lapor-identitas", decision="revoke"),
        "file": lambda token: mailbox.post(
            "/kotak-pesan/lampiran", data={"csrf_token": token},
            files=[("files", ("b.txt", b"lagi", "text/plain"))]),
        "download": lambda token: mailbox.get(f"/kotak-pesan/lampiran/{attachment_id}"),
        "response": post("/kotak-pesan/tanggapan", response="accept"),
    }
    for name, send in requests.items():
        token = csrf_from(mailbox, "/kotak-pesan")
        clock.advance(minutes=20)
        response = send(token)
        assert response.status_code in (200, 303, 400), name
        if name == "download":
            assert response.content == b"catatan"
        expiry = _expiry(_assert_refreshing_cookie(response))
        assert expiry == int(clock().timestamp()) + 1800, name


# --- 3. forged cookies ---------------------------------------------------------------------------

def _variants(cookie: str, ctx: Any, clock: Clock) -> dict[str, str]:
    token_hex, expiry, mac = cookie.split(".")
    token = bytes.fromhex(token_hex)
    later = int(expiry) + 24 * 3600
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    other_token = ("0" if token_hex[0] != "0" else "1") + token_hex[1:]
    past = int(clock().timestamp()) - 1
    return {
        "stretched expiry, old mac": f"{token_hex}.{later}.{mac}",
        "altered mac": f"{token_hex}.{expiry}.{flipped}",
        "other token, same mac": f"{other_token}.{expiry}.{mac}",
        "mac under another key": f"{token_hex}.{later}."
        + _mac_with(bytes(32), token, later),
        "padded mac": f"{cookie}=",
        "bare token (old format)": token_hex,
        "upper-case token": f"{token_hex.upper()}.{expiry}.{mac}",
        "no mac": f"{token_hex}.{expiry}",
        "empty": "",
        "too long": cookie + "." + "A" * 300,
        # Last: a correctly signed cookie whose expiry passed ends the session.
        "genuine but expired": f"{token_hex}.{past}.{reporter._cookie_mac(ctx, token, past)}",
    }


def _mac_with(key: bytes, token: bytes, expiry: int) -> str:
    import base64
    import hashlib
    import hmac

    digest = hmac.new(key, token + expiry.to_bytes(8, "big"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_forged_or_altered_cookies_are_refused(app: Any, client: TestClient, demo: Any,
                                               clock: Clock, ctx: Any) -> None:
    cookie = _open(_reporter(app), _file_report(client))
    clock.advance(minutes=5)
    for name, forged in _variants(cookie, ctx, clock).items():
        assert reporter.access_by_session(ctx, forged) is None, name
        fresh = _reporter(app)
        page = fresh.get("/kotak-pesan", headers={"cookie": f"{MAILBOX_COOKIE}={forged}"})
        assert LOGIN_FORM in page.text, name
        if forged:
            assert any("max-age=0" in h.lower() or "expires=" in h.lower()
                       for h in page.headers.get_list("set-cookie")
                       if h.startswith(f"{MAILBOX_COOKIE}=")), name  # the browser drops it
        if name != "genuine but expired":
            assert reporter.access_by_session(ctx, cookie) is not None, name  # still valid
    assert _count(ctx, ReporterSession) == 0  # the expired one deleted its row


def test_the_cookie_never_holds_the_code(app: Any, client: TestClient, demo: Any,
                                         clock: Clock) -> None:
    code = _file_report(client)
    bare = code.replace("-", "")
    mailbox = _reporter(app)
    seen = [_open(mailbox, code)]
    seen += _set_cookie_values(mailbox.get("/kotak-pesan"))
    token = csrf_from(mailbox, "/kotak-pesan")
    seen += _set_cookie_values(mailbox.post("/kotak-pesan/pesan",
                                            data={"csrf_token": token, "body": "Halo"}))
    assert len(seen) == 3
    for value in seen:
        assert COOKIE_RE.fullmatch(value)
        for form in (code, bare, bare.lower(), bare.encode().hex()):
            assert form.lower() not in value.lower()
        for i in range(len(bare) - 7):  # not even a fragment of it
            assert bare[i:i + 8].lower() not in value.lower()


# --- 4. a finished case takes no more messages or evidence ---------------------------------------

@pytest.mark.parametrize("state", FINISHED)
def test_finished_case_refuses_messages_and_files_but_takes_identity(
        app: Any, client: TestClient, demo: Any, clock: Clock, ctx: Any, state: str) -> None:
    mailbox = _reporter(app)
    _open(mailbox, _file_report(client))
    _set_state(ctx, state)
    messages, files = _count(ctx, Message), _count(ctx, Attachment)

    page = mailbox.get("/kotak-pesan", headers=ENGLISH)
    assert CLOSED_NOTE in page.text
    assert 'action="/kotak-pesan/pesan"' not in page.text
    assert 'action="/kotak-pesan/lampiran"' not in page.text
    token = csrf_from(mailbox, "/kotak-pesan")

    r = mailbox.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": "Satu lagi."},
                     headers=ENGLISH)
    assert r.status_code == 409 and CLOSED_NOTE in r.text and 'role="alert"' in r.text
    _assert_refreshing_cookie(r)
    r = mailbox.post("/kotak-pesan/lampiran", data={"csrf_token": token},
                     files=[("files", ("b.txt", b"bukti baru", "text/plain"))], headers=ENGLISH)
    assert r.status_code == 409 and CLOSED_NOTE in r.text
    _assert_refreshing_cookie(r)
    assert (_count(ctx, Message), _count(ctx, Attachment)) == (messages, files)

    r = mailbox.post("/kotak-pesan/identitas", data={
        "csrf_token": token, "identity_name": "Siti Pelapor", "identity_phone": "0812000111"})
    assert r.status_code == 303
    with ctx.db() as s:
        case = s.scalars(select(Case)).one()
        assert case.identity_provided and case.state == state


@pytest.mark.parametrize("state", FINISHED)
def test_service_refuses_input_to_a_finished_case(client: TestClient, demo: Any, ctx: Any,
                                                  state: str) -> None:
    access = reporter.access_by_code(ctx, _file_report(client))
    assert access is not None
    assert reporter.accepts_input(ctx, access)
    _set_state(ctx, state)
    assert not reporter.accepts_input(ctx, access)
    with pytest.raises(reporter.CaseClosed):
        reporter.post_message(ctx, access, "Pesan")
    with pytest.raises(reporter.CaseClosed):
        reporter.add_attachments(ctx, access, [])
    assert reporter.mailbox(ctx, access).closed


def test_closed_case_stops_the_upload_before_the_file(app: Any, client: TestClient, demo: Any,
                                                      ctx: Any) -> None:
    mailbox = _reporter(app)
    _open(mailbox, _file_report(client))
    token = csrf_from(mailbox, "/kotak-pesan")
    _set_state(ctx, "closed")
    cookies = "; ".join(f"{k}={v}" for k, v in mailbox.cookies.items())

    def body() -> Any:
        yield (b'--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
               + token.encode() + b"\r\n--XyZ\r\n"
               b'Content-Disposition: form-data; name="files"; filename="big.bin"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(50):
            yield b"\0" * (1 << 20)

    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ"),
               (b"cookie", cookies.encode())]
    status, pulled = asyncio.run(_drive(app, "/kotak-pesan/lampiran", body(), headers))
    assert status == 409
    assert pulled <= 2  # the fields, then the first file part's headers: no file bytes kept
    assert _count(ctx, Attachment) == 0


def _api_report(client: TestClient) -> dict[str, Any]:
    r = client.post("/api/v1/reports", json=REPORT)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("state", ["closed", "archived"])
def test_api_stores_nothing_for_a_finished_case(app: Any, client: TestClient, demo: Any,
                                                ctx: Any, state: str) -> None:
    report = _api_report(client)
    _set_state(ctx, state)
    messages, files = _count(ctx, Message), _count(ctx, Attachment)
    api = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    r = api.post("/api/v1/mailbox/messages", json={"code": report["code"], "body": "Lagi"})
    assert r.status_code >= 400
    r = api.post("/api/v1/mailbox/attachments", data={"code": report["code"]},
                 files={"file": ("b.txt", b"bukti", "text/plain")})
    assert r.status_code >= 400
    assert (_count(ctx, Message), _count(ctx, Attachment)) == (messages, files)
    r = api.post("/api/v1/mailbox/identity", json={"code": report["code"],
                                                   "identity": {"name": "Siti Pelapor"}})
    assert r.status_code == 201


@pytest.mark.parametrize("state", ["closed", "archived"])
def test_api_answers_409_case_closed(app: Any, client: TestClient, demo: Any, ctx: Any,
                                     state: str) -> None:
    report = _api_report(client)
    _set_state(ctx, state)
    api = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    r = api.post("/api/v1/mailbox/messages", json={"code": report["code"], "body": "Lagi"})
    assert (r.status_code, r.json()) == (409, {"error": "case_closed"})
    r = api.post("/api/v1/mailbox/attachments", data={"code": report["code"]},
                 files={"file": ("b.txt", b"bukti", "text/plain")})
    assert (r.status_code, r.json()) == (409, {"error": "case_closed"})


# --- 5. the upload checks the session before the body --------------------------------------------

@pytest.mark.parametrize("cookie", [None, "forged", "expired"])
def test_upload_without_a_session_is_403_before_the_body(app: Any, client: TestClient, demo: Any,
                                                         clock: Clock, ctx: Any,
                                                         cookie: str | None) -> None:
    token = csrf_from(client, "/kotak-pesan")
    csrf_cookie = f"__Host-wbs-csrf={client.cookies.get('__Host-wbs-csrf')}"
    cookies = [csrf_cookie]
    if cookie == "forged":
        cookies.append(f"{MAILBOX_COOKIE}={'ab' * 32}.{2 ** 33}.{'A' * 43}")
    elif cookie == "expired":
        mailbox = _reporter(app)
        cookies.append(f"{MAILBOX_COOKIE}={_open(mailbox, _file_report(client))}")
        clock.advance(minutes=31)

    def body() -> Any:
        yield (b'--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
               + token.encode() + b"\r\n--XyZ\r\n"
               b'Content-Disposition: form-data; name="files"; filename="x.txt"\r\n\r\n')
        for _ in range(20):
            yield b"x" * (1 << 20)

    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ"),
               (b"cookie", "; ".join(cookies).encode())]
    status, pulled = asyncio.run(_drive(app, "/kotak-pesan/lampiran", body(), headers))
    assert (status, pulled) == (403, 0)
    assert _count(ctx, Attachment) == 0


def test_expired_session_window_is_exactly_the_idle_setting(client: TestClient, demo: Any,
                                                            clock: Clock, ctx: Any) -> None:
    cookie = reporter.open_session(ctx, _file_report(client))
    assert cookie is not None
    clock.advance(seconds=ctx.settings.reporter_session_idle_seconds - 1)
    found = reporter.access_by_session(ctx, cookie)
    assert found is not None
    refreshed = found[1]
    clock.advance(seconds=1)
    assert reporter.access_by_session(ctx, cookie) is None  # the old cookie ran out...
    assert _count(ctx, ReporterSession) == 0  # ...and took the row with it
    assert reporter.access_by_session(ctx, refreshed) is None
    assert timedelta(seconds=_expiry(refreshed) - _expiry(cookie)) == timedelta(
        seconds=ctx.settings.reporter_session_idle_seconds - 1)


def test_jobs_purge_old_mailbox_sessions(app: Any, client: TestClient, demo: Any, clock: Any,
                                         ctx: Any) -> None:
    from wbs import jobs
    from wbs.models import ReporterSession

    report = client.post("/api/v1/reports", json={"kind": "complaint", "title": "t",
                                                  "what": "w"}).json()
    from wbs.cases import reporter as reporter_service

    assert reporter_service.open_session(ctx, report["code"]) is not None
    assert jobs.run_all(ctx)["reporter_sessions_purged"] == 0
    clock.advance(days=3)
    assert jobs.run_all(ctx)["reporter_sessions_purged"] == 1
    with ctx.db() as s:
        assert s.scalars(select(ReporterSession)).first() is None
