"""Per-case keys (DESIGN §3): the content key K and the identity key I, and their wraps.

K seals the report, messages and attachments; I seals the reporter's identity and nothing else.
K is wrapped (HPKE) to each unit handling the case and, symmetrically, to the reporter's
code-derived key; I only to the custodian unit and to the reporter. Every wrap's `info` binds it
to its case, purpose and recipient, so a wrap copied to another row is useless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import row_ids
from wbs.crypto import aead, hpke, keyring
from wbs.models import Case, CaseKeyWrap, Unit, UnitKeyRotation, UnitKeyWrap, User
from wbs.refusals import Refusal

Purpose = Literal["content", "identity"]
REPORTER = 0


class NoKey(Refusal):
    """The actor holds no wrap of this case's key: the cryptographic side of a refusal."""

    code = "no_key"


def aware(value: datetime, now: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)


def case_ref(case: Case) -> str:
    return case.case_number


def seal_json(key: bytes, case: Case, field: str, value: Any) -> bytes:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return aead.seal(key, data, aead.field_aad(case_ref(case), field))


def open_json(key: bytes, case: Case, field: str, blob: bytes) -> Any:
    return json.loads(aead.open_sealed(key, blob, aead.field_aad(case_ref(case), field)))


def seal_text(key: bytes, case: Case, field: str, text: str) -> bytes:
    return aead.seal(key, text.encode(), aead.field_aad(case_ref(case), field))


def open_text(key: bytes, case: Case, field: str, blob: bytes) -> str:
    return aead.open_sealed(key, blob, aead.field_aad(case_ref(case), field)).decode()


EpochKeys = dict[int, bytes]


def _bound(purpose: Purpose, epoch: int) -> str:
    # Epoch 0 keeps the info it always had, so wraps made before re-keying still open.
    return purpose if epoch == 0 else f"{purpose}/epoch:{epoch}"


def unit_info(case: Case, purpose: Purpose, unit: Unit, epoch: int = 0) -> bytes:
    return _unit_info(case, purpose, unit.slug, epoch)


def _unit_info(case: Case, purpose: Purpose, slug: str, epoch: int = 0) -> bytes:
    return hpke.wrap_info(case_ref(case), _bound(purpose, epoch), f"unit:{slug}")


def _user_info(case: Case, purpose: Purpose, username: str, epoch: int = 0) -> bytes:
    return hpke.wrap_info(case_ref(case), _bound(purpose, epoch), f"user:{username}")


def _reporter_info(case: Case, purpose: Purpose, epoch: int) -> bytes:
    return hpke.wrap_info(case_ref(case), _bound(purpose, epoch), "reporter")


def reporter_keypair(case: Case, reporter_key: bytes) -> hpke.KeyPair:
    """The reporter's HPKE key pair, derived from the code's wrapping key (HKDF(code, salt)).

    Its public key is kept on the case, so a staff act that re-keys the case can wrap the new
    epoch's key to the reporter without the code; only the code derives the private key.
    """
    return hpke.keypair_from_secret(reporter_key, f"reporter:{case_ref(case)}")


def _reporter_aad(case: Case, purpose: Purpose) -> bytes:
    return aead.field_aad(case_ref(case), f"reporter-wrap:{purpose}")


def _hybrid_only(public_key: bytes) -> None:
    # hpke.wrap also accepts a classical X25519 key (for interoperability tests); a database
    # writer who swapped a unit's or user's public key for one must not downgrade new wraps.
    if len(public_key) != hpke.PUBLIC_KEY_SIZE:
        raise NoKey


@dataclass(frozen=True)
class PreparedWrap:
    """A key wrapped to a unit's public key ahead of the transaction that stores it (intake
    does its sealing outside SQLite's one write lock, issue 12). It is used only if, under the
    share lock, the unit still has that key (and name, which the wrap is bound to)."""

    unit_id: int
    unit_slug: str
    public_key: bytes
    wrapped: bytes


def prepare_unit_wrap(case: Case, purpose: Purpose, unit_id: int, unit_slug: str,
                      public_key: bytes, key: bytes) -> PreparedWrap | None:
    """None for a key that is no hybrid key: the transaction then refuses it, or wraps to the
    key it reads under the lock if that one is sound (the key here may be an old hint)."""
    if len(public_key) != hpke.PUBLIC_KEY_SIZE:
        return None
    return PreparedWrap(unit_id, unit_slug, public_key,
                        hpke.wrap(public_key, key, _unit_info(case, purpose, unit_slug)))


