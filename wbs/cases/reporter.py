"""What a reporter can do with a code: status, mailbox, messages, evidence, identity later.

Two ways in, one set of service functions: the JSON API presents the code on every call; the web
mailbox exchanges it once for a session whose cookie holds a random token, and the database holds
the case keys re-sealed under that token. The code itself is never stored and never in a cookie.
Unknown and malformed codes are indistinguishable to the caller.

The session row keeps no time of day (DESIGN §1.4), only the day it was opened, for purging. The
idle expiry travels in the cookie, `<token hex>.<expiry unix seconds>.<mac>`, with
mac = HMAC-SHA256(instance key "reporter-session-cookie", token ‖ expiry as 8 bytes big-endian),
and every use of the session hands back a cookie with a fresh expiry (sliding idle timeout).

A closed, archived or forwarded case takes no more messages or evidence from the reporter
(`CaseClosed`); the identity can still be added, since a reward (PP 43/2018) can come later.

A reporter's acts are audited through the pending table (`wbs.audit.pending`: appended once the
day has ended, in random order); reads (status, mailbox, download) are counted per day, not
logged (DESIGN §4). A code issued through staff intake was seen by the staff member who typed
the report in: it shows the status, and the only other thing it can do is be replaced by the
reporter (`replace_code`), which kills it. Until then every other use raises `CodeMustChange`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases import attachments, deadlines, sealing
from wbs.cases.intake import Identity
from wbs.cases.sanitize import CleanFile
from wbs.cases.sla import DeadlineRule
from wbs.cases.workflow import TERMINAL_STATES
from wbs.context import Context
from wbs.crypto import aead, codes, keyring
from wbs.models import Case, CaseEvent, CaseKeyWrap, Message, ReporterSession
from wbs.reports import marks

MAX_MESSAGE = 20_000
COOKIE_KEY_LABEL = "reporter-session-cookie"
_TOKEN_SIZE = 32
# token (64 lowercase hex) . expiry (unix seconds) . HMAC-SHA256 (43 base64url characters)
_COOKIE = re.compile(r"([0-9a-f]{64})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})")
_MAX_COOKIE = 200
_CLOSED_STATES = frozenset(state.value for state in TERMINAL_STATES)


class CaseClosed(Exception):
    """The case is closed, archived or forwarded: no more messages or evidence from the reporter."""


class CodeMustChange(Exception):
    """The code was issued through staff intake: the reporter must replace it before using it."""


@dataclass(frozen=True)
class ReporterAccess:
    """What a code grants. It carries the code's wrapping key, not the case keys: each act
    unwraps the keys inside its own transaction, so a case re-keyed by staff while a mailbox
    session is open is written to under the new epoch's key, never a stale one (issue 13)."""

    case_id: int
    case_number: str
    secret: bytes = field(repr=False)


def reporter_keys(session: Session, case: Case, access: ReporterAccess) -> sealing.EpochKeys:
    """The content key of every epoch, unwrapped with the reporter's code-derived keys."""
    return sealing.reporter_content_keys(session, case, access.secret)


@dataclass(frozen=True)
class StatusView:
    case_number: str
    kind: str
    state: str
    received_on: date
    timeline: list[tuple[str, date]]
    next_deadline: date | None
    code_must_change: bool = False  # issued through staff intake, not yet replaced
    profile_kind: str | None = None  # the regulation's kind chosen at intake (issue 10)


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str  # "reporter", "staff" or "system"
    author_role: str | None
    kind: str
    body: str | None = field(repr=False)  # None: sealed under an epoch the reader lacks
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
    closed: bool = False  # no more messages or evidence (the identity can still be added)
    status: StatusView | None = None  # shown on top of the mailbox (one place for the code)
    kind: str = ""
    # The rules in force and the reporter's open windows as stored, so that every limit the
    # mailbox states is the configured one (issue 10), never a fixed "10 working days".
    limits: Mapping[str, DeadlineRule] = field(default_factory=dict)
    window_due: Mapping[str, date] = field(default_factory=dict)

    @property
    def answer(self) -> MessageView | None:
        """The latest answer: shown above the reporter's choice to accept or object."""
        return next((m for m in reversed(self.messages) if m.kind == "answer"), None)

    @property
    def new_from_officials(self) -> int:
        """Officials' messages since the reporter last wrote.

        The database keeps no trace of when a reporter read the mailbox (reads are counted,
        never recorded), so "new" means "not yet answered by you", which needs no such trace.
        """
        count = 0
        for m in reversed(self.messages):
            if m.author == "reporter":
                break
            count += m.author == "staff"
        return count


def _find(session: Session, ctx: Context, raw_code: str) -> tuple[Case, str] | None:
    code = codes.normalize_code(raw_code)
    if code is None:
        return None
    case = session.scalars(select(Case).where(
        Case.lookup_hash == codes.lookup_hash(ctx.keys.pepper, code))).first()
    return (case, code) if case is not None else None


