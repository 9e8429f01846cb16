"""Staff sign-in timing: a failed sign-in is answered no sooner than the failure floor (so that
an unknown name, a wrong code and a wrong password take about as long), and an account under a
spread-out guessing attack answers each further try more slowly, from any address."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import csrf_from
from wbs import accounts


def _try(app: Any, address: str, username: str) -> tuple[int, float]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False,
                    client=(address, 40000)) as browser:
        token = csrf_from(browser, "/masuk")
        started = time.monotonic()
        r = browser.post("/masuk", data={"csrf_token": token, "username": username,
                                         "password": "salah sekali", "totp": "000000"})
        return r.status_code, time.monotonic() - started


def test_a_failed_sign_in_takes_at_least_the_floor(app: Any, demo: Any) -> None:
    app.state.failure_floor = 0.4
    for username in ("tidak-ada", "verifikator"):
        status, took = _try(app, "198.51.100.1", username)
        assert status == 401 and took >= 0.4, (username, took)


def test_an_account_guessed_from_many_addresses_answers_more_slowly(app: Any,
                                                                    demo: Any) -> None:
    for n in range(accounts.ACCOUNT_SLOWDOWN_AFTER + 1):
        status, took = _try(app, f"203.0.113.{n + 1}", "verifikator")
        assert status == 401 and took < 5
    # Past the slowdown, each failure adds a quarter second to the next try, from any address.
    status, took = _try(app, "192.0.2.77", "verifikator")
    assert status == 401 and took >= 0.25
    status, took = _try(app, "192.0.2.78", "verifikator")
    assert status == 401 and took >= 0.5
    # Another account is not slowed by this one's failures.
    status, took = _try(app, "192.0.2.79", "auditor")
    assert status == 401 and took < 0.25