def wrap_to_unit(session: Session, case: Case, purpose: Purpose, unit: Unit, key: bytes,
                 epoch: int = 0, prepared: PreparedWrap | None = None) -> None:
    # A case made in this session has no wraps yet: no need to ask (intake, issue 12).
    if not row_ids.is_new_case(session, case.id) and _wrap(
            session, case, purpose, "unit", unit.id, epoch) is not None:
        return
    # The unit's current key pair, read under a share lock: a key rotation (wbs/ops/keys.py)
    # takes the row exclusively to finish, so no wrap can slip in under the retired key.
    public, serial = session.execute(
        select(Unit.public_key, Unit.key_serial).where(Unit.id == unit.id)
        .with_for_update(read=True)).one()
    _hybrid_only(public)
    if prepared is not None and epoch == 0 and prepared.unit_id == unit.id \
            and prepared.unit_slug == unit.slug and prepared.public_key == public:
        wrapped = prepared.wrapped
    else:  # no wrap made ahead, or the key (or the name) changed since: wrap now
        wrapped = hpke.wrap(public, key, unit_info(case, purpose, unit, epoch))
    session.add(CaseKeyWrap(case_id=case.id, purpose=purpose, recipient_kind="unit",
                            recipient_id=unit.id, unit_key_serial=serial, epoch=epoch,
                            wrapped=wrapped))


def wrap_all_to_unit(session: Session, case: Case, unit: Unit, keys: EpochKeys) -> None:
    """Give a unit that now holds the case the content key of every epoch: it reads it all."""
    for epoch, key in sorted(keys.items()):
        wrap_to_unit(session, case, "content", unit, key, epoch)


def wrap_to_reporter_public(session: Session, case: Case, purpose: Purpose, public_key: bytes,
                            key: bytes, epoch: int) -> None:
    _hybrid_only(public_key)
    session.add(CaseKeyWrap(case_id=case.id, purpose=purpose, recipient_kind="reporter",
                            recipient_id=REPORTER, epoch=epoch,
                            wrapped=hpke.wrap(public_key, key,
                                              _reporter_info(case, purpose, epoch))))


def wrap_to_reporter(session: Session, case: Case, purpose: Purpose, reporter_key: bytes,
                     key: bytes) -> None:
    session.add(CaseKeyWrap(case_id=case.id, purpose=purpose, recipient_kind="reporter",
                            recipient_id=REPORTER,
                            wrapped=aead.seal(reporter_key, key, _reporter_aad(case, purpose))))


def wrap_to_user(session: Session, case: Case, purpose: Purpose, user_id: int, username: str,
                 public_key: bytes, key: bytes, expires_at: datetime | None) -> None:
    _hybrid_only(public_key)
    session.add(CaseKeyWrap(case_id=case.id, purpose=purpose, recipient_kind="user",
                            recipient_id=user_id, expires_at=expires_at,
                            wrapped=hpke.wrap(public_key, key,
                                              _user_info(case, purpose, username))))


def _wrap(session: Session, case: Case, purpose: Purpose, kind: str,
          recipient: int, epoch: int = 0) -> CaseKeyWrap | None:
    return session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == purpose,
        CaseKeyWrap.recipient_kind == kind, CaseKeyWrap.recipient_id == recipient,
        CaseKeyWrap.epoch == epoch)).first()


def reporter_unwrap(session: Session, case: Case, purpose: Purpose, reporter_key: bytes) -> bytes:
    row = _wrap(session, case, purpose, "reporter", REPORTER)
    if row is None:
        raise NoKey
    return aead.open_sealed(reporter_key, row.wrapped, _reporter_aad(case, purpose))


def reporter_content_keys(session: Session, case: Case, reporter_key: bytes) -> EpochKeys:
    """Every epoch's content key: epoch 0 from the code's symmetric wrap, later ones by HPKE."""
    keys = {0: reporter_unwrap(session, case, "content", reporter_key)}
    later = session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "reporter", CaseKeyWrap.epoch > 0)).all()
    if later:
        private = reporter_keypair(case, reporter_key).private
        for row in later:
            keys[row.epoch] = hpke.unwrap(private, row.wrapped,
                                          _reporter_info(case, "content", row.epoch))
    return keys


def ensure_reporter_public_key(case: Case, reporter_key: bytes) -> None:
    """Cases made before re-keying have no reporter public key: set it while the code is known."""
    if case.reporter_public_key is None:
        case.reporter_public_key = reporter_keypair(case, reporter_key).public


def current(keys: EpochKeys, case: Case) -> bytes:
    """The key new content is sealed under: the current epoch's, which every holder has."""
    key = keys.get(case.key_epoch)
    if key is None:
        raise NoKey
    return key


