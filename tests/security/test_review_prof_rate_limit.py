# ruff: noqa: F811 - the fixtures `stub` and `team` are imported from the consent tests
"""Adversarial review of branch profiles2: the new mailbox write is not rate-limited.

Every other mailbox write (/kotak-pesan/pesan, /identitas, /tanggapan, /lampiran) is in
`ratelimit.LIMITED` (issue 8 finding 4). /kotak-pesan/lapor-identitas is not: one mailbox
session can alternate give/revoke without bound, each round opening the identity, sealing it
(HPKE), rewriting the consent row and staging an audit row. Expected to FAIL on f9fadc7."""

from __future__ import annotations

from typing import Any

from tests.functional.test_profiles2_lapor_consent import _decide, _file, _mailbox, stub, team  # noqa: F401 - fixtures
from tests.security.test_finding_4_rate_limits import _app
from wbs.context import Context
from wbs.settings import Settings
from wbs.web import ratelimit


def test_the_lapor_consent_route_is_rate_limited_like_every_mailbox_write() -> None:
    assert ratelimit.category_of("/kotak-pesan/identitas") == "message"
    assert ratelimit.category_of("/kotak-pesan/lapor-identitas") is not None


def test_give_and_revoke_cannot_be_repeated_without_bound(settings: Settings, ctx: Context,
                                                           team: Any) -> None:
    app = _app(settings, ctx, limits="message=2/h")
    _number, code = _file(ctx)
    browser = _mailbox(app, code)
    answers = [_decide(browser, d).status_code for _ in range(3) for d in ("give", "revoke")]
    # message=2/h: /kotak-pesan/identitas or /pesan would meet 429 at the third write.
    assert 429 in answers, f"consent writes under message=2/h: {answers}"
