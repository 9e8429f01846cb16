"""Notice e-mails carry a case number, what to do, a due date and a link: nothing else.

Reports whose every field carries a unique canary go through intake, disposition, reminders and
escalation; every e-mail that comes out (as a development `.eml` file, or through a recording
stand-in for `smtplib.SMTP`) is searched for the canaries, the reporter's code and identity.
"""

from __future__ import annotations

import email
import logging
import smtplib
import stat
from dataclasses import replace
from datetime import UTC, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from tests.conftest import Clock
from tests.functional.test_intake import CODE_RE, submit_form
from tests.functional.test_jobs import CALENDAR, MONDAY, dispose, go_to, run
from wbs import jobs, mail, notices
from wbs.context import Context
from wbs.models import Case, Notice, User
from wbs.settings import Secret

NO_ADDRESS = "auditor"  # has no e-mail address: never mailed
REPORTED_UNIT = ("bumd-air-minum", "Perumda Air Minum")


def canary_report(kind: str, tag: str) -> tuple[dict[str, str], list[str]]:
    """A report form whose every field holds its own marker; returns it and the markers."""
    text_fields = ("title", "what", "who_name", "who_agency", "who_position", "where", "when",
                   "how", "identity_name", "identity_address", "identity_occupation")
    fields = {name: f"Kenari{tag}{name.replace('_', '')}" for name in text_fields}
    fields |= {"who_nip": f"1987{tag}0001", "identity_nip": f"1987{tag}0002",
               "identity_phone": f"0812{tag}0003",
               "identity_email": f"kenari{tag}@pelapor.example"}
    markers = list(fields.values())
    return {**fields, "kind": kind, "identity_mode": "confidential",
            "reported_unit": REPORTED_UNIT[0]}, markers


def give_addresses(ctx: Context) -> dict[str, tuple[str, str]]:
    """Every demo user but one gets an address; returns address → (display name, role)."""
    with ctx.db.begin() as s:
        for user in s.scalars(select(User)):
            user.email = "" if user.username == NO_ADDRESS else f"{user.username}@pemda.example"
        return {u.email: (u.display_name, u.role) for u in s.scalars(select(User)) if u.email}


def to_next_batch(ctx: Context, clock: Clock) -> None:
    """Move the clock to the next batch time: notices a reporter caused are released then."""
    settings = ctx.settings
    clock.current = notices.next_batch(clock(), settings.timezone,
                                       settings.notice_batch_times).astimezone(UTC)


def file_canaries(client: TestClient, ctx: Context) -> tuple[list[str], list[str], list[str]]:
    """Two canary reports (a complaint and a whistleblowing report) with an evidence file.

    Returns their case numbers, the markers, and the reporter codes. The reports' notices are
    held until the next batch time (the caller moves the clock there)."""
    numbers, markers, codes = [], [], []
    for kind, tag in (("complaint", "31"), ("whistleblowing", "47")):
        form, marks = canary_report(kind, tag)
        page = submit_form(client, form, files=[(f"kenari{tag}bukti.txt",
                                                 f"Kenari{tag}berkas".encode(), "text/plain")])
        found = CODE_RE.search(page.text)
        assert page.status_code == 200 and found
        codes += [found.group(1), found.group(1).replace("-", "")]
        markers += [*marks, f"kenari{tag}bukti", f"Kenari{tag}berkas"]
        with ctx.db() as s:
            numbers.append(s.scalars(select(Case.case_number).order_by(Case.id.desc())).first())
    return [n for n in numbers if n], markers, codes


def drive_to_notices(client: TestClient, ctx: Context, demo: Any, clock: Clock,
                     send: Any) -> tuple[list[str], list[str], list[str]]:
    """Intake, disposition, reminder, overdue and escalation notices, mailed as they come."""
    numbers, markers, codes = file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    send()  # new_task to the verifier team and to APIP
    dispose(ctx, demo, clock, numbers[0], 5)
    send()  # new_task to the liaison
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 2))
    assert run(ctx).reminded == 1
    send()
    go_to(ctx, clock, CALENDAR.add_working_days(MONDAY, 5) + timedelta(days=1))
    assert run(ctx).escalated == 2
    send()
    return numbers, markers, codes