def rekey_content(session: Session, case: Case) -> int | None:
    """A unit lost the case: a new content key K' for what is written from now on (issue 13).

    K' (epoch + 1) is wrapped to the units that hold the case now (call after the lost unit's
    wraps are deleted) and to the reporter's public key (no user holds a content wrap); a
    K of an earlier epoch that the lost unit kept opens nothing sealed after this. Returns the
    new epoch, or None for a case with no reporter public key yet (made before re-keying, the
    reporter not signed in since): re-keying it would lock the reporter out of new messages.
    """
    if case.reporter_public_key is None:
        return None
    new_key = aead.new_key()
    epoch = case.key_epoch + 1
    holders = sorted(set(session.scalars(select(CaseKeyWrap.recipient_id).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit"))))
    with session.no_autoflush:
        for unit_id in holders:
            unit = session.get(Unit, unit_id)
            if unit is not None:
                wrap_to_unit(session, case, "content", unit, new_key, epoch)
        wrap_to_reporter_public(session, case, "content", case.reporter_public_key, new_key,
                                epoch)
    case.key_epoch = epoch
    return epoch


def unit_private_key(session: Session, unit: Unit, user_id: int, username: str,
                     user_private: bytes) -> bytes:
    row = session.scalars(select(UnitKeyWrap).where(UnitKeyWrap.unit_id == unit.id,
                                                    UnitKeyWrap.user_id == user_id)).first()
    if row is None:
        raise NoKey
    return keyring.unwrap_unit_key(row.wrapped, user_private, unit.slug, username)


def rekey_identity(session: Session, case: Case, reporter_key: bytes, now: datetime) -> bytes:
    """A new identity key I' for an identity written now (issue 13); returns it.

    The identity is one ciphertext, replaced whole on each write, so no epochs are needed: I'
    replaces every wrap of I, going to the custodian units, the reporter and the disclosures
    still running. An investigator whose disclosure expired, and who kept I, opens nothing
    written after. Called with the case row locked, in the writing act's transaction.
    """
    wraps = session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "identity")).all()
    units = sorted({w.recipient_id for w in wraps if w.recipient_kind == "unit"})
    running = [(w.recipient_id, w.expires_at) for w in wraps if w.recipient_kind == "user"
               and (w.expires_at is None or aware(w.expires_at, now) > now)]
    for wrap in wraps:
        session.delete(wrap)
    session.flush()
    new_key = aead.new_key()
    with session.no_autoflush:
        for unit_id in units:
            unit = session.get(Unit, unit_id)
            if unit is not None:
                wrap_to_unit(session, case, "identity", unit, new_key)
        wrap_to_reporter(session, case, "identity", reporter_key, new_key)
        for user_id, expires_at in running:
            user = session.get(User, user_id)
            if user is not None and user.active:
                wrap_to_user(session, case, "identity", user.id, user.username, user.public_key,
                             new_key, expires_at)
    return new_key


def staff_unwrap_via_unit(session: Session, case: Case, purpose: Purpose, unit: Unit,
                          user_id: int, username: str, user_private: bytes) -> bytes:
    """Unwrap K (or I) through the unit's key, which the user holds through their own key."""
    row = _wrap(session, case, purpose, "unit", unit.id)
    if row is None:
        raise NoKey
    private = unit_private_key(session, unit, user_id, username, user_private)
    return _unwrap_unit_row(session, case, unit, row, private)


def staff_content_keys(session: Session, case: Case, unit: Unit, user_id: int, username: str,
                       user_private: bytes) -> EpochKeys:
    """The content key of every epoch wrapped to the unit (all of them, for a unit holding it)."""
    rows = session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == unit.id)).all()
    if not rows:
        raise NoKey
    private = unit_private_key(session, unit, user_id, username, user_private)
    return {row.epoch: _unwrap_unit_row(session, case, unit, row, private) for row in rows}


def _unwrap_unit_row(session: Session, case: Case, unit: Unit, row: CaseKeyWrap,
                     private: bytes) -> bytes:
    purpose = cast(Purpose, row.purpose)
    if row.unit_key_serial != unit.key_serial:
        # Re-wrapped by a rotation that has not finished (wbs/ops/keys.py): the next key waits
        # wrapped to the current one, so the case stays readable until the rotation resumes.
        rotation = session.get(UnitKeyRotation, unit.id)
        if rotation is None or row.unit_key_serial != unit.key_serial + 1:
            raise NoKey
        private = hpke.unwrap(private, rotation.next_private_wrapped,
                              rotation_info(unit, row.unit_key_serial))
    return hpke.unwrap(private, row.wrapped, unit_info(case, purpose, unit, row.epoch))


def rotation_info(unit: Unit, serial: int) -> bytes:
    """HPKE info of a rotation's next unit key, wrapped to the unit's current public key."""
    return hpke.wrap_info("-", "unit-key-rotation", f"unit:{unit.slug}/serial:{serial}")


def staff_unwrap_direct(session: Session, case: Case, purpose: Purpose, user_id: int,
                        username: str, user_private: bytes, now: datetime) -> bytes:
    """Unwrap a key wrapped to this user alone (an approved identity disclosure)."""
    row = _wrap(session, case, purpose, "user", user_id)
    if row is None:
        raise NoKey
    if row.expires_at is not None and aware(row.expires_at, now) <= now:
        raise NoKey
    return hpke.unwrap(user_private, row.wrapped, _user_info(case, purpose, username))
