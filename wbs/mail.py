"""Notice e-mails to staff (DESIGN §5): a case number, what to do, by when, and a link.

An e-mail leaves the portal's protection (mail servers, forwarding, phones), so it carries only
what a notice row holds: never a title, content, reporter data or the names of reported units.
`NoticeMail` is everything the template is given; nothing else can reach it. The body is never
logged, only notice ids and counts. The link goes to the case page, or, for a role that may not
read cases (leadership, custodians), to the page where that role works.

With `WBS_SMTP_HOST` set, mail goes over SMTP: STARTTLS on port 587 (and whenever credentials
are set or the server offers it), implicit TLS on 465. In development without a host, each
message is written as an `.eml` file into `mail_dir` (directory 0700, files 0600). A production
instance without a host sends nothing: the notices stay in the in-app inbox.

A notice caused by a reporter waits for its batch time (`notices.py`), and its e-mail carries
that time as its `Date` and in `emailed_at`, whenever the jobs actually send it: a mail dated
within minutes of a reporter's act would tell its reader when the reporter acted. The
`Message-ID` is random (the standard library's carries the sending time).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import ColumnElement, select

from wbs import logs, notices
from wbs.access import Permission, role_has
from wbs.context import Context
from wbs.models import Case, Notice, User
from wbs.settings import Settings

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "email"
SMTP_TIMEOUT = 30

# Per notice kind: (subject id, subject en, what to do id, what to do en).
ACTIONS: Mapping[str, tuple[str, str, str, str]] = MappingProxyType({
    "new_task": ("Tugas baru", "New task",
                 "Ada tugas baru untuk unit Anda pada kasus ini: mohon ditindaklanjuti.",
                 "There is a new task for your unit on this case: please act on it."),
    "returned": ("Disposisi dikembalikan", "Disposition returned",
                 "Disposisi kasus ini dikembalikan oleh unit penerima: mohon verifikasi dan "
                 "disposisikan ulang.",
                 "The disposition of this case was returned by the receiving unit: please "
                 "verify and route it again."),
    "reminder": ("Pengingat batas waktu", "Deadline reminder",
                 "Pengingat: batas waktu tindak lanjut kasus ini sudah dekat.",
                 "Reminder: the deadline for acting on this case is near."),
    "overdue": ("Melewati batas waktu", "Overdue",
                "Kasus ini telah melewati batas waktu: mohon segera ditindaklanjuti.",
                "This case is past its deadline: please act on it now."),
    "escalation": ("Eskalasi", "Escalation",
                   "Eskalasi: kasus ini telah melewati batas waktu di unit yang menanganinya; "
                   "mohon dipantau.",
                   "Escalation: this case is past its deadline at the unit handling it; please "
                   "follow it up."),
    "info_supplied": ("Data dilengkapi", "Data supplied",
                      "Pelapor telah melengkapi data kasus ini: mohon lanjutkan verifikasi.",
                      "The reporter supplied the missing data: please continue the "
                      "verification."),
    "objection": ("Keberatan pelapor", "Reporter's objection",
                  "Pelapor mengajukan keberatan atas jawaban: mohon tinjau kembali kasus ini.",
                  "The reporter objected to the answer: please review the case again."),
    "reporter_message": ("Pesan pelapor", "Reporter's message",
                         "Pelapor mengirim pesan pada kasus ini: mohon dibaca.",
                         "The reporter sent a message on this case: please read it."),
    "response": ("Tanggapan pelapor atas jawaban", "Reporter's reply to the answer",
                 "Pelapor menanggapi jawaban: mohon jelaskan kembali dengan data.",
                 "The reporter replied to the answer: please explain again, with data."),
    "identity_request": ("Permintaan identitas", "Identity request",
                         "Ada permintaan pembukaan identitas pelapor yang menunggu keputusan.",
                         "A request to disclose the reporter's identity awaits a decision."),
})
_FALLBACK = ("Pembaruan kasus", "Case update", "Ada pembaruan pada kasus ini.",
             "There is an update on this case.")
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


@dataclass(frozen=True)
class NoticeMail:
    """All that a notice e-mail may say. Adding a field here is a security decision."""

    notice_id: int
    to: str = field(repr=False)
    display_name: str
    role: str
    case_number: str
    kind: str
    due_on: date | None


@cache
def _environment() -> Environment:
    # Plain text, not HTML: escaping would put entities into the mail. StrictUndefined makes
    # a template that names anything outside NoticeMail fail instead of printing nothing.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,  # noqa: S701 - text/plain output, nothing is rendered as HTML
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)


def _day(d: date | None, months: tuple[str, ...]) -> str:
    return f"{d.day} {months[d.month - 1]} {d.year}" if d else ""


def link_for(settings: Settings, mail: NoticeMail) -> str:
    """Where the recipient acts: the case page for those who may read cases; otherwise the
    page they work from, so that a click on the link never ends in a refusal (which would
    also be recorded as a denied access)."""
    base = settings.base_url.rstrip("/")
    if role_has(mail.role, Permission.CASE_READ):
        return f"{base}/staf/kasus/{quote(mail.case_number, safe='')}"
    if mail.kind == "identity_request" and role_has(mail.role, Permission.CASE_IDENTITY_DECIDE):
        return f"{base}/staf/identitas"
    return f"{base}/staf"  # the dashboard lists the notice under its case number


def render_notice(settings: Settings, mail: NoticeMail) -> tuple[str, str]:
    """The subject and plain-text body (Indonesian, then English) of one notice e-mail."""
    subject_id, subject_en, action_id, action_en = ACTIONS.get(mail.kind, _FALLBACK)
    body = _environment().get_template("notice.txt").render(
        display_name=" ".join(mail.display_name.split()), case_number=mail.case_number,
        action_id=action_id, action_en=action_en, due_id=_day(mail.due_on, MONTHS_ID),
        due_en=_day(mail.due_on, MONTHS_EN), link=link_for(settings, mail))
    return f"{mail.case_number}: {subject_id} / {subject_en}", body


def build_message(settings: Settings, mail: NoticeMail, dated: datetime) -> EmailMessage:
    """The e-mail of one notice, dated `dated` (the batch time of a reporter-caused notice)."""
    subject, body = render_notice(settings, mail)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Subject"] = subject
    message["Date"] = format_datetime(dated.astimezone(UTC))
    domain = urlsplit(settings.base_url).hostname or "wbs"
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{domain}>"
    # RFC 3834: tells mail servers and autoresponders not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _deliverable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Notice.emailed_at.is_(None), Notice.done_on.is_(None), notices.released(now),
            User.active.is_(True), User.email.contains("@"))


def _pending_ids(ctx: Context) -> list[int]:
    with ctx.db.begin() as session:
        return list(session.scalars(
            select(Notice.id).join(User, User.id == Notice.user_id)
            .where(*_deliverable(ctx.now())).order_by(Notice.id)))


def _claim(ctx: Context, notice_id: int) -> tuple[NoticeMail, datetime] | None:
    """Mark one notice as e-mailed and return what to send and its date, or None if someone
    else did.

    The claim commits before the mail is sent, so no database lock is held during network I/O
    (on SQLite that lock would stop every writer); a failed send gives the claim back.
    """
    with ctx.db.begin() as session:
        row = session.execute(
            select(Notice, User, Case.case_number)
            .join(User, User.id == Notice.user_id).join(Case, Case.id == Notice.case_id)
            .where(Notice.id == notice_id, *_deliverable(ctx.now()))
            .with_for_update(of=Notice)).first()
        if row is None:
            return None
        notice, user, case_number = row
        dated = ctx.now()
        if notice.batch_at is not None:  # SQLite hands back naive UTC
            held = notice.batch_at
            dated = held if held.tzinfo else held.replace(tzinfo=UTC)
        notice.emailed_at = dated
        return NoticeMail(notice_id=notice.id, to=user.email.strip(),
                          display_name=user.display_name, role=user.role,
                          case_number=case_number,
                          kind=notice.kind, due_on=notice.due_on), dated


def _release(ctx: Context, notice_id: int) -> None:
    with ctx.db.begin() as session:
        notice = session.get(Notice, notice_id)
        if notice is not None:
            notice.emailed_at = None


Deliver = Callable[[NoticeMail, EmailMessage], None]


@contextmanager
def _smtp(settings: Settings) -> Iterator[Deliver]:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_port == 465:
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        if settings.smtp_port != 465:
            client.ehlo()
            # A password never crosses the network in clear: with credentials, STARTTLS is
            # required (smtplib raises if the server does not offer it).
            if (settings.smtp_port == 587 or settings.smtp_user
                    or client.has_extn("starttls")):
                client.starttls(context=context)
                client.ehlo()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password.get())

        def deliver(_mail: NoticeMail, message: EmailMessage) -> None:
            client.send_message(message)

        yield deliver
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


@contextmanager
def _files(directory: Path) -> Iterator[Deliver]:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)

    def deliver(mail: NoticeMail, message: EmailMessage) -> None:
        path = directory / f"notice-{mail.notice_id:08d}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # an existing file keeps its mode otherwise
            fh.write(message.as_bytes())

    yield deliver


def send_pending(ctx: Context) -> int:
    """E-mail every notice not yet e-mailed (and still open) to staff with an address.

    Returns how many were sent. A failed message is given back for the next run; a failure of
    the connection itself ends this run (logged) without raising, so the other jobs still run.
    """
    settings = ctx.settings
    if not settings.smtp_host and not settings.development:
        return 0
    ids = _pending_ids(ctx)
    if not ids:
        return 0
    transport = _smtp(settings) if settings.smtp_host else _files(settings.mail_dir)
    sent = 0
    try:
        with transport as deliver:
            for notice_id in ids:
                claimed = _claim(ctx, notice_id)
                if claimed is None:
                    continue
                mail, dated = claimed
                try:
                    deliver(mail, build_message(settings, mail, dated))
                except Exception as exc:
                    _release(ctx, notice_id)
                    logs.event("mail.failed", logging.WARNING, notice=notice_id,
                               **logs.safe_exception_fields(exc))
                    if isinstance(exc, smtplib.SMTPRecipientsRefused | ValueError):
                        continue  # this address only; the others may still go
                    raise
                sent += 1
    except (smtplib.SMTPException, OSError) as exc:
        logs.event("mail.transport_failed", logging.ERROR, **logs.safe_exception_fields(exc))
    if sent:
        logs.event("mail.sent", count=sent)
    return sent
