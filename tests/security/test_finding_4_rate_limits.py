"""Issue 8, finding 4: anonymous reports, messages, uploads, status lookups and code sign-ins are
limited, without keeping client addresses.

The scanners created ~13,600 cases from one address and 4,479 messages on one case without
meeting a 429. Now each client address has a bucket per kind of request (keyed by an HMAC under
a key that lives only in memory and changes hourly) and the whole process a ceiling per minute;
a refused request gets 429 with Retry-After, a calm page that hands back what was typed, or JSON.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import csrf_from
from tests.functional.test_intake import CODE_RE, submit_form
from wbs.app import create_app
from wbs.context import Context
from wbs.models import Case, Message
from wbs.settings import Settings, parse_rate_ceilings, parse_rate_limits
from wbs.web.ratelimit import KEY_LIFETIME, RateLimiter

REPORT = {"kind": "complaint", "title": "Jalan rusak di pasar",
          "what": "Jalan di depan pasar rusak sejak Januari.\nSudah tiga kali dilaporkan.",
          "identity_mode": "anonymous"}
ENGLISH = {"Accept-Language": "en"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(settings: Settings, ctx: Context, limits: str = "", ceilings: str = "") -> Any:
    tuned = replace(settings, rate_limits=parse_rate_limits(limits),
                    rate_ceilings=parse_rate_ceilings(ceilings))
    app = create_app(tuned, context=ctx)
    clock = FakeClock()
    app.state.rate_limiter = RateLimiter(tuned, clock=clock)
    app.state.fake_clock = clock
    return app


def _browser(app: Any, address: str = "203.0.113.5") -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False,
                      client=(address, 40000))


def _count(ctx: Context, model: Any) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_finding_4_a_flood_from_one_address_meets_429(client: TestClient, demo: Any,
                                                      ctx: Context) -> None:
    """The scanners' case, with the shipped defaults: one address, status lookups and reports
    in a loop. Before the fix none of them was ever refused."""
    report = client.post("/api/v1/reports", json=REPORT)
    assert report.status_code == 201
    code = report.json()["code"]
    answers = [client.post("/api/v1/status", json={"code": code}).status_code
               for _ in range(100)]
    assert 429 in answers and answers[0] == 200
    created = [client.post("/api/v1/reports", json=REPORT).status_code for _ in range(40)]
    assert 429 in created
    assert _count(ctx, Case) < 41


def test_finding_4_reports_are_limited_and_the_page_keeps_the_report(
        settings: Settings, ctx: Context, demo: Any) -> None:
    app = _app(settings, ctx, limits="report=2/h")
    browser = _browser(app)
    for _ in range(2):
        assert submit_form(browser, REPORT).status_code == 200
    refused = submit_form(browser, REPORT, files=[("bukti.txt", b"kuitansi", "text/plain")])
    assert refused.status_code == 429 and _count(ctx, Case) == 2
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 3600
    page = refused.text
    assert "Laporan Anda belum terkirim." in page and "Mohon tunggu" in page
    # What was typed comes back in a form that sends it again (multipart, for files).
    assert 'action="/lapor"' in page and 'enctype="multipart/form-data"' in page
    for name, value in REPORT.items():
        escaped = value.replace('"', "&#34;")
        assert f'name="{name}" value="{escaped}"' in page, name
    assert 'name="csrf_token"' in page and 'type="file"' in page
    in_english = TestClient(app, base_url="https://testserver", follow_redirects=False,
                            client=("203.0.113.5", 40001), headers=ENGLISH)
    english = submit_form(in_english, REPORT)
    assert english.status_code == 429
    assert "Your report has not been sent yet." in english.text
    assert "Please wait about" in english.text and "Send again" in english.text

    app.state.fake_clock.now += wait  # after the wait the same report goes through
    resent = submit_form(browser, REPORT)
    assert resent.status_code == 200 and CODE_RE.search(resent.text)
    assert _count(ctx, Case) == 3


def test_finding_4_the_api_answers_429_json_with_retry_after(settings: Settings,
                                                             ctx: Context, demo: Any) -> None:
    app = _app(settings, ctx, limits="report=1/h,status=2/10m")
    api = _browser(app)
    first = api.post("/api/v1/reports", json=REPORT)
    assert first.status_code == 201
    second = api.post("/api/v1/reports", json=REPORT)
    assert second.status_code == 429
    assert second.json() == {"error": "too_many_requests", "category": "report",
                             "retry_after": int(second.headers["Retry-After"])}
    assert 3000 <= int(second.headers["Retry-After"]) <= 3600
    code = first.json()["code"]
    assert [api.post("/api/v1/status", json={"code": code}).status_code
            for _ in range(3)] == [200, 200, 429]
    assert _count(ctx, Case) == 1


def test_finding_4_buckets_are_per_client_and_per_kind(settings: Settings, ctx: Context,
                                                       demo: Any) -> None:
    app = _app(settings, ctx, limits="report=1/h")
    assert submit_form(_browser(app, "203.0.113.5"), REPORT).status_code == 200
    assert submit_form(_browser(app, "203.0.113.5"), REPORT).status_code == 429
    # Another address, and another kind of request from the same address, are not refused.
    assert submit_form(_browser(app, "198.51.100.9"), REPORT).status_code == 200
    same = _browser(app, "203.0.113.5")
    token = csrf_from(same, "/status")
    assert same.post("/status", data={"csrf_token": token, "code": "x"}).status_code == 404
    # IPv6: one subscriber's /64 is one client.
    assert submit_form(_browser(app, "2001:db8:1:2::10"), REPORT).status_code == 200
    assert submit_form(_browser(app, "2001:db8:1:2:ffff::1"), REPORT).status_code == 429
    assert submit_form(_browser(app, "2001:db8:1:3::10"), REPORT).status_code == 200


def test_finding_4_the_global_ceiling_holds_against_many_addresses(
        settings: Settings, ctx: Context, demo: Any) -> None:
    app = _app(settings, ctx, ceilings="report=3")
    statuses = [_browser(app, f"192.0.2.{i}").post("/api/v1/reports", json=REPORT).status_code
                for i in range(1, 6)]
    assert statuses == [201, 201, 201, 429, 429]
    app.state.fake_clock.now += 60
    assert _browser(app, "192.0.2.99").post("/api/v1/reports", json=REPORT).status_code == 201


def _mailbox(app: Any, code: str, address: str = "203.0.113.5") -> TestClient:
    browser = _browser(app, address)
    token = csrf_from(browser, "/kotak-pesan")
    assert browser.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": code}
                        ).status_code == 303
    return browser


def test_finding_4_messages_uploads_and_sign_ins_are_limited(settings: Settings, ctx: Context,
                                                             demo: Any) -> None:
    app = _app(settings, ctx, limits="message=2/h,upload=1/h,signin=3/10m")
    code = _browser(app, "192.0.2.200").post("/api/v1/reports", json=REPORT).json()["code"]
    browser = _mailbox(app, code)
    token = csrf_from(browser, "/kotak-pesan")
    for text in ("Pesan pertama.", "Pesan kedua."):
        assert browser.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": text}
                            ).status_code == 303
    body = "Pesan ketiga:\nkuitansi <b>asli</b> & fotokopi."
    refused = browser.post("/kotak-pesan/pesan", data={"csrf_token": token, "body": body},
                           headers=ENGLISH)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Your message has not been sent yet." in refused.text
    # The message comes back, escaped, in a form that posts it again; the code does not.
    assert 'action="/kotak-pesan/pesan"' in refused.text
    assert "Pesan ketiga:\nkuitansi &lt;b&gt;asli&lt;/b&gt; &amp; fotokopi." in refused.text
    assert code not in refused.text
    assert _count(ctx, Message) == 2

    files = [("files", ("a.txt", b"satu", "text/plain"))]
    assert browser.post("/kotak-pesan/lampiran", data={"csrf_token": token}, files=files
                        ).status_code == 303
    assert browser.post("/kotak-pesan/lampiran", data={"csrf_token": token}, files=files
                        ).status_code == 429
    api = _browser(app)
    assert api.post("/api/v1/mailbox/attachments", data={"code": code}, files={
        "file": ("b.txt", b"dua", "text/plain")}).status_code == 429

    # Sign-ins: the mailbox above used one; two more pass, the next is refused, web and API.
    other = _browser(app, "198.51.100.77")
    for _ in range(3):
        token = csrf_from(other, "/kotak-pesan")
        assert other.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": "salah"}
                          ).status_code == 404
    token = csrf_from(other, "/kotak-pesan")
    page = other.post("/kotak-pesan/masuk", data={"csrf_token": token, "code": "salah"})
    assert page.status_code == 429 and 'href="/kotak-pesan"' in page.text
    assert "salah" not in re.sub(r"<[^>]+>", "", page.text)  # a code is never echoed
    assert _browser(app, "198.51.100.77").post(
        "/api/v1/mailbox", json={"code": code}).status_code == 429


def test_finding_4_no_client_address_is_kept(settings: Settings, ctx: Context, demo: Any,
                                             tmp_path: Path) -> None:
    app = _app(settings, ctx, limits="report=1/h")
    address = "203.0.113.231"
    limiter = app.state.rate_limiter
    assert submit_form(_browser(app, address), REPORT).status_code == 200
    assert submit_form(_browser(app, address), REPORT).status_code == 429
    key = limiter.client_key(address)
    assert address.encode() not in key and len(key) == 16
    # Nothing derived from the address reaches the database or the data directory.
    ctx.engine.dispose()
    for path in Path(settings.data_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert address.encode() not in data and key not in data, path
    # An hour later the key is new: the old buckets are gone, and the same address maps to a
    # bucket nobody can link to the one before.
    app.state.fake_clock.now += KEY_LIFETIME
    assert submit_form(_browser(app, address), REPORT).status_code == 200
    assert limiter.client_key(address) != key
    assert limiter.tracked_clients() == 1


@pytest.mark.parametrize("spec", ["report=0/h", "reports=1/h", "report=1/x", "report=-1/h",
                                  "report=1"])
def test_rate_limit_settings_are_checked(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limits(spec)


def test_rate_limit_settings_from_the_environment() -> None:
    settings = Settings.from_env({"WBS_RATE_LIMITS": "report=5/30m, status=100/h",
                                  "WBS_RATE_CEILINGS": "report=10",
                                  "WBS_RATE_LIMIT_PROCESSES": "4"})
    limits = {name: (count, seconds) for name, count, seconds in settings.rate_limits}
    assert limits["report"] == (5, 1800) and limits["status"] == (100, 3600)
    assert limits["message"] == (60, 3600)  # the others keep their defaults
    assert dict(settings.rate_ceilings)["report"] == 10
    assert settings.rate_limit_processes == 4
    with pytest.raises(ValueError):
        parse_rate_ceilings("report=0")


def test_the_limited_report_form_still_refuses_a_forged_post_before_its_body(
        app: Any, demo: Any, ctx: Context) -> None:
    """The limit wraps the form's CSRF gate: without the CSRF cookie, 403 before any byte."""
    import asyncio

    from tests.functional.test_intake_guarantees import _drive

    def body() -> Any:
        for _ in range(10):
            yield b"x" * 65536

    headers = [(b"content-type", b"multipart/form-data; boundary=XyZ")]
    assert asyncio.run(_drive(app, "/lapor", body(), headers)) == (403, 0)
    assert app.state.rate_limiter.tracked_clients() == 0  # nothing spent on a forged post
