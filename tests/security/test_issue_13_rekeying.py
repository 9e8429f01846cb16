"""Issue 13, re-keying: when a unit loses a case, what is written from then on is sealed under a
new content key that the lost unit never receives.

The attacker is the unit that lost the case and kept everything it could hold: its own private
key, every case key it ever unwrapped, and read access to the database rows. After the loss it
must open nothing new, while what it saw before still opens with what it kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    ROLE_USERS,
    audit_since,
    details,
    dispose,
    file_report,
    last_seq,
    listed,
    reporter_access,
    staff_team,
    view,
)
from wbs.accounts import StaffIdentity
from wbs.cases import (
    attachments,
    compensation,
    identity,
    intake,
    reporter,
    routing,
    sealing,
    service,
)
from wbs.context import Context
from wbs.crypto import aead, hpke
from wbs.files import CleanFile
from wbs.models import (
    Attachment,
    AttachmentChunk,
    Case,
    CaseKeyWrap,
    CompensationClaim,
    Message,
    Unit,
    User,
)
from wbs.ops import keys

BEFORE = "Pesan sebelum serah terima: kepala sekolah memungut biaya."
AFTER = "Pesan sesudah serah terima: bukti transfer terlampir."
FILE_BYTES = b"REKEY-CANARY-EVIDENCE " * 4000  # several chunks


@pytest.fixture
def staff(ctx: Context, demo: Any, clock: Clock) -> dict[str, StaffIdentity]:
    team = staff_team(ctx, demo, clock, *ROLE_USERS.values(), "penghubung.pendidikan")
    team.update({role: team[username] for role, username in ROLE_USERS.items()})
    return team


def _case(ctx: Context, number: str) -> Case:
    with ctx.db() as s:
        return s.scalars(select(Case).where(Case.case_number == number)).one()


def _unit(ctx: Context, staff: StaffIdentity) -> Unit:
    with ctx.db() as s:
        return s.get_one(Unit, staff.unit_id)


def _what_the_unit_keeps(ctx: Context, staff: StaffIdentity, number: str) -> tuple[bytes,
                                                                                    list[bytes]]:
    """The unit's private key and every case key it can unwrap now (before losing the case)."""
    case, unit = _case(ctx, number), _unit(ctx, staff)
    with ctx.db() as s:
        private = sealing.unit_private_key(s, unit, staff.user_id, staff.username,
                                           staff.private_key())
        keys = sealing.staff_content_keys(s, case, unit, staff.user_id, staff.username,
                                          staff.private_key())
    return private, list(keys.values())


def _keys_from_every_wrap(ctx: Context, number: str, unit: Unit, private: bytes) -> list[bytes]:
    """Try the kept private key on every wrap of the case, under every info it could carry."""
    case = _case(ctx, number)
    opened = []
    with ctx.db() as s:
        wraps = s.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id)).all()
        units = s.scalars(select(Unit)).all()
    for wrap in wraps:
        infos = {sealing.unit_info(case, "content", u, wrap.epoch) for u in units}
        infos |= {sealing.unit_info(case, "identity", u, wrap.epoch) for u in units}
        for info in infos:
            # Any failure to open is the expected outcome; what opens is collected.
            with contextlib.suppress(Exception):
                opened.append(hpke.unwrap(private, wrap.wrapped, info))
    assert unit.id not in {w.recipient_id for w in wraps if w.recipient_kind == "unit"
                           and w.purpose == "content"}, "the lost unit keeps no content wrap"
    return opened


def _opens(keys: Iterable[bytes], case: Case, field: str, blob: bytes) -> bool:
    for key in keys:
        try:
            aead.open_sealed(key, blob, aead.field_aad(case.case_number, field))
            return True
        except aead.DecryptionError:
            continue
    return False


def _new_items_open_with(ctx: Context, number: str, keys: list[bytes], epoch: int) -> list[str]:
    """Which items sealed in `epoch` open with any of `keys` (their bodies, metadata, chunks)."""
    case = _case(ctx, number)
    opened = []
    with ctx.db() as s:
        for m in s.scalars(select(Message).where(Message.case_id == case.id,
                                                 Message.key_epoch == epoch)):
            if _opens(keys, case, f"message:{m.id}", m.body_sealed):
                opened.append(f"message:{m.id}")
        for a in s.scalars(select(Attachment).where(Attachment.case_id == case.id,
                                                    Attachment.key_epoch == epoch)):
            if _opens(keys, case, f"attachment-meta:{a.id}", a.meta_sealed):
                opened.append(f"attachment-meta:{a.id}")
            blobs = s.scalars(select(AttachmentChunk.blob).where(
                AttachmentChunk.attachment_id == a.id).order_by(AttachmentChunk.idx)).all()
            for key in keys:
                try:
                    list(aead.open_chunks(key, aead.field_aad(case.case_number,
                                                              f"attachment:{a.id}"), blobs))
                    opened.append(f"attachment:{a.id}")
                except aead.DecryptionError:
                    pass
    return opened