def check_message(message: EmailMessage, raw: bytes, numbers: list[str], forbidden: list[str],
                  addresses: dict[str, tuple[str, str]]) -> str:
    body = message.get_content()
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    for haystack in (body, headers, raw.decode("ascii", "replace")):
        for needle in forbidden:
            assert needle.lower() not in haystack.lower(), needle
    [number] = [n for n in numbers if n in message["Subject"]]
    assert f"Nomor kasus : {number}" in body and f"Case number : {number}" in body
    to = str(message["To"])
    name, role = addresses[to]
    assert f"Yth. {name}," in body and f"Dear {name}," in body
    # Those who read cases go to the case; leadership, which may not, to its dashboard.
    link = (f"https://wbs.test/staf/kasus/{number}"
            if role in ("verifier", "liaison", "investigator") else "https://wbs.test/staf\n")
    assert body.count(link) == 2
    assert message["Auto-Submitted"] == "auto-generated"
    return to


def test_development_eml_files_carry_no_report_data(client: TestClient, ctx: Context,
                                                    demo: Any, clock: Clock) -> None:
    addresses = give_addresses(ctx)
    sent: list[int] = []
    numbers, markers, codes = drive_to_notices(client, ctx, demo, clock,
                                               lambda: sent.append(mail.send_pending(ctx)))
    assert sum(sent) > 0
    assert mail.send_pending(ctx) == 0  # nothing twice

    directory = Path(ctx.settings.mail_dir)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = sorted(directory.glob("*.eml"))
    assert len(files) == sum(sent)
    forbidden = markers + codes + list(REPORTED_UNIT)
    recipients: dict[str, set[str]] = {}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        to = check_message(message, raw, numbers, forbidden, addresses)
        recipients.setdefault(to, set()).add(str(message["Subject"]))

    # Who was mailed: the handlers, APIP and leadership; never the verifier team about the
    # whistleblowing case, never anyone without an address.
    assert f"{NO_ADDRESS}@pemda.example" not in recipients
    verifier_mail = recipients.get("verifikator@pemda.example", set())
    assert verifier_mail and not any(numbers[1] in s for s in verifier_mail)
    assert any(numbers[1] in s for s in recipients["investigator@pemda.example"])
    assert any(numbers[1] in s for s in recipients["pimpinan@pemda.example"])
    with ctx.db() as s:
        mailed = s.scalars(select(Notice.id).where(Notice.emailed_at.is_not(None))).all()
    assert len(mailed) == len(files)


def test_the_template_has_nothing_but_the_notice_fields(ctx: Context) -> None:
    notice = mail.NoticeMail(notice_id=7, to="a@pemda.example", display_name="Ibu  Rina\nX",
                             role="liaison", case_number="WBS-2026-000042", kind="reminder",
                             due_on=MONDAY + timedelta(days=5))
    subject, body = mail.render_notice(ctx.settings, notice)
    assert subject == "WBS-2026-000042: Pengingat batas waktu / Deadline reminder"
    assert "Yth. Ibu Rina X," in body and "Dear Ibu Rina X," in body
    assert "Batas waktu : 7 Maret 2026" in body and "Due date    : 7 March 2026" in body
    assert body.count("https://wbs.test/staf/kasus/WBS-2026-000042") == 2
    # Indonesian first, English below.
    assert body.index("Yth.") < body.index("--- English ---") < body.index("Dear")
    undated = mail.render_notice(ctx.settings, replace(notice, kind="new_task", due_on=None))[1]
    assert "Batas waktu" not in undated and "Due date" not in undated
    # Roles that may not read cases are sent where they work, never to a refusal.
    for role, kind, path in (("leadership", "escalation", "/staf\n"),
                             ("custodian", "identity_request", "/staf/identitas\n")):
        body = mail.render_notice(ctx.settings, replace(notice, role=role, kind=kind))[1]
        assert "/staf/kasus" not in body and body.count(f"https://wbs.test{path}") == 2


class RecordingSMTP:
    """Stands in for smtplib.SMTP / SMTP_SSL: records the conversation, sends nothing."""

    sessions: ClassVar[list[RecordingSMTP]] = []
    offers_starttls = True
    fail_on_send = False

    def __init__(self, host: str, port: int, timeout: float | None = None,
                 context: Any = None) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.implicit_tls = context is not None
        self.tls = self.implicit_tls
        self.calls: list[str] = []
        self.sent: list[EmailMessage] = []
        type(self).sessions.append(self)

    def ehlo(self) -> None:
        self.calls.append("ehlo")

    def has_extn(self, name: str) -> bool:
        return name.lower() == "starttls" and self.offers_starttls

    def starttls(self, context: Any = None) -> None:
        assert context is not None, "STARTTLS must verify the server certificate"
        self.calls.append("starttls")
        self.tls = True

    def login(self, user: str, password: str) -> None:
        assert self.tls, "a password never crosses the network in clear"
        self.calls.append(f"login:{user}")

    def send_message(self, message: EmailMessage) -> None:
        if self.fail_on_send:
            raise smtplib.SMTPServerDisconnected("gone")
        self.calls.append("send")
        self.sent.append(message)

    def quit(self) -> None:
        self.calls.append("quit")

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def fake_smtp(monkeypatch: pytest.MonkeyPatch) -> type[RecordingSMTP]:
    class Fake(RecordingSMTP):
        sessions: ClassVar[list[RecordingSMTP]] = []

    monkeypatch.setattr(smtplib, "SMTP", Fake)
    monkeypatch.setattr(smtplib, "SMTP_SSL", Fake)
    return Fake