def status(ctx: Context, raw_code: str) -> StatusView | None:
    """The case's status: a read, so nothing is written (it is counted in memory)."""
    with ctx.read() as session:
        found = _find(session, ctx, raw_code)
        if found is None:
            return None
        view = _status_view(session, found[0])
    ctx.reporter_reads.add(ctx.today(), "status")
    return view


def _status_view(session: Session, case: Case) -> StatusView:
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id)).all()
    return StatusView(case_number=case.case_number, kind=case.kind, state=case.state,
                      received_on=case.received_on, timeline=[(e.state, e.on) for e in events],
                      next_deadline=deadlines.next_due(session, case),
                      code_must_change=case.code_needs_replacing,
                      profile_kind=case.profile_kind)


def _access(session: Session, case: Case, code: str) -> ReporterAccess:
    if case.code_needs_replacing:
        raise CodeMustChange
    key = codes.reporter_key(code, case.reporter_salt)
    sealing.reporter_unwrap(session, case, "content", key)  # a wrong key fails here, not later
    return ReporterAccess(case_id=case.id, case_number=case.case_number, secret=key)


def access_by_code(ctx: Context, raw_code: str) -> ReporterAccess | None:
    """The access a code grants; None if unknown; CodeMustChange if it must be replaced."""
    with ctx.read() as session:
        found = _find(session, ctx, raw_code)
        return None if found is None else _access(session, *found)


def replace_code(ctx: Context, raw_code: str) -> str | None:
    """Replace a code issued through staff intake; return the new one (formatted), shown once.

    The old code dies here: the lookup hash, the salt and the reporter's key wraps are all
    replaced, in one transaction with the (pending) audit record. None if the code is unknown
    or was already replaced (the same answer as for any unknown code).
    """
    new_code = codes.generate_code()
    with ctx.db.begin() as session:
        found = _find(session, ctx, raw_code)
        if found is None:
            return None
        case, old_code = found
        case = session.scalars(select(Case).where(Case.id == case.id).with_for_update()
                               .execution_options(populate_existing=True)).one()
        if not case.code_needs_replacing:
            return None
        old_key = codes.reporter_key(old_code, case.reporter_salt)
        content_keys = sealing.reporter_content_keys(session, case, old_key)
        identity_key = sealing.reporter_unwrap(session, case, "identity", old_key)
        session.execute(delete(CaseKeyWrap).where(
            CaseKeyWrap.case_id == case.id, CaseKeyWrap.recipient_kind == "reporter"))
        case.reporter_salt = codes.new_case_salt()
        case.lookup_hash = codes.lookup_hash(ctx.keys.pepper, new_code)
        case.code_needs_replacing = False
        new_key = codes.reporter_key(new_code, case.reporter_salt)
        sealing.wrap_to_reporter(session, case, "content", new_key, content_keys[0])
        sealing.wrap_to_reporter(session, case, "identity", new_key, identity_key)
        # The public key follows the code; later epochs are wrapped again to the new one.
        case.reporter_public_key = sealing.reporter_keypair(case, new_key).public
        for epoch, key in sorted(content_keys.items()):
            if epoch:
                sealing.wrap_to_reporter_public(session, case, "content",
                                                case.reporter_public_key, key, epoch)
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="code.replace", case_number=case.case_number, reporter=True,
                     now=ctx.now())
    return codes.format_code(new_code)


