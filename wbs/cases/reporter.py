"""What a reporter can do with a code: status, mailbox, messages, evidence, identity later.

Two ways in, one set of service functions: the JSON API presents the code on every call; the web
mailbox exchanges it once for a session whose cookie holds a random token, and the database holds
the case keys re-sealed under that token. The code itself is never stored and never in a cookie.
Unknown and malformed codes are indistinguishable to the caller.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases import attachments, deadlines, sealing
from wbs.cases.intake import Identity
from wbs.cases.sanitize import CleanFile
from wbs.context import Context
from wbs.crypto import codes, keyring
from wbs.models import Case, CaseEvent, Message, ReporterSession

MAX_MESSAGE = 20_000


@dataclass(frozen=True)
class ReporterAccess:
    case_id: int
    case_number: str
    content_key: bytes = field(repr=False)
    identity_key: bytes = field(repr=False)


@dataclass(frozen=True)
class StatusView:
    case_number: str
    kind: str
    state: str
    received_on: date
    timeline: list[tuple[str, date]]
    next_deadline: date | None


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str  # "reporter", "staff" or "system"
    author_role: str | None
    kind: str
    body: str = field(repr=False)
    created_on: date = date.min


@dataclass(frozen=True)
class MailboxView:
    case_number: str
    state: str
    at_apip: bool
    identity_provided: bool
    messages: list[MessageView]
    attachments: list[attachments.AttachmentMeta]
    disclosures: list[Any]


def _find(session: Session, ctx: Context, raw_code: str) -> tuple[Case, str] | None:
    code = codes.normalize_code(raw_code)
    if code is None:
        return None
    case = session.scalars(select(Case).where(
        Case.lookup_hash == codes.lookup_hash(ctx.keys.pepper, code))).first()
    return (case, code) if case is not None else None


def status(ctx: Context, raw_code: str) -> StatusView | None:
    with ctx.db.begin() as session:
        found = _find(session, ctx, raw_code)
        if found is None:
            return None
        case = found[0]
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.id)).all()
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="case.status_view", case_number=case.case_number, reporter=True,
                     now=ctx.now())
        return StatusView(case_number=case.case_number, kind=case.kind, state=case.state,
                          received_on=case.received_on,
                          timeline=[(e.state, e.on) for e in events],
                          next_deadline=deadlines.next_due(session, case))


def access_by_code(ctx: Context, raw_code: str) -> ReporterAccess | None:
    with ctx.db.begin() as session:
        found = _find(session, ctx, raw_code)
        if found is None:
            return None
        case, code = found
        key = codes.reporter_key(code, case.reporter_salt)
        return ReporterAccess(
            case_id=case.id, case_number=case.case_number,
            content_key=sealing.reporter_unwrap(session, case, "content", key),
            identity_key=sealing.reporter_unwrap(session, case, "identity", key))


def open_session(ctx: Context, raw_code: str) -> str | None:
    """Exchange a code for a mailbox session; returns the cookie token (hex) or None."""
    access = access_by_code(ctx, raw_code)
    if access is None:
        return None
    token = secrets.token_bytes(32)
    with ctx.db.begin() as session:
        now = ctx.now()
        session.execute(delete(ReporterSession).where(ReporterSession.expires_at < now))
        session.add(ReporterSession(
            token_hash=keyring.token_hash(token), case_id=access.case_id,
            expires_at=now + timedelta(seconds=ctx.settings.reporter_session_idle_seconds),
            case_key_sealed=keyring.seal_for_session(access.content_key, token, "reporter-k"),
            identity_key_sealed=keyring.seal_for_session(access.identity_key, token,
                                                         "reporter-i")))
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="mailbox.open", case_number=access.case_number, reporter=True,
                     now=now)
    return token.hex()


def _aware(value: datetime, now: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)


def access_by_session(ctx: Context, cookie: str | None) -> ReporterAccess | None:
    try:
        token = bytes.fromhex(cookie or "")
    except ValueError:
        return None
    if len(token) != 32:
        return None
    now = ctx.now()
    with ctx.db.begin() as session:
        row = session.scalars(select(ReporterSession).where(
            ReporterSession.token_hash == keyring.token_hash(token))).first()
        if row is None:
            return None
        if _aware(row.expires_at, now) <= now:
            session.delete(row)
            return None
        row.expires_at = now + timedelta(seconds=ctx.settings.reporter_session_idle_seconds)
        case = session.get(Case, row.case_id)
        if case is None:
            return None
        return ReporterAccess(
            case_id=case.id, case_number=case.case_number,
            content_key=keyring.open_for_session(row.case_key_sealed, token, "reporter-k"),
            identity_key=keyring.open_for_session(row.identity_key_sealed, token, "reporter-i"))


def close_session(ctx: Context, cookie: str | None) -> None:
    try:
        token = bytes.fromhex(cookie or "")
    except ValueError:
        return
    with ctx.db.begin() as session:
        session.execute(delete(ReporterSession).where(
            ReporterSession.token_hash == keyring.token_hash(token)))


def _case(session: Session, access: ReporterAccess) -> Case:
    case = session.get(Case, access.case_id)
    if case is None:
        raise LookupError("case vanished")
    return case


def read_messages(session: Session, case: Case, key: bytes) -> list[MessageView]:
    rows = session.scalars(select(Message).where(Message.case_id == case.id)
                           .order_by(Message.id)).all()
    return [MessageView(id=m.id, author=m.author_kind, author_role=m.author_role, kind=m.kind,
                        body=sealing.open_text(key, case, f"message:{m.id}", m.body_sealed),
                        created_on=m.created_on) for m in rows]


def mailbox(ctx: Context, access: ReporterAccess) -> MailboxView:
    from wbs.cases import identity  # identity builds on the staff service, which imports us

    with ctx.db.begin() as session:
        case = _case(session, access)
        view = MailboxView(case_number=case.case_number, state=case.state,
                           at_apip=case.at_apip, identity_provided=case.identity_provided,
                           messages=read_messages(session, case, access.content_key),
                           attachments=attachments.list_meta(session, case, access.content_key),
                           disclosures=identity.disclosures(session, case))
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="mailbox.read", case_number=case.case_number, reporter=True,
                     now=ctx.now())
        return view


def add_message(session: Session, case: Case, key: bytes, body: str, *, author_kind: str,
                author_role: str | None, author_user_id: int | None, today: date,
                kind: str = "message") -> Message:
    message = Message(case_id=case.id, author_kind=author_kind, author_role=author_role,
                      author_user_id=author_user_id, kind=kind, body_sealed=b"",
                      created_on=today)
    session.add(message)
    session.flush()
    message.body_sealed = sealing.seal_text(key, case, f"message:{message.id}", body)
    return message


class EmptyMessage(ValueError):
    pass


def post_message(ctx: Context, access: ReporterAccess, body: str) -> int:
    text = body.strip()
    if not text or len(text) > MAX_MESSAGE:
        raise EmptyMessage
    with ctx.db.begin() as session:
        case = _case(session, access)
        message = add_message(session, case, access.content_key, text, author_kind="reporter",
                              author_role=None, author_user_id=None, today=ctx.today())
        from wbs.cases.routing import reporter_supplied_info  # routing builds on this module

        reporter_supplied_info(session, ctx, case)
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="message.reporter", case_number=case.case_number, reporter=True,
                     now=ctx.now())
        return message.id


def add_identity(ctx: Context, access: ReporterAccess, identity: Identity) -> None:
    """Seal (or replace) the reporter's identity under I: still only custodians can unwrap it."""
    from dataclasses import asdict

    with ctx.db.begin() as session:
        case = _case(session, access)
        case.identity_sealed = sealing.seal_json(access.identity_key, case, "identity",
                                                 asdict(identity))
        case.identity_provided = True
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="identity.add", case_number=case.case_number, reporter=True,
                     now=ctx.now())


def add_attachments(ctx: Context, access: ReporterAccess,
                    files: list[tuple[str, CleanFile]]) -> list[int]:
    with ctx.db.begin() as session:
        case = _case(session, access)
        ids = [attachments.store(session, case, access.content_key, name, clean,
                                 uploader="reporter", today=ctx.today()) for name, clean in files]
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="attachment.reporter_add", case_number=case.case_number,
                     details={"count": len(ids)}, reporter=True, now=ctx.now())
        return ids


def download(ctx: Context, access: ReporterAccess,
             attachment_id: int) -> tuple[attachments.AttachmentMeta, list[bytes]] | None:
    with ctx.db.begin() as session:
        case = _case(session, access)
        opened = attachments.open_file(session, case, access.content_key, attachment_id)
        if opened is None:
            return None
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="attachment.download", case_number=case.case_number,
                     details={"attachment": attachment_id}, reporter=True, now=ctx.now())
        meta, chunks = opened
        return meta, list(chunks)