def use_smtp(ctx: Context, port: int, user: str = "") -> None:
    ctx.settings = replace(ctx.settings, smtp_host="smtp.pemda.example", smtp_port=port,
                           smtp_user=user, smtp_password=Secret("kata-sandi-smtp-rahasia"),
                           smtp_from="wbs@pemda.example")


def test_smtp_starttls_on_587_and_no_report_data(client: TestClient, ctx: Context, demo: Any,
                                                 clock: Clock, fake_smtp: type[RecordingSMTP],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    addresses = give_addresses(ctx)
    use_smtp(ctx, 587, user="wbs-relay")
    caplog.set_level(logging.DEBUG)
    numbers, markers, codes = drive_to_notices(client, ctx, demo, clock,
                                               lambda: mail.send_pending(ctx))
    sessions = fake_smtp.sessions
    assert sessions and all(s.calls[:4] == ["ehlo", "starttls", "ehlo", "login:wbs-relay"]
                            and s.calls[-1] == "quit" for s in sessions)
    assert all((s.host, s.port, s.timeout) == ("smtp.pemda.example", 587, mail.SMTP_TIMEOUT)
               for s in sessions)
    messages = [m for s in sessions for m in s.sent]
    assert messages
    for message in messages:
        assert message["From"] == "wbs@pemda.example"
        check_message(message, message.as_bytes(), numbers, markers + codes + list(
            REPORTED_UNIT), addresses)
    assert not Path(ctx.settings.mail_dir).exists()  # nothing written to disk
    # The body and the password are never logged.
    assert "kata-sandi-smtp-rahasia" not in caplog.text
    assert "staf/kasus" not in caplog.text and "Yth." not in caplog.text


@pytest.mark.parametrize(("port", "user", "offers", "expected"), [
    (465, "wbs-relay", False, ["login:wbs-relay", "quit"]),  # implicit TLS
    (25, "", False, ["ehlo", "quit"]),  # a local relay without TLS: no password to protect
    (25, "", True, ["ehlo", "starttls", "ehlo", "quit"]),  # opportunistic STARTTLS
])
def test_smtp_tls_modes(client: TestClient, ctx: Context, demo: Any, clock: Clock,
                        fake_smtp: type[RecordingSMTP], port: int, user: str, offers: bool,
                        expected: list[str]) -> None:
    give_addresses(ctx)
    use_smtp(ctx, port, user)
    fake_smtp.offers_starttls = offers
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    assert mail.send_pending(ctx) > 0
    [session] = fake_smtp.sessions
    assert session.implicit_tls == (port == 465)
    assert "send" in session.calls
    assert [c for c in session.calls if c != "send"] == expected


def test_a_failed_send_is_retried_not_lost(client: TestClient, ctx: Context, demo: Any,
                                           clock: Clock, fake_smtp: type[RecordingSMTP]) -> None:
    give_addresses(ctx)
    use_smtp(ctx, 587, "wbs-relay")
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    fake_smtp.fail_on_send = True
    assert mail.send_pending(ctx) == 0  # logged, not raised: the other jobs still run
    with ctx.db() as s:
        assert s.scalars(select(Notice.id).where(Notice.emailed_at.is_not(None))).all() == []
    fake_smtp.fail_on_send = False
    counts = jobs.run_all(ctx)
    assert counts["emails_sent"] > 0
    assert mail.send_pending(ctx) == 0


def test_done_notices_and_production_without_smtp_send_nothing(
        client: TestClient, ctx: Context, demo: Any, clock: Clock) -> None:
    give_addresses(ctx)
    file_canaries(client, ctx)
    to_next_batch(ctx, clock)
    ctx.settings = replace(ctx.settings, env="production")
    assert mail.send_pending(ctx) == 0  # no SMTP host in production: the inbox only
    ctx.settings = replace(ctx.settings, env="development")
    with ctx.db.begin() as s:
        s.execute(update(Notice).values(done_on=ctx.today()))
    assert mail.send_pending(ctx) == 0  # the work is done: no mail about it
    assert not Path(ctx.settings.mail_dir).exists()
