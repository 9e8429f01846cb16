"""The foundation through HTTP: headers, sign-in, sessions, CSRF, errors, languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in, totp_now
from wbs.models import AuditEntry, StaffSession
from wbs.web.security import BASE_HEADERS

EXPECTED = {
    **BASE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "font-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'none'"
    ),
}


def assert_security_headers(response: Any, *, cacheable: bool = False) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    if cacheable:
        assert "no-store" not in response.headers["cache-control"]
    else:
        assert response.headers["cache-control"] == "no-store"
    # Served as https://testserver: HSTS is on.
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_home_in_indonesian_with_headers(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert '<html lang="id">' in r.text
    assert "Laporkan" in r.text  # the hero heading, translated
    assert "<script" not in r.text and "style=" not in r.text
    assert_security_headers(r)


def test_headers_on_404_error_and_static(client: TestClient, app: Any) -> None:
    r404 = client.get("/no-such-page")
    assert r404.status_code == 404
    assert "Halaman tidak ditemukan" in r404.text
    assert_security_headers(r404)
    static = client.get("/static/wbs.css")
    assert static.status_code == 200 and "--brand" in static.text
    assert_security_headers(static, cacheable=True)
    r405 = client.delete("/")
    assert r405.status_code == 405
    assert_security_headers(r405)


def test_500_page_reveals_nothing_and_has_headers(settings: Any, ctx: Any) -> None:
    from starlette.routing import Route

    from wbs.app import create_app
    from wbs.web.guard import public

    @public
    async def boom(_request: Any) -> Any:
        raise RuntimeError("SECRET-CANARY-500")

    app = create_app(settings, context=ctx, extra_routes=[Route("/boom", boom)])
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert "SECRET-CANARY-500" not in r.text and "Traceback" not in r.text
    assert "Terjadi kesalahan" in r.text
    assert_security_headers(r)


def test_database_down_gives_503(settings: Any, ctx: Any, tmp_path: Any) -> None:
    from dataclasses import replace

    from wbs.app import build_context, create_app

    down = replace(settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(down, context=build_context(down))
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        r = c.get("/healthz")
    assert r.status_code == 503
    assert "psycopg" not in r.text and "127.0.0.1" not in r.text
    assert r.headers["retry-after"] == "30"
    assert_security_headers(r)


def test_english_by_accept_language_and_switch(client: TestClient) -> None:
    r = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,id;q=0.5"})
    assert '<html lang="en">' in r.text and "Make a report" in r.text
    token = csrf_from(client)
    switched = client.post("/bahasa", data={"csrf_token": token, "lang": "en", "next": "/masuk"})
    assert switched.status_code == 303 and switched.headers["location"] == "/masuk"
    assert '<html lang="en">' in client.get("/").text
    # An off-site "next" is not followed.
    token = csrf_from(client)
    evil = client.post("/bahasa",
                       data={"csrf_token": token, "lang": "id", "next": "//evil.example"})
    assert evil.headers["location"] == "/"


@pytest.mark.parametrize("username", ["admin", "verifikator", "penghubung.pendidikan",
                                      "penghubung.kesehatan", "investigator", "investigator2",
                                      "inspektur", "pimpinan", "auditor"])
def test_every_demo_role_signs_in(client: TestClient, demo: dict[str, Any], clock: Clock,
                                  username: str) -> None:
    r = sign_in(client, demo[username], username, clock)
    assert r.status_code == 303 and r.headers["location"] == "/staf"
    page = client.get("/staf")
    assert page.status_code == 200 and username in page.text


def test_cookie_attributes(client: TestClient, demo: dict[str, Any], clock: Clock) -> None:
    r = sign_in(client, demo["verifikator"], "verifikator", clock)
    cookie = next(v for k, v in r.headers.multi_items()
                  if k == "set-cookie" and v.startswith("__Host-wbs="))
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert {"secure", "httponly", "path"} <= parts
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert "domain" not in parts and "max-age" not in parts and "expires" not in parts


def _failure(client: TestClient, username: str, password: str, code: str) -> Any:
    token = csrf_from(client, "/masuk")
    return client.post("/masuk", data={"csrf_token": token, "username": username,
                                       "password": password, "totp": code})


def _body_without_token(text: str) -> str:
    import re

    return re.sub(r'value="[^"]*"', 'value=""', text)


def test_failures_are_indistinguishable(client: TestClient, demo: dict[str, Any], clock: Clock,
                                        ctx: Any) -> None:
    creds = demo["verifikator"]
    good_code = totp_now(creds["totp_secret"], clock)
    wrong_password = _failure(client, "verifikator", "not-the-password", good_code)
    wrong_code = _failure(client, "verifikator", creds["password"], "000000"
                          if good_code != "000000" else "111111")
    unknown = _failure(client, "nobody", creds["password"], good_code)
    assert wrong_password.status_code == wrong_code.status_code == unknown.status_code == 401
    # Identical pages once the typed username (echoed back) and tokens are set aside.
    bodies = {_body_without_token(r.text) for r in (wrong_password, wrong_code, unknown)}
    assert len(bodies) == 1
    with ctx.db() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.sign_in",
                                                    AuditEntry.outcome == "denied")).all()
    assert [e.actor for e in denied] == ["verifikator", "verifikator", "-"]
    assert all("nobody" not in e.details for e in denied)


def test_totp_code_reuse_refused(client: TestClient, demo: dict[str, Any], clock: Clock) -> None:
    creds = demo["pimpinan"]
    assert sign_in(client, creds, "pimpinan", clock).status_code == 303
    client.cookies.clear()
    again = sign_in(client, creds, "pimpinan", clock)  # same code, same window
    assert again.status_code == 401
    clock.advance(seconds=30)
    assert sign_in(client, creds, "pimpinan", clock).status_code == 303


def test_sign_out_kills_session_and_old_cookie_fails(client: TestClient, demo: dict[str, Any],
                                                     clock: Clock, ctx: Any) -> None:
    sign_in(client, demo["auditor"], "auditor", clock)
    old = client.cookies.get("__Host-wbs")
    assert old
    token = csrf_from(client, "/staf")
    out = client.post("/keluar", data={"csrf_token": token})
    assert out.status_code == 303
    assert '"cookies"' in out.headers["clear-site-data"]
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(StaffSession)) == 0
    client.cookies.set("__Host-wbs", old)  # replay the old cookie
    r = client.get("/staf")
    assert r.status_code == 303 and r.headers["location"] == "/masuk"


def test_idle_timeout(client: TestClient, demo: dict[str, Any], clock: Clock) -> None:
    sign_in(client, demo["auditor"], "auditor", clock)
    clock.advance(minutes=29)
    assert client.get("/staf").status_code == 200  # activity refreshes the idle timer
    clock.advance(minutes=29)
    assert client.get("/staf").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/staf").status_code == 303


def test_absolute_timeout(client: TestClient, demo: dict[str, Any], clock: Clock) -> None:
    sign_in(client, demo["auditor"], "auditor", clock)
    for _ in range(19):  # active every 25 minutes, never idle: 7 h 55 min in all
        clock.advance(minutes=25)
        assert client.get("/staf").status_code == 200
    clock.advance(minutes=10)  # 8 h 5 min after sign-in
    r = client.get("/staf")
    assert r.status_code == 303 and r.headers["location"] == "/masuk"


def test_post_without_csrf_is_refused_and_changes_nothing(
        client: TestClient, demo: dict[str, Any], clock: Clock, ctx: Any) -> None:
    with ctx.db() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    r = client.post("/masuk", data={"username": "auditor", "password": demo["auditor"]["password"],
                                    "totp": totp_now(demo["auditor"]["totp_secret"], clock)})
    assert r.status_code == 403
    assert "__Host-wbs=" not in r.headers.get("set-cookie", "")
    forged = client.post("/masuk", data={"csrf_token": "forged", "username": "auditor"})
    assert forged.status_code == 403
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert s.scalar(select(func.count()).select_from(StaffSession)) == 0
    # Signed in, a sign-out without a token leaves the session alive.
    sign_in(client, demo["auditor"], "auditor", clock)
    assert client.post("/keluar", data={}).status_code == 403
    assert client.get("/staf").status_code == 200


def test_throttle_blocks_one_client_but_not_the_victim(
        client: TestClient, app: Any, demo: dict[str, Any], clock: Clock) -> None:
    from wbs import accounts

    for _ in range(accounts.PAIR_LIMIT):
        _failure(client, "investigator", "guess", "123456")
    blocked = sign_in(client, demo["investigator"], "investigator", clock)
    assert blocked.status_code == 429
    # The victim, from another client address, still signs in: no lock-out by failing on purpose.
    with TestClient(app, base_url="https://testserver", follow_redirects=False,
                    client=("10.9.9.9", 1234)) as victim:
        assert sign_in(victim, demo["investigator"], "investigator", clock).status_code == 303
    clock.advance(minutes=16)
    clock.advance(seconds=30)
    assert sign_in(client, demo["investigator"], "investigator", clock).status_code == 303


def test_password_change_reseals_key(client: TestClient, demo: dict[str, Any], clock: Clock,
                                     ctx: Any) -> None:
    from wbs.crypto import keyring
    from wbs.crypto.passwords import Argon2Params
    from wbs.models import User

    creds = demo["investigator"]
    sign_in(client, creds, "investigator", clock)
    token = csrf_from(client, "/staf/kata-sandi")
    r = client.post("/staf/kata-sandi", data={
        "csrf_token": token, "current_password": creds["password"],
        "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"})
    assert r.status_code == 200 and "diubah" in r.text
    with ctx.db() as s:
        user = s.scalars(select(User).where(User.username == "investigator")).one()
        derived = ctx.kdf.derive("a-new-long-password", user.password_salt,
                                 Argon2Params.decode(user.password_params))
        private = keyring.open_user_private_key(user.private_key_sealed, derived.sealing_key,
                                                "investigator")
    assert len(private) > 32
    client.cookies.clear()
    clock.advance(seconds=30)
    assert sign_in(client, creds, "investigator", clock).status_code == 401
    clock.advance(seconds=30)
    new_creds = {**creds, "password": "a-new-long-password"}
    assert sign_in(client, new_creds, "investigator", clock).status_code == 303


def test_password_change_guessing_is_audited_and_throttled(
        client: TestClient, demo: dict[str, Any], clock: Clock, ctx: Any) -> None:
    from wbs import accounts

    sign_in(client, demo["auditor"], "auditor", clock)
    statuses = []
    for _ in range(accounts.PAIR_LIMIT + 1):
        token = csrf_from(client, "/staf/kata-sandi")
        r = client.post("/staf/kata-sandi", data={
            "csrf_token": token, "current_password": "guess-guess-guess",
            "new_password": "a-new-long-password", "confirm_password": "a-new-long-password"})
        statuses.append("Terlalu banyak" in r.text)
    assert statuses[-1] and not statuses[0]
    with ctx.db() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.actor == "auditor",
                                                    AuditEntry.outcome == "denied")).all()
    assert len(denied) == accounts.PAIR_LIMIT
    assert all("password_change" in d.details for d in denied)
