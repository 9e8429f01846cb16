"""Per-case keys (DESIGN §3): the content key K and the identity key I, and their wraps.

K seals the report, messages and attachments; I seals the reporter's identity and nothing else.
K is wrapped (HPKE) to each unit handling the case and, symmetrically, to the reporter's
code-derived key; I only to the custodian unit and to the reporter. Every wrap's `info` binds it
to its case, purpose and recipient, so a wrap copied to another row is useless.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import row_ids
from wbs.crypto import aead, hpke, keyring
from wbs.models import Case, CaseKeyWrap, Unit, UnitKeyRotation, UnitKeyWrap
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


def unit_info(case: Case, purpose: Purpose, unit: Unit) -> bytes:
    return hpke.wrap_info(case_ref(case), purpose, f"unit:{unit.slug}")


def _user_info(case: Case, purpose: Purpose, username: str) -> bytes:
    return hpke.wrap_info(case_ref(case), purpose, f"user:{username}")


def _reporter_aad(case: Case, purpose: Purpose) -> bytes:
    return aead.field_aad(case_ref(case), f"reporter-wrap:{purpose}")


def _hybrid_only(public_key: bytes) -> None:
    # hpke.wrap also accepts a classical X25519 key (for interoperability tests); a database
    # writer who swapped a unit's or user's public key for one must not downgrade new wraps.
    if len(public_key) != hpke.PUBLIC_KEY_SIZE:
        raise NoKey


def wrap_to_unit(session: Session, case: Case, purpose: Purpose, unit: Unit, key: bytes) -> None:
    # A case made in this session has no wraps yet: no need to ask (intake, issue 12).
    if not row_ids.is_new_case(session, case.id) and _wrap(
            session, case, purpose, "unit", unit.id) is not None:
        return
    # The unit's current key pair, read under a share lock: a key rotation (wbs/ops/keys.py)
    # takes the row exclusively to finish, so no wrap can slip in under the retired key.
    public, serial = session.execute(
        select(Unit.public_key, Unit.key_serial).where(Unit.id == unit.id)
        .with_for_update(read=True)).one()
    _hybrid_only(public)
    session.add(CaseKeyWrap(case_id=case.id, purpose=purpose, recipient_kind="unit",
                            recipient_id=unit.id, unit_key_serial=serial,
                            wrapped=hpke.wrap(public, key, unit_info(case, purpose, unit))))


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
          recipient: int) -> CaseKeyWrap | None:
    return session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == purpose,
        CaseKeyWrap.recipient_kind == kind, CaseKeyWrap.recipient_id == recipient)).first()


def reporter_unwrap(session: Session, case: Case, purpose: Purpose, reporter_key: bytes) -> bytes:
    row = _wrap(session, case, purpose, "reporter", REPORTER)
    if row is None:
        raise NoKey
    return aead.open_sealed(reporter_key, row.wrapped, _reporter_aad(case, purpose))


def unit_private_key(session: Session, unit: Unit, user_id: int, username: str,
                     user_private: bytes) -> bytes:
    row = session.scalars(select(UnitKeyWrap).where(UnitKeyWrap.unit_id == unit.id,
                                                    UnitKeyWrap.user_id == user_id)).first()
    if row is None:
        raise NoKey
    return keyring.unwrap_unit_key(row.wrapped, user_private, unit.slug, username)


def staff_unwrap_via_unit(session: Session, case: Case, purpose: Purpose, unit: Unit,
                          user_id: int, username: str, user_private: bytes) -> bytes:
    """Unwrap K (or I) through the unit's key, which the user holds through their own key."""
    row = _wrap(session, case, purpose, "unit", unit.id)
    if row is None:
        raise NoKey
    private = unit_private_key(session, unit, user_id, username, user_private)
    if row.unit_key_serial != unit.key_serial:
        # Re-wrapped by a rotation that has not finished (wbs/ops/keys.py): the next key waits
        # wrapped to the current one, so the case stays readable until the rotation resumes.
        rotation = session.get(UnitKeyRotation, unit.id)
        if rotation is None or row.unit_key_serial != unit.key_serial + 1:
            raise NoKey
        private = hpke.unwrap(private, rotation.next_private_wrapped,
                              rotation_info(unit, row.unit_key_serial))
    return hpke.unwrap(private, row.wrapped, unit_info(case, purpose, unit))


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
