"""Notice e-mails when delivery goes partly wrong: a recipient the server refuses does not hold
back the others' mail, a server that hangs up at QUIT loses nothing already sent, and two job
runs that overlap send each notice once."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock
from tests.functional.test_notices import (
    RecordingSMTP,
    file_canaries,
    give_addresses,
    to_next_batch,
    use_smtp,
)
from wbs import mail
from wbs.context import Context
from wbs.models import Notice, User

REFUSED = "verifikator@pemda.example"


def emailed(ctx: Context) -> dict[str, int]:
    """Address → notices e-mailed to it."""
    with ctx.db() as s:
        rows = s.execute(select(User.email, Notice.emailed_at).join(
            User, User.id == Notice.user_id)).all()
    counts: dict[str, int] = {}
    for address, at in rows:
        counts.setdefault(address, 0)
        counts[address] += at is not None
    return counts


@pytest.fixture
def refusing_smtp(monkeypatch: pytest.MonkeyPatch) -> type[RecordingSMTP]:
    class Refusing(RecordingSMTP):
        sessions: ClassVar[list[RecordingSMTP]] = []
        refuse: ClassVar[set[str]] = {REFUSED}
        quit_fails = False

        def send_message(self, message: EmailMessage) -> None:
            to = str(message["To"])
            if to in self.refuse:
                raise smtplib.SMTPRecipientsRefused({to: (550, b"mailbox unavailable")})
            super().send_message(message)

        def quit(self) -> None:
            if self.quit_fails:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            super().quit()

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    return Refusing


def test_a_refused_recipient_is_retried_later_and_the_others_still_get_their_mail(
        client: TestClient, ctx: Context, demo: Any, clock: Clock,
        refusing_smtp: type[RecordingSMTP], caplog: pytest.LogCaptureFixture) -> None:
    give_addresses(ctx)
    use_smtp(ctx, 587, "wbs-relay")
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    caplog.set_level(logging.INFO, logger="wbs")
    sent = mail.send_pending(ctx)
    counts = emailed(ctx)
    assert counts[REFUSED] == 0  # given back, not marked as sent
    others = sum(n for address, n in counts.items() if address != REFUSED)
    assert sent == others > 0
    delivered = [str(m["To"]) for s in refusing_smtp.sessions for m in s.sent]
    assert REFUSED not in delivered and len(delivered) == sent
    failures = [r for r in caplog.records if r.getMessage() == "mail.failed"]
    assert failures and all(r.levelname == "WARNING" for r in failures)
    assert all(r.fields["exception"] == "SMTPRecipientsRefused"  # type: ignore[attr-defined]
               for r in failures)
    assert REFUSED not in caplog.text and "mailbox unavailable" not in caplog.text

    refusing_smtp.refuse = set()  # type: ignore[attr-defined]  # the mailbox is back
    assert mail.send_pending(ctx) == len(failures)
    assert emailed(ctx)[REFUSED] == len(failures)


def test_a_server_that_hangs_up_at_quit_loses_nothing_already_sent(
        client: TestClient, ctx: Context, demo: Any, clock: Clock,
        refusing_smtp: type[RecordingSMTP]) -> None:
    give_addresses(ctx)
    use_smtp(ctx, 587, "wbs-relay")
    refusing_smtp.refuse = set()  # type: ignore[attr-defined]
    refusing_smtp.quit_fails = True  # type: ignore[attr-defined]
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    sent = mail.send_pending(ctx)
    assert sent > 0 and sum(emailed(ctx).values()) == sent
    [session] = refusing_smtp.sessions
    assert session.calls[-1] == "close"  # the socket is closed all the same
    assert mail.send_pending(ctx) == 0  # and nothing is sent twice


def test_overlapping_runs_send_each_notice_once(
        client: TestClient, ctx: Context, demo: Any, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    give_addresses(ctx)
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    pending = mail._pending_ids
    other_run: list[int] = []

    def listed_then_overtaken(context: Context) -> list[int]:
        ids = pending(context)
        # Another node's run starts after this one listed the notices, and sends them all.
        monkeypatch.setattr(mail, "_pending_ids", pending)
        other_run.append(mail.send_pending(context))
        return ids

    monkeypatch.setattr(mail, "_pending_ids", listed_then_overtaken)
    assert mail.send_pending(ctx) == 0  # every claim found the notice already e-mailed
    files = sorted(p.name for p in ctx.settings.mail_dir.iterdir())
    assert other_run[0] == len(files) == sum(emailed(ctx).values()) > 0