def _evidence() -> list[tuple[str, CleanFile]]:
    return [("bukti.txt", CleanFile(data=FILE_BYTES, content_type="text/plain", stripped=False,
                                    note=""))]


def _reporter_writes_after(ctx: Context, code: str) -> int:
    access = reporter_access(ctx, code)
    reporter.post_message(ctx, access, AFTER)
    [file_id] = reporter.add_attachments(ctx, access, _evidence())
    return file_id


def _reporter_reads_all(ctx: Context, code: str, file_id: int) -> None:
    access = reporter_access(ctx, code)
    box = reporter.mailbox(ctx, access)
    bodies = [m.body for m in box.messages]
    assert BEFORE in bodies and AFTER in bodies
    assert [a.id for a in box.attachments] == [file_id]
    downloaded = reporter.download(ctx, access, file_id)
    assert downloaded is not None and b"".join(downloaded[1]) == FILE_BYTES


def _staff_reads_all(ctx: Context, who: StaffIdentity, number: str, file_id: int) -> None:
    seen = view(ctx, who, number)
    bodies = [m.body for m in seen.messages]
    assert BEFORE in bodies and AFTER in bodies
    assert seen.report["title"] == "Pungutan liar di sekolah"
    assert [a.id for a in seen.attachments] == [file_id]
    meta, chunks = service.download(ctx, who, number, file_id)
    assert meta.name == "bukti.txt" and b"".join(chunks) == FILE_BYTES


def _assert_lost_unit_opens_nothing_new(ctx: Context, number: str, who: StaffIdentity,
                                        private: bytes, kept: list[bytes], epoch: int) -> None:
    unit = _unit(ctx, who)
    derivable = kept + _keys_from_every_wrap(ctx, number, unit, private)
    assert _new_items_open_with(ctx, number, derivable, epoch) == []
    # What it saw before still opens with what it kept: the report and the earlier message.
    case = _case(ctx, number)
    assert _opens(kept, case, "report", case.report_sealed)
    with ctx.db() as s:
        earlier = s.scalars(select(Message).where(Message.case_id == case.id,
                                                  Message.key_epoch < epoch)).all()
    assert earlier and all(_opens(kept, case, f"message:{m.id}", m.body_sealed)
                           for m in earlier)


