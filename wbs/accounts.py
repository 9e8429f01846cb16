"""Staff accounts, sign-in and server-side sessions (DESIGN §3).

Sign-in order is throttle → TOTP → password, so a flood of guesses never reaches argon2: a wrong
or missing TOTP code is refused after a few microseconds of HMAC, for known and unknown users
alike, and only a request with a currently valid code pays for the memory-hard hash. Every
failure gets the same `SignInFailed`, whatever went wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from wbs import audit
from wbs.context import Context
from wbs.crypto import aead, hpke, keyring
from wbs.crypto.passwords import Argon2Params, PasswordKDF
from wbs.enums import AuditOutcome, Role, UnitKind
from wbs.models import StaffSession, Throttle, Unit, UnitKeyWrap, User

TOTP_STEP = 30
THROTTLE_WINDOW = timedelta(minutes=15)
# Per client address: a single machine guessing many accounts is cut off.
CLIENT_LIMIT = 50
# Per account and client: one machine guessing one account is cut off quickly.
PAIR_LIMIT = 10
# Per account across all clients: a distributed attack on one account is slowed, never locked,
# so nobody can lock a victim out by failing on purpose (the victim's own client is not blocked).
ACCOUNT_SLOWDOWN_AFTER = 20
MAX_DELAY_SECONDS = 5.0


class SignInFailed(Exception):
    """The one answer for unknown user, wrong password and wrong code."""


class Throttled(Exception):
    pass


@dataclass(frozen=True)
class SignInResult:
    token: str = field(repr=False)
    user_id: int
    username: str


@dataclass(frozen=True)
class StaffIdentity:
    """The signed-in staff member of one request."""

    user_id: int
    username: str
    display_name: str
    role: Role
    unit_id: int | None
    unit_slug: str | None
    session_id: int
    token: bytes = field(repr=False)
    private_key_sealed: bytes = field(repr=False)

    def private_key(self) -> bytes:
        return keyring.open_for_session(self.private_key_sealed, self.token, "staff-private-key")


def _totp_key(ctx: Context) -> bytes:
    return ctx.keys.derived("totp-secret")


def _seal_totp(ctx: Context, username: str, secret: str) -> bytes:
    return aead.seal(_totp_key(ctx), secret.encode(), aead.field_aad("user:" + username, "totp"))


def _open_totp(ctx: Context, user: User) -> str:
    aad = aead.field_aad("user:" + user.username, "totp")
    return aead.open_sealed(_totp_key(ctx), user.totp_secret_sealed, aad).decode()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    step = int(now.timestamp()) // TOTP_STEP
    found = None
    for candidate in (step - 1, step, step + 1):  # one step of clock drift either way
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


def new_password_material(kdf: PasswordKDF, params: Argon2Params, username: str, password: str,
                          private_key: bytes) -> tuple[bytes, bytes, bytes]:
    """Salt, verifier and the private key sealed under the password key (one argon2id call)."""
    salt = PasswordKDF.new_salt()
    derived = kdf.derive(password, salt, params)
    sealed = keyring.seal_user_private_key(private_key, derived.sealing_key, username)
    return salt, derived.verifier, sealed


# Which kind of unit each role belongs to. A verifier in the Inspektorat, or a liaison in the
# custodian unit, would receive keys meant for others: such accounts are refused.
ROLE_UNIT_KINDS: dict[Role, frozenset[str | None]] = {
    Role.VERIFIER: frozenset({UnitKind.VERIFIER_TEAM.value}),
    Role.LIAISON: frozenset({UnitKind.AGENCY.value, UnitKind.BUMD.value}),
    Role.INVESTIGATOR: frozenset({UnitKind.APIP.value}),
    Role.CUSTODIAN: frozenset({UnitKind.CUSTODIAN.value}),
    Role.LEADERSHIP: frozenset({UnitKind.LEADERSHIP.value, None}),
    Role.AUDITOR: frozenset({UnitKind.ADMINISTRATION.value, None}),
    Role.ADMINISTRATOR: frozenset({UnitKind.ADMINISTRATION.value, None}),
}


class RoleUnitMismatch(ValueError):
    pass


def create_user(session: Session, ctx: Context, *, username: str, display_name: str, role: Role,
                password: str, unit: Unit | None = None, unit_private_key: bytes | None = None,
                email: str = "", actor: str = "system") -> tuple[User, str]:
    """Create a staff account. Returns the user and its TOTP secret, shown once to enrol.

    The account receives its unit's key only as the unit's first member (the bootstrap key), or
    when the caller passes the key it holds (the demo). Any later member waits until a key holder
    of the unit grants access with a reason (`grant_unit_access`): an administrator who creates an
    account can never give it, or themselves, access to a unit's cases.
    """
    if (unit.kind if unit else None) not in ROLE_UNIT_KINDS[role]:
        raise RoleUnitMismatch(f"a {role.value} cannot belong to this unit")
    pair = hpke.generate_keypair()
    params = ctx.settings.argon2
    salt, verifier, sealed = new_password_material(ctx.kdf, params, username, password,
                                                   pair.private)
    totp_secret = pyotp.random_base32()
    now = ctx.now()
    user = User(
        username=username, display_name=display_name, email=email, role=role.value,
        unit_id=unit.id if unit else None, active=True, password_salt=salt,
        password_params=params.encode(), password_verifier=verifier,
        totp_secret_sealed=_seal_totp(ctx, username, totp_secret), totp_enrolled=True,
        totp_last_step=0, public_key=pair.public, private_key_sealed=sealed,
        created_at=now, password_changed_at=now,
    )
    session.add(user)
    session.flush()
    if unit is not None:
        from wbs.units import take_pending_private_key

        unit_private_key = take_pending_private_key(ctx, unit) or unit_private_key
        if unit_private_key is not None:
            grant_unit_key(session, ctx, unit, user, unit_private_key, actor=actor)
    audit.record(session, ctx.audit_keys, actor=actor, role="system",
                 action="user.create", details={"username": username, "role": role.value,
                                                "unit": unit.slug if unit else None}, now=now)
    return user, totp_secret


def grant_unit_key(session: Session, ctx: Context, unit: Unit, member: User,
                   unit_private_key: bytes, *, actor: str, reason: str = "",
                   role: str | None = None) -> None:
    wrapped = keyring.wrap_unit_key(unit_private_key, member.public_key, unit.slug,
                                    member.username)
    session.add(UnitKeyWrap(unit_id=unit.id, user_id=member.id, wrapped=wrapped))
    # A unit made before the recovery key existed is escrowed at the first grant after it.
    from wbs.ops import recovery

    recovery.escrow_unit(session, ctx, unit, unit_private_key)
    role = role or "system"
    audit.record(session, ctx.audit_keys, actor=actor, role=role, action="key.unit.grant",
                 reason=reason, details={"unit": unit.slug, "member": member.username},
                 now=ctx.now())


def _throttle_hash(ctx: Context, label: str) -> bytes:
    return hmac.new(ctx.keys.derived("throttle"), label.encode(), hashlib.sha256).digest()


def _failures(session: Session, key: bytes, now: datetime) -> int:
    row = session.get(Throttle, key)
    if row is None or now - _aware(row.window_start) > THROTTLE_WINDOW:
        return 0
    return row.failures


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything we store is UTC.
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _bump(session: Session, key: bytes, now: datetime) -> None:
    row = session.get(Throttle, key)
    if row is None:
        session.add(Throttle(key_hash=key, window_start=now, failures=1))
    elif now - _aware(row.window_start) > THROTTLE_WINDOW:
        row.window_start, row.failures = now, 1
    else:
        row.failures += 1


def throttle_check(session: Session, ctx: Context, username: str, client: str) -> float:
    """Raise Throttled if this client must wait; else return a delay to apply before answering."""
    now = ctx.now()
    name = _printable(username).strip().lower()
    if _failures(session, _throttle_hash(ctx, "client:" + client), now) >= CLIENT_LIMIT:
        raise Throttled
    if _failures(session, _throttle_hash(ctx, f"pair:{name}\x00{client}"), now) >= PAIR_LIMIT:
        raise Throttled
    account_failures = _failures(session, _throttle_hash(ctx, "account:" + name), now)
    excess = account_failures - ACCOUNT_SLOWDOWN_AFTER
    return min(MAX_DELAY_SECONDS, 0.25 * excess) if excess > 0 else 0.0


def _record_failure(session: Session, ctx: Context, username: str, client: str,
                    user: User | None, step: str) -> None:
    now = ctx.now()
    name = _printable(username).strip().lower()
    for label in ("client:" + client, f"pair:{name}\x00{client}", "account:" + name):
        _bump(session, _throttle_hash(ctx, label), now)
    # The typed name of an unknown account is not logged: people type passwords into it.
    audit.record(session, ctx.audit_keys, actor=user.username if user else "-",
                 role=user.role if user else "unknown", action="auth.sign_in",
                 outcome=AuditOutcome.DENIED, details={"step": step}, now=now)


def _printable(text: str) -> str:
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:  # removed between two steps of one request
        raise SignInFailed
    return user


def throttle_precheck(ctx: Context, username: str, client: str) -> float:
    """Step one of sign-in: raise Throttled, or return how long to wait before answering."""
    with ctx.db.begin() as session:
        return throttle_check(session, ctx, username, client)


def sign_in(ctx: Context, username: str, password: str, totp_code: str,
            client: str) -> SignInResult:
    """TOTP → password, after `throttle_precheck`. Raises SignInFailed."""
    # No stored name holds a NUL or a surrogate, and PostgreSQL cannot even compare one: the
    # same failure as an unknown name (callers other than the sign-in form included).
    name = _printable(username).strip().lower()[:64]
    code = totp_code.strip().replace(" ", "")
    with ctx.db.begin() as session:
        user = session.scalars(select(User).where(User.username == name)).first()
        step = None
        if user is not None and user.active:
            step = _matching_step(_open_totp(ctx, user), code, ctx.now())
            if step is not None and step <= user.totp_last_step:
                step = None  # a code already used in its window is refused
        if user is None or not user.active or step is None:
            # Recorded and committed before answering: the raise comes after the transaction.
            _record_failure(session, ctx, name, client, user, "totp")
            user = None
        else:
            params = Argon2Params.decode(user.password_params)
            user_id, salt = user.id, user.password_salt
            expected, sealed_key = user.password_verifier, user.private_key_sealed
    if user is None or step is None:
        raise SignInFailed
    # The memory-hard hash runs outside any transaction so it holds no database lock.
    derived = ctx.kdf.derive(password, salt, params)
    if not hmac.compare_digest(derived.verifier, expected):
        with ctx.db.begin() as session:
            _record_failure(session, ctx, name, client, session.get(User, user_id), "password")
        raise SignInFailed
    with ctx.db.begin() as session:
        user = _user(session, user_id)
        private = keyring.open_user_private_key(sealed_key, derived.sealing_key, user.username)
        user.totp_last_step = max(user.totp_last_step, step)
        token = secrets.token_bytes(32)
        now = ctx.now()
        staff_session = StaffSession(
            token_hash=keyring.token_hash(token), user_id=user.id, created_at=now,
            last_seen_at=now,
            private_key_sealed=keyring.seal_for_session(private, token, "staff-private-key"),
        )
        session.add(staff_session)
        session.flush()
        audit.record(session, ctx.audit_keys, actor=user.username, role=user.role,
                     action="auth.sign_in", now=now)
        return SignInResult(token=_encode_token(token), user_id=user.id, username=user.username)


def _encode_token(token: bytes) -> str:
    return token.hex()


def _decode_token(value: str) -> bytes | None:
    if len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def load_session(ctx: Context, cookie: str | None) -> StaffIdentity | None:
    """The session behind a cookie, or None if absent, unknown, idle too long or too old."""
    token = _decode_token(cookie or "")
    if token is None:
        return None
    now = ctx.now()
    # A read first, without the write lock: on SQLite every staff page took it here (BEGIN
    # IMMEDIATE), so pages queued behind submissions (issue 12). The lock is taken only for
    # the rare write: ending an expired session, or the once-a-minute refresh.
    with ctx.read() as session:
        row = session.scalars(select(StaffSession).where(
            StaffSession.token_hash == keyring.token_hash(token))).first()
        if row is None:
            return None
        user = session.get(User, row.user_id)
        idle = now - _aware(row.last_seen_at) > timedelta(seconds=ctx.settings.session_idle_seconds)
        old = now - _aware(row.created_at) > timedelta(
            seconds=ctx.settings.session_absolute_seconds)
        expired = user is None or not user.active or idle or old
        # Refresh at most once a minute: the idle timeout does not need more, writes cost.
        refresh = now - _aware(row.last_seen_at) > timedelta(seconds=60)
        identity = None
        if user is not None and not expired:
            unit = session.get(Unit, user.unit_id) if user.unit_id else None
            identity = StaffIdentity(
                user_id=user.id, username=user.username, display_name=user.display_name,
                role=Role(user.role), unit_id=user.unit_id,
                unit_slug=unit.slug if unit else None, session_id=row.id, token=token,
                private_key_sealed=row.private_key_sealed,
            )
    if identity is None:
        with ctx.db.begin() as session:
            session.execute(delete(StaffSession).where(StaffSession.id == row.id))
        return None
    if refresh:
        with ctx.db.begin() as session:
            session.execute(update(StaffSession).where(StaffSession.id == row.id)
                            .values(last_seen_at=now))
    return identity


def sign_out(ctx: Context, identity: StaffIdentity) -> None:
    with ctx.db.begin() as session:
        session.execute(delete(StaffSession).where(StaffSession.id == identity.session_id))
        audit.record(session, ctx.audit_keys, actor=identity.username, role=identity.role,
                     action="auth.sign_out", now=ctx.now())


class PasswordChangeRefused(Exception):
    pass


def change_password(ctx: Context, identity: StaffIdentity, current: str, new: str) -> None:
    """Re-seal the private key under the new password; other sessions are ended."""
    if len(new) < 12:
        raise PasswordChangeRefused("too_short")
    with ctx.db.begin() as session:
        user = _user(session, identity.user_id)
        params = Argon2Params.decode(user.password_params)
        salt, expected = user.password_salt, user.password_verifier
    client = f"session:{identity.session_id}"
    with ctx.db.begin() as session:
        # A stolen session must not become an unlimited password-guessing oracle.
        try:
            throttle_check(session, ctx, identity.username, client)
        except Throttled as exc:
            raise PasswordChangeRefused("throttled") from exc
    derived = ctx.kdf.derive(current, salt, params)
    if not hmac.compare_digest(derived.verifier, expected):
        with ctx.db.begin() as session:
            _record_failure(session, ctx, identity.username, client,
                            session.get(User, identity.user_id), "password_change")
        raise PasswordChangeRefused("wrong_current")
    private = identity.private_key()
    new_salt, verifier, sealed = new_password_material(ctx.kdf, ctx.settings.argon2,
                                                       identity.username, new, private)
    with ctx.db.begin() as session:
        user = _user(session, identity.user_id)
        user.password_salt, user.password_verifier = new_salt, verifier
        user.private_key_sealed, user.password_params = sealed, ctx.settings.argon2.encode()
        user.password_changed_at = ctx.now()
        session.execute(delete(StaffSession).where(
            StaffSession.user_id == user.id, StaffSession.id != identity.session_id))
        audit.record(session, ctx.audit_keys, actor=user.username, role=user.role,
                     action="auth.password_change", now=ctx.now())


def totp_uri(ctx: Context, username: str, secret: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP).provisioning_uri(
        name=username, issuer_name=ctx.settings.portal_name)


@dataclass(frozen=True)
class PendingMember:
    username: str
    display_name: str
    role: str


class GrantRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _own_wrap(session: Session, staff: StaffIdentity) -> UnitKeyWrap | None:
    return session.scalars(select(UnitKeyWrap).where(
        UnitKeyWrap.unit_id == staff.unit_id, UnitKeyWrap.user_id == staff.user_id)).first()


def pending_members(ctx: Context, staff: StaffIdentity) -> list[PendingMember]:
    """Colleagues of the same unit who have no access to its key yet (key holders only)."""
    if staff.unit_id is None:
        return []
    with ctx.db.begin() as session:
        if _own_wrap(session, staff) is None:
            return []
        have = select(UnitKeyWrap.user_id).where(UnitKeyWrap.unit_id == staff.unit_id)
        rows = session.scalars(select(User).where(
            User.unit_id == staff.unit_id, User.active.is_(True), User.id.not_in(have))
            .order_by(User.username)).all()
        return [PendingMember(u.username, u.display_name, u.role) for u in rows]


def grant_unit_access(ctx: Context, staff: StaffIdentity, username: str, reason: str) -> None:
    """A key holder gives a colleague of the same unit access to the unit's key, with a reason.

    This is the only way a unit key reaches a new member after the first: it is a recorded act of
    a named colleague, never an automatic side effect of an administrator's account creation.
    """
    text = " ".join(reason.split())[:500]
    if len(text) < 10:
        raise GrantRefused("reason_required")
    with ctx.db.begin() as session:
        # The unit row first, locked as a finishing key rotation or a recovery locks it: the
        # granter's copy read below is then the unit's current key, never one being retired.
        unit = session.scalars(select(Unit).where(Unit.id == staff.unit_id)
                               .with_for_update()).first() if staff.unit_id else None
        mine = _own_wrap(session, staff)
        member = session.scalars(select(User).where(User.username == username)).first()
        refused = None
        if mine is None or unit is None:
            refused = "not_a_key_holder"
        elif member is None or member.unit_id != unit.id or not member.active:
            refused = "not_a_colleague"
        elif session.scalars(select(UnitKeyWrap).where(UnitKeyWrap.unit_id == unit.id,
                                                       UnitKeyWrap.user_id == member.id)).first():
            refused = "already_granted"
        if refused is None and unit is not None and member is not None and mine is not None:
            unit_private = keyring.unwrap_unit_key(mine.wrapped, staff.private_key(), unit.slug,
                                                   staff.username)
            grant_unit_key(session, ctx, unit, member, unit_private, actor=staff.username,
                           reason=text, role=staff.role.value)
            return
    with ctx.db.begin() as session:
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="key.unit.grant", outcome=AuditOutcome.DENIED,
                     details={"member": username[:64], "why": refused}, now=ctx.now())
    raise GrantRefused(refused or "refused")
