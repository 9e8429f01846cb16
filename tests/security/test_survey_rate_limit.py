"""The public SKM form (no account) is limited like the portal's other anonymous forms: per
client address bucket (an HMAC under an hourly in-memory key) and a process ceiling. Before,
one address could send responses without end, each visit taking a fresh nonce."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_surveys import ANSWERS, _answers, _create, _visit
from tests.security.test_finding_4_rate_limits import _app
from wbs.context import Context
from wbs.reports.tables import SkmResponse, SkmSpentNonce
from wbs.settings import Settings

ADDRESS = "203.0.113.77"


def _send(browser: TestClient, token: str) -> Any:
    form = browser.get(f"/survei/{token}")
    csrf = csrf_from(browser, f"/survei/{token}")
    return browser.post(f"/survei/{token}", data={"csrf_token": csrf, "visit": _visit(form.text),
                                                 **_answers(ANSWERS[0])})


def test_the_public_survey_form_is_rate_limited(settings: Settings, ctx: Context,
                                                demo: dict[str, Any], clock: Clock) -> None:
    app = _app(settings, ctx, limits="survey=3/h")
    staff = TestClient(app, base_url="https://testserver", follow_redirects=False,
                       client=("198.51.100.1", 40000))
    token = _create(staff, demo, clock)
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False,
                         client=(ADDRESS, 40000))
    for _ in range(3):
        assert _send(browser, token).status_code == 200
    refused = _send(browser, token)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 3600
    assert "Jawaban Anda belum terkirim." in refused.text and "Mohon tunggu" in refused.text
    # What was chosen comes back in a form that sends it again.
    assert f'action="/survei/{token}"' in refused.text and 'name="e1" value="4"' in refused.text
    english = TestClient(app, base_url="https://testserver", follow_redirects=False,
                         client=(ADDRESS, 40001), headers={"Accept-Language": "en"})
    refused_en = _send(english, token)
    assert refused_en.status_code == 429 and "Retry-After" in refused_en.headers
    assert "Your answers have not been sent yet." in refused_en.text
    with ctx.db() as s:
        assert s.scalar(select(func.count()).select_from(SkmResponse)) == 3
        assert s.scalar(select(func.count()).select_from(SkmSpentNonce)) == 3
    # Another address is not held back by this one's bucket.
    other = TestClient(app, base_url="https://testserver", follow_redirects=False,
                       client=("192.0.2.9", 40000))
    assert _send(other, token).status_code == 200
    # After the wait the same address is served again.
    app.state.fake_clock.now += wait
    assert _send(browser, token).status_code == 200


def test_nothing_about_the_respondent_is_stored(settings: Settings, ctx: Context,
                                                demo: dict[str, Any], clock: Clock) -> None:
    """No column of any table, nor the database file, holds the respondent's address, in
    clear or as its plain hash: the buckets live in memory, keyed under a random key."""
    import hashlib

    app = _app(settings, ctx, limits="survey=1/h")
    staff = TestClient(app, base_url="https://testserver", follow_redirects=False,
                       client=("198.51.100.1", 40000))
    token = _create(staff, demo, clock)
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False,
                         client=(ADDRESS, 40000))
    assert _send(browser, token).status_code == 200
    assert _send(browser, token).status_code == 429
    needles = [ADDRESS.encode(), hashlib.sha256(ADDRESS.encode()).hexdigest().encode(),
               hashlib.sha256(ADDRESS.encode()).digest()]
    with ctx.engine.connect() as conn:
        from wbs.models import Base

        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    assert not any(n in raw for n in needles), table.name