def _cookie_mac(ctx: Context, token: bytes, expiry: int) -> str:
    mac = hmac.new(ctx.keys.derived(COOKIE_KEY_LABEL), token + expiry.to_bytes(8, "big"),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _issue_cookie(ctx: Context, token: bytes, now: datetime) -> str:
    expiry = int(now.timestamp()) + ctx.settings.reporter_session_idle_seconds
    return f"{token.hex()}.{expiry}.{_cookie_mac(ctx, token, expiry)}"


def _cookie_token(cookie: str | None) -> tuple[bytes, int, str] | None:
    """Split a well-formed cookie into (token, expiry, mac); nothing is verified yet."""
    if not cookie or len(cookie) > _MAX_COOKIE:
        return None
    match = _COOKIE.fullmatch(cookie)
    if match is None:
        return None
    return bytes.fromhex(match.group(1)), int(match.group(2)), match.group(3)


def _oldest_kept(ctx: Context) -> date:
    """Rows opened before yesterday are purged: no session outlives that, however active."""
    return ctx.today() - timedelta(days=1)


def open_session(ctx: Context, raw_code: str) -> str | None:
    """Exchange a code for a mailbox session; returns the cookie value or None.

    The row holds the token's hash, the case keys re-sealed under the token and the day: no
    time of day. Rows opened before yesterday are purged here, without a job. CodeMustChange
    for a code issued through staff intake.
    """
    access = access_by_code(ctx, raw_code)
    if access is None:
        return None
    token = secrets.token_bytes(_TOKEN_SIZE)
    now = ctx.now()
    with ctx.db.begin() as session:
        session.execute(delete(ReporterSession).where(
            ReporterSession.created_on < _oldest_kept(ctx)))
        # A case made before re-keying gets the reporter's public key now, the code being known.
        case = session.get(Case, access.case_id)
        if case is not None and case.reporter_public_key is None:
            sealing.ensure_reporter_public_key(case, access.secret)
        # The row keeps the code's wrapping key (which unwraps every epoch's case key) sealed
        # under the token; the identity column is no longer used (issue 13).
        session.add(ReporterSession(
            token_hash=keyring.token_hash(token), case_id=access.case_id,
            created_on=ctx.today(),
            case_key_sealed=keyring.seal_for_session(access.secret, token, "reporter-code-key"),
            identity_key_sealed=b""))
    # Opening the mailbox reads the case; it changes nothing of it (DESIGN §4: counted).
    ctx.reporter_reads.add(ctx.today(), "mailbox_open")
    return _issue_cookie(ctx, token, now)


def access_by_session(ctx: Context, cookie: str | None) -> tuple[ReporterAccess, str] | None:
    """The access a mailbox cookie grants, and the cookie to send back (expiry refreshed).

    None for a malformed cookie, a wrong MAC (checked in constant time), a passed expiry (the row
    is deleted then), an unknown token or a row opened before yesterday. Nothing is written on
    success: the database never learns when the mailbox was last used.
    """
    parts = _cookie_token(cookie)
    if parts is None:
        return None
    token, expiry, mac = parts
    if not hmac.compare_digest(_cookie_mac(ctx, token, expiry).encode(), mac.encode()):
        return None
    now = ctx.now()
    with ctx.db.begin() as session:
        row = session.scalars(select(ReporterSession).where(
            ReporterSession.token_hash == keyring.token_hash(token))).first()
        if row is None:
            return None
        if expiry <= now.timestamp() or row.created_on < _oldest_kept(ctx):
            session.delete(row)
            return None
        case = session.get(Case, row.case_id)
        if case is None:
            return None
        try:
            secret = keyring.open_for_session(row.case_key_sealed, token, "reporter-code-key")
        except aead.DecryptionError:  # opened before re-keying, it held case keys: sign in again
            session.delete(row)
            return None
        access = ReporterAccess(case_id=case.id, case_number=case.case_number, secret=secret)
    return access, _issue_cookie(ctx, token, now)


def close_session(ctx: Context, cookie: str | None) -> None:
    """Delete the session row; an expired or otherwise stale cookie still ends its row."""
    parts = _cookie_token(cookie)
    if parts is None:
        return
    with ctx.db.begin() as session:
        session.execute(delete(ReporterSession).where(
            ReporterSession.token_hash == keyring.token_hash(parts[0])))


def _case(session: Session, access: ReporterAccess) -> Case:
    case = session.get(Case, access.case_id)
    if case is None:
        raise LookupError("case vanished")
    return case


def _open_case(session: Session, access: ReporterAccess) -> Case:
    """The case, locked against a concurrent close, or CaseClosed if it takes no more input."""
    case = session.scalars(select(Case).where(Case.id == access.case_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if case is None:
        raise LookupError("case vanished")
    if case.state in _CLOSED_STATES:
        raise CaseClosed(case.state)
    return case


def accepts_input(ctx: Context, access: ReporterAccess) -> bool:
    """Whether the case still takes messages and evidence (checked again when they are added)."""
    with ctx.db() as session:
        return _case(session, access).state not in _CLOSED_STATES


def read_messages(session: Session, case: Case, keys: sealing.EpochKeys) -> list[MessageView]:
    """Each message opened with its epoch's key; one of an epoch the reader lacks is shown as
    not available (body None), never an error."""
    rows = session.scalars(select(Message).where(Message.case_id == case.id)
                           .order_by(Message.id)).all()
    return [MessageView(id=m.id, author=m.author_kind, author_role=m.author_role, kind=m.kind,
                        body=(sealing.open_text(keys[m.key_epoch], case, f"message:{m.id}",
                                                m.body_sealed)
                              if m.key_epoch in keys else None),
                        created_on=m.created_on) for m in rows]


def mailbox(ctx: Context, access: ReporterAccess) -> MailboxView:
    from wbs.cases import identity  # identity builds on the staff service, which imports us

    with ctx.read() as session:
        case = _case(session, access)
        windows = {row.kind: row.due_on for row in deadlines.open_deadlines(session, case)
                   if row.task_id is None and row.kind in ("missing_data", "objection")}
        keys = reporter_keys(session, case, access)
        view = MailboxView(case_number=case.case_number, state=case.state,
                           at_apip=case.at_apip, identity_provided=case.identity_provided,
                           messages=read_messages(session, case, keys),
                           attachments=attachments.list_meta(session, case, keys),
                           disclosures=identity.disclosures(session, case),
                           closed=case.state in _CLOSED_STATES,
                           status=_status_view(session, case), kind=case.kind,
                           limits=deadlines.load_rules(session), window_due=windows)
    ctx.reporter_reads.add(ctx.today(), "mailbox_view")
    return view


def add_message(session: Session, case: Case, keys: sealing.EpochKeys, body: str, *,
                author_kind: str, author_role: str | None, author_user_id: int | None,
                today: date, kind: str = "message") -> Message:
    key = sealing.current(keys, case)
    message = Message(case_id=case.id, author_kind=author_kind, author_role=author_role,
                      author_user_id=author_user_id, kind=kind, body_sealed=b"",
                      created_on=today, key_epoch=case.key_epoch)
    session.add(message)
    if author_kind == "staff":
        marks.mark_response(session, case, today)
    session.flush()
    message.body_sealed = sealing.seal_text(key, case, f"message:{message.id}", body)
    return message


class EmptyMessage(ValueError):
    pass


def post_message(ctx: Context, access: ReporterAccess, body: str) -> int:
    """Add a reporter message; EmptyMessage, or CaseClosed once the case is terminal."""
    text = body.strip()
    if not text or len(text) > MAX_MESSAGE:
        raise EmptyMessage
    with ctx.db.begin() as session:
        case = _open_case(session, access)
        # reporter_messages builds on routing, which builds on this module.
        from wbs.cases import reporter_messages

        message = add_message(session, case, reporter_keys(session, case, access), text,
                              author_kind="reporter",
                              author_role=None, author_user_id=None, today=ctx.today(),
                              kind=reporter_messages.kind_of_message(case))
        reporter_messages.after_message(session, ctx, case)
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="message.reporter", case_number=case.case_number, reporter=True,
                     now=ctx.now())
        return message.id


def add_identity(ctx: Context, access: ReporterAccess, identity: Identity) -> None:
    """Seal (or replace) the reporter's identity under I: still only custodians can unwrap it."""
    from dataclasses import asdict

    with ctx.db.begin() as session:
        # Locked like every act on the case (issue 8, finding 6): an identity request decided
        # at the same moment sees the identity either before or after, never half.
        case = session.scalars(select(Case).where(Case.id == access.case_id).with_for_update()
                               .execution_options(populate_existing=True)).one_or_none()
        if case is None:
            raise LookupError("case vanished")
        # A new identity key each time (issue 13): whoever kept the old one, an investigator
        # whose disclosure ran out among them, opens nothing written now.
        sealing.reporter_unwrap(session, case, "identity", access.secret)  # the code's, or fail
        key = sealing.rekey_identity(session, case, access.secret, ctx.now())
        case.identity_sealed = sealing.seal_json(key, case, "identity",
                                                 asdict(identity))
        case.identity_provided = True
        # A consent to send the identity to SP4N-LAPOR! was for the old details (issue 10).
        from wbs.integrations import consent

        consent.forget_on_new_identity(session, case, ctx.today())
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="identity.add", case_number=case.case_number, reporter=True,
                     now=ctx.now())


def add_attachments(ctx: Context, access: ReporterAccess,
                    files: list[tuple[str, CleanFile]]) -> list[int]:
    """Seal and store evidence; CaseClosed once the case is closed, archived or forwarded."""
    with ctx.db.begin() as session:
        case = _open_case(session, access)
        keys = reporter_keys(session, case, access)
        ids = [attachments.store(session, case, keys, name, clean,
                                 uploader="reporter", today=ctx.today()) for name, clean in files]
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action="attachment.reporter_add", case_number=case.case_number,
                     details={"count": len(ids)}, reporter=True, now=ctx.now())
        return ids


def download(ctx: Context, access: ReporterAccess,
             attachment_id: int) -> tuple[attachments.AttachmentMeta, list[bytes]] | None:
    with ctx.read() as session:
        case = _case(session, access)
        opened = attachments.open_file(session, case, reporter_keys(session, case, access),
                                       attachment_id)
        if opened is None:
            return None
        meta, chunks = opened
        result = meta, list(chunks)
    ctx.reporter_reads.add(ctx.today(), "download")
    return result


def purge_sessions(ctx: Context) -> int:
    """Delete mailbox sessions opened before yesterday (the jobs run this on quiet days too)."""
    with ctx.db.begin() as session:
        result = session.execute(delete(ReporterSession).where(
            ReporterSession.created_on < _oldest_kept(ctx)))
        return int(getattr(result, "rowcount", 0) or 0)