def test_after_a_handover_the_old_units_key_opens_nothing_written_after_it(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    verifier, apip = staff["verifier"], staff["investigator"]
    filed = file_report(ctx)
    other = file_report(ctx).number
    reporter.post_message(ctx, reporter_access(ctx, filed.code), BEFORE)
    assert view(ctx, verifier, filed.number).messages[-1].body == BEFORE
    private, kept = _what_the_unit_keeps(ctx, verifier, filed.number)
    start = last_seq(ctx)

    routing.hand_to_apip(ctx, verifier, filed.number, "Dugaan penyalahgunaan wewenang.")
    case = _case(ctx, filed.number)
    assert case.key_epoch == 1
    [handed] = [e for e in audit_since(ctx, start) if e.case_number == filed.number]
    assert details(handed)["key_epoch"] == 1, "the act's own audit row says the case re-keyed"

    file_id = _reporter_writes_after(ctx, filed.code)
    with ctx.db() as s:
        assert s.get_one(Attachment, file_id).key_epoch == 1
        assert s.scalars(select(Message.key_epoch).where(Message.case_id == case.id)
                         .order_by(Message.id)).all() == [0, 1]
    _staff_reads_all(ctx, apip, filed.number, file_id)
    _reporter_reads_all(ctx, filed.code, file_id)
    _assert_lost_unit_opens_nothing_new(ctx, filed.number, verifier, private, kept, 1)
    # The case list is unaffected: one row per case, counts equal to rows (listed checks).
    assert listed(ctx, verifier) == [other]
    assert listed(ctx, apip).count(filed.number) == 1


def test_after_a_returned_disposition_the_returning_unit_opens_nothing_new(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    kesehatan, pendidikan = staff["penghubung.kesehatan"], staff["penghubung.pendidikan"]
    filed = file_report(ctx)
    reporter.post_message(ctx, reporter_access(ctx, filed.code), BEFORE)
    dispose(ctx, staff["verifier"], filed.number, "dinas-pendidikan", "dinas-kesehatan")
    routing.start_processing(ctx, kesehatan, filed.number)
    assert view(ctx, pendidikan, filed.number).messages[-1].body == BEFORE
    private, kept = _what_the_unit_keeps(ctx, pendidikan, filed.number)

    routing.return_disposition(ctx, pendidikan, filed.number, "dinas-pupr",
                               "Sekolah ini di bawah kewenangan provinsi.")
    assert _case(ctx, filed.number).key_epoch == 1
    file_id = _reporter_writes_after(ctx, filed.code)
    view(ctx, kesehatan, filed.number)  # states the purpose of this session's reads
    message_id = service.post_staff_message(ctx, kesehatan, filed.number, "Sedang kami periksa.")
    with ctx.db() as s:
        assert s.get_one(Message, message_id).key_epoch == 1
    _staff_reads_all(ctx, kesehatan, filed.number, file_id)
    _staff_reads_all(ctx, staff["verifier"], filed.number, file_id)
    _reporter_reads_all(ctx, filed.code, file_id)
    _assert_lost_unit_opens_nothing_new(ctx, filed.number, pendidikan, private, kept, 1)
    assert filed.number not in listed(ctx, pendidikan)
    assert listed(ctx, kesehatan).count(filed.number) == 1

    # A unit given the case later gets every epoch: it reads the whole case.
    routing.add_disposition(ctx, staff["verifier"], filed.number, unit_slugs=["dinas-pupr"])
    case_id = _case(ctx, filed.number).id
    with ctx.db() as s:
        pupr = s.scalars(select(Unit.id).where(Unit.slug == "dinas-pupr")).one()
        epochs = s.scalars(select(CaseKeyWrap.epoch).where(
            CaseKeyWrap.case_id == case_id,
            CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == pupr)).all()
    assert sorted(epochs) == [0, 1]


def test_an_open_mailbox_session_writes_under_the_new_key(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """The reporter signed in before the handover: what they write after it is not sealed
    under the key the old unit kept (the session holds the code's key, not a case key)."""
    verifier = staff["verifier"]
    filed = file_report(ctx)
    reporter.post_message(ctx, reporter_access(ctx, filed.code), BEFORE)
    view(ctx, verifier, filed.number)
    private, kept = _what_the_unit_keeps(ctx, verifier, filed.number)
    cookie = reporter.open_session(ctx, filed.code)
    assert cookie is not None

    routing.hand_to_apip(ctx, verifier, filed.number, "Dugaan penyalahgunaan wewenang.")
    found = reporter.access_by_session(ctx, cookie)
    assert found is not None
    reporter.post_message(ctx, found[0], AFTER)
    reporter.add_attachments(ctx, found[0], _evidence())
    _assert_lost_unit_opens_nothing_new(ctx, filed.number, verifier, private, kept, 1)
    assert AFTER in [m.body for m in reporter.mailbox(ctx, found[0]).messages]
    assert AFTER in [m.body for m in view(ctx, staff["investigator"], filed.number).messages]


def test_a_case_from_before_rekeying_gets_the_reporter_key_at_sign_in(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """No reporter public key yet (made before the migration): a loss does not re-key (the
    reporter would be locked out) and says so; the next sign-in sets the key, and the next
    loss re-keys."""
    filed = file_report(ctx)
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.case_number == filed.number)
                  .values(reporter_public_key=None))
    dispose(ctx, staff["verifier"], filed.number, "dinas-pendidikan", "dinas-kesehatan")
    start = last_seq(ctx)
    routing.return_disposition(ctx, staff["penghubung.pendidikan"], filed.number, "",
                               "Bukan kewenangan dinas kami.")
    assert _case(ctx, filed.number).key_epoch == 0
    [row] = [e for e in audit_since(ctx, start) if e.case_number == filed.number]
    assert details(row)["key_epoch"] == "skipped_no_reporter_key"

    assert reporter.open_session(ctx, filed.code) is not None
    assert _case(ctx, filed.number).reporter_public_key is not None
    routing.return_disposition(ctx, staff["penghubung.kesehatan"], filed.number, "",
                               "Bukan kewenangan dinas kami juga.")
    assert _case(ctx, filed.number).key_epoch == 1
    reporter.post_message(ctx, reporter_access(ctx, filed.code), AFTER)
    assert AFTER in [m.body for m in view(ctx, staff["verifier"], filed.number).messages]


def test_an_item_of_an_epoch_the_reader_lacks_is_not_available_not_an_error(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    filed = file_report(ctx)
    verifier = staff["verifier"]
    with ctx.db() as s:
        case = s.scalars(select(Case).where(Case.case_number == filed.number)).one()
        keys = sealing.staff_content_keys(s, case, s.get_one(Unit, verifier.unit_id),
                                          verifier.user_id, verifier.username,
                                          verifier.private_key())
    with ctx.db.begin() as s:
        case = s.get_one(Case, case.id)
        reporter.add_message(s, case, keys, BEFORE, author_kind="reporter", author_role=None,
                             author_user_id=None, today=ctx.today())
        attachments.store(s, case, keys, "a.txt", _evidence()[0][1], uploader="reporter",
                          today=ctx.today())
        s.execute(update(Message).where(Message.case_id == case.id).values(key_epoch=7))
        s.execute(update(Attachment).where(Attachment.case_id == case.id).values(key_epoch=7))
    seen = view(ctx, verifier, filed.number)
    assert [m.body for m in seen.messages] == [None] and seen.attachments == []


def test_after_a_disclosure_expires_the_investigator_opens_no_later_identity(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    """The identity key: the investigator kept I from a disclosure that ran out; the identity
    the reporter writes afterwards is sealed under a new I', for the custodians, the reporter
    and the disclosures still running only."""
    investigator, custodian, auditor = (staff["investigator"], staff["custodian"],
                                        staff["auditor"])
    filed = file_report(ctx)
    access = reporter_access(ctx, filed.code)
    reporter.add_identity(ctx, access, intake.Identity(name="Saksi Pertama"))
    case = _case(ctx, filed.number)
    with ctx.db.begin() as s:  # what an approved disclosure does (identity._disclose)
        case = s.get_one(Case, case.id)
        custodians = s.get_one(Unit, custodian.unit_id)
        kept_i = sealing.staff_unwrap_via_unit(s, case, "identity", custodians,
                                               custodian.user_id, custodian.username,
                                               custodian.private_key())
        for who, days in ((investigator, 1), (auditor, 30)):
            public = s.get_one(User, who.user_id).public_key
            sealing.wrap_to_user(s, case, "identity", who.user_id, who.username, public, kept_i,
                                 ctx.now() + timedelta(days=days))
    with ctx.db() as s:
        case = s.get_one(Case, case.id)
        assert sealing.open_json(kept_i, case, "identity", case.identity_sealed)["name"] == (
            "Saksi Pertama")
    clock.advance(days=2)
    identity.expire_disclosures(ctx)

    reporter.add_identity(ctx, access, intake.Identity(name="Saksi Kedua"))
    with ctx.db() as s:
        case = s.get_one(Case, case.id)
        with pytest.raises(aead.DecryptionError):
            sealing.open_json(kept_i, case, "identity", case.identity_sealed)
        wraps = s.scalars(select(CaseKeyWrap).where(CaseKeyWrap.case_id == case.id,
                                                    CaseKeyWrap.purpose == "identity")).all()
        assert investigator.user_id not in {w.recipient_id for w in wraps
                                            if w.recipient_kind == "user"}
        fresh = sealing.staff_unwrap_via_unit(s, case, "identity",
                                              s.get_one(Unit, custodian.unit_id),
                                              custodian.user_id, custodian.username,
                                              custodian.private_key())
        assert sealing.open_json(fresh, case, "identity", case.identity_sealed)["name"] == (
            "Saksi Kedua")
        running = sealing.staff_unwrap_direct(s, case, "identity", auditor.user_id,
                                              auditor.username, auditor.private_key(), ctx.now())
        assert running == fresh, "a disclosure still running follows the new key"
        mine = sealing.reporter_unwrap(s, case, "identity", access.secret)
        assert mine == fresh


def test_unit_key_rotation_rewraps_every_epoch(
        ctx: Context, staff: dict[str, StaffIdentity], demo: Any) -> None:
    """The verifier team holds epochs 0 and 1 after a return; rotating its unit key re-wraps
    both (the epoch is part of each wrap's info), and the whole case still opens."""
    verifier = staff["verifier"]
    filed = file_report(ctx)
    dispose(ctx, verifier, filed.number, "dinas-kesehatan")
    routing.return_disposition(ctx, staff["penghubung.kesehatan"], filed.number, "",
                               "Bukan kewenangan dinas kami.")
    reporter.post_message(ctx, reporter_access(ctx, filed.code), AFTER)
    case_id = _case(ctx, filed.number).id
    with ctx.db() as s:
        epochs = s.scalars(select(CaseKeyWrap.epoch).where(
            CaseKeyWrap.case_id == case_id, CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.recipient_id == verifier.unit_id)).all()
    assert sorted(epochs) == [0, 1]

    keys.rotate_unit_key(ctx, "tim-pengelola", "verifikator", demo["verifikator"]["password"])
    with ctx.db() as s:
        serials = s.scalars(select(CaseKeyWrap.unit_key_serial).where(
            CaseKeyWrap.case_id == case_id, CaseKeyWrap.recipient_kind == "unit",
            CaseKeyWrap.recipient_id == verifier.unit_id)).all()
    assert serials == [1, 1]
    seen = view(ctx, verifier, filed.number)
    assert AFTER in [m.body for m in seen.messages]
    assert seen.report["title"] == "Pungutan liar di sekolah"


def test_the_reporters_request_for_apip_rekeys_and_its_reasons_are_apips_only(
        ctx: Context, staff: dict[str, StaffIdentity], clock: Clock) -> None:
    """The reporter takes an answered case to APIP: the liaison and the verifier team lose it;
    the reporter's reasons, written with the request, are sealed under the new key."""
    liaison, verifier = staff["penghubung.kesehatan"], staff["verifier"]
    filed = file_report(ctx)
    reporter.post_message(ctx, reporter_access(ctx, filed.code), BEFORE)
    dispose(ctx, verifier, filed.number, "dinas-kesehatan")
    routing.start_processing(ctx, liaison, filed.number)
    routing.answer(ctx, liaison, filed.number, "Pungutan telah dihentikan dan dikembalikan.")
    view(ctx, liaison, filed.number)
    kept = {who.username: _what_the_unit_keeps(ctx, who, filed.number)
            for who in (liaison, verifier)}
    clock.advance(days=1)
    reasons = "Jawaban dinas tidak benar, pungutan masih berjalan."
    routing.reporter_act(ctx, reporter_access(ctx, filed.code),
                         routing.Action.REPORTER_REQUESTS_APIP, reasons)
    case = _case(ctx, filed.number)
    assert case.key_epoch == 1
    with ctx.db() as s:
        last = s.scalars(select(Message).where(Message.case_id == case.id)
                         .order_by(Message.id.desc())).first()
    assert last is not None and last.kind == "objection" and last.key_epoch == 1
    for who in (liaison, verifier):
        private, keys_kept = kept[who.username]
        _assert_lost_unit_opens_nothing_new(ctx, filed.number, who, private, keys_kept, 1)
    assert reasons in [m.body for m in view(ctx, staff["investigator"], filed.number).messages]


def test_a_compensation_claim_written_after_a_return_is_the_holders_only(
        ctx: Context, staff: dict[str, StaffIdentity]) -> None:
    """Compensation items and decision are content too: written after a unit returned its
    share, they are sealed under the new epoch and record it."""
    kesehatan, pendidikan = staff["penghubung.kesehatan"], staff["penghubung.pendidikan"]
    filed = file_report(ctx)
    dispose(ctx, staff["verifier"], filed.number, "dinas-pendidikan", "dinas-kesehatan")
    routing.start_processing(ctx, kesehatan, filed.number)
    items = [{"description": "Sepeda motor rusak", "amount": "1.500.000"}]
    compensation.claim_by_reporter(ctx, reporter_access(ctx, filed.code), items)
    view(ctx, pendidikan, filed.number)
    _private, kept = _what_the_unit_keeps(ctx, pendidikan, filed.number)
    routing.return_disposition(ctx, pendidikan, filed.number, "", "Bukan kewenangan kami.")

    items.append({"description": "Biaya pengobatan", "amount": "750.000"})
    compensation.claim_by_reporter(ctx, reporter_access(ctx, filed.code), items)
    compensation.file_complete(ctx, kesehatan, filed.number)
    compensation.decide(ctx, kesehatan, filed.number, amount="2.000.000",
                        payment_due_on=ctx.today() + timedelta(days=30), reason="Terbukti rusak.")
    case = _case(ctx, filed.number)
    with ctx.db() as s:
        claim = s.get_one(CompensationClaim, case.id)
    assert (claim.items_epoch, claim.decision_epoch) == (1, 1)
    assert not _opens(kept, case, "compensation:items", claim.items_sealed)
    assert claim.decision_sealed is not None
    assert not _opens(kept, case, "compensation:decision", claim.decision_sealed)
    service.state_purpose(ctx, kesehatan, filed.number, "Memutus ganti rugi")
    seen = compensation.view(ctx, kesehatan, filed.number)
    assert seen is not None and seen.total == 2_250_000
    mine = compensation.reporter_view(ctx, reporter_access(ctx, filed.code))
    assert mine is not None and mine.decision is not None and mine.decision.amount == 2_000_000
