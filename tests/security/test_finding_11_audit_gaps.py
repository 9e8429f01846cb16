"""Finding 11 (issue 8): audit gaps.

1. A refusal raised inside a service, after authorization allowed the act (disposing to the
   reported unit, a member without the unit key, a unit that is already working on the case),
   left no `denied` row. Every refusal on a case is recorded by the one place that runs acts on a
   case (`service.with_case`), in its own transaction: the refused act is rolled back, its denied
   row stays.
2. `wbs audit verify` did not look at the stored checkpoints, so an altered
   `audit_checkpoints.signed_note` (or root, or size) passed. It now checks each one's signature
   and that the log had that root at that size.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import Clock
from tests.functional.workflow_helpers import (
    DISPOSED_UNIT,
    dispose,
    file_report,
    sign_in,
    state_of,
)
from tests.unit.test_cli_audit import add_units, db_path, save_checkpoint, verify  # noqa: F401
from wbs import accounts, units
from wbs.accounts import StaffIdentity
from wbs.cases import routing, sealing, service
from wbs.context import Context
from wbs.enums import Role
from wbs.models import AuditEntry, CaseTask


def _denied(ctx: Context, actor: str) -> list[dict[str, Any]]:
    with ctx.db() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.actor == actor,
                                                  AuditEntry.outcome == "denied")
                         .order_by(AuditEntry.seq)).all()
        return [{"action": r.action, "case": r.case_number, **json.loads(r.details)}
                for r in rows]


@pytest.fixture
def verifier(ctx: Context, demo: Any, clock: Clock) -> StaffIdentity:
    return sign_in(ctx, demo, clock, "verifikator")


def test_finding_11_disposing_to_the_reported_unit_leaves_a_denied_row(
        ctx: Context, verifier: StaffIdentity) -> None:
    # Kept out because the reporter feared retaliation (issue 10: otherwise a complaint goes
    # to the unit it names).
    filed = file_report(ctx, reported_unit=DISPOSED_UNIT, shield=True)
    with pytest.raises(routing.InvalidInput):
        dispose(ctx, verifier, filed.number, DISPOSED_UNIT)
    assert state_of(ctx, filed.number) == "received"  # the act was rolled back
    denied = _denied(ctx, "verifikator")
    assert [(d["case"], d["why"]) for d in denied] == [(filed.number, "reported_unit")]
    assert denied[0]["permission"] == "case:dispose"


def test_finding_11_a_refused_act_writes_nothing_but_its_denied_row(
        ctx: Context, verifier: StaffIdentity) -> None:
    """A unit already working on the case: the first unit's new task must not survive."""
    filed = file_report(ctx)
    dispose(ctx, verifier, filed.number, DISPOSED_UNIT)
    with ctx.db() as s:
        before = len(s.scalars(select(CaseTask)).all())
    with pytest.raises(routing.InvalidInput):
        routing.add_disposition(ctx, verifier, filed.number,
                                unit_slugs=["dinas-pendidikan", DISPOSED_UNIT])
    with ctx.db() as s:
        assert len(s.scalars(select(CaseTask)).all()) == before
    assert [d["why"] for d in _denied(ctx, "verifikator")] == ["unit_already_working"]


def test_finding_11_a_member_without_the_unit_key_leaves_a_denied_row(
        ctx: Context, demo: Any, clock: Clock, verifier: StaffIdentity) -> None:
    with ctx.db.begin() as s:
        _, secret = accounts.create_user(s, ctx, username="baru", display_name="Baru",
                                         role=Role.VERIFIER, password="new-verifier-pw",
                                         unit=units.by_slug(s, "tim-pengelola"), actor="admin")
    newcomer = sign_in(ctx, {"baru": {"password": "new-verifier-pw", "totp_secret": secret}},
                       clock, "baru")
    filed = file_report(ctx)
    service.state_purpose(ctx, newcomer, filed.number, "Memverifikasi pengaduan")
    with pytest.raises(sealing.NoKey):
        service.view_case(ctx, newcomer, filed.number)
    with pytest.raises(sealing.NoKey):
        dispose(ctx, newcomer, filed.number, DISPOSED_UNIT)
    assert state_of(ctx, filed.number) == "received"
    denied = _denied(ctx, "baru")
    assert [(d["permission"], d["why"]) for d in denied] == [
        ("case:read", "no_key"), ("case:dispose", "no_key")]
    with ctx.db() as s:
        assert not s.scalars(select(AuditEntry).where(
            AuditEntry.actor == "baru", AuditEntry.action == "case.view")).first()


def test_finding_11_the_web_answer_is_unchanged_and_audited(
        app: Any, client: Any, ctx: Context, demo: Any, clock: Clock) -> None:
    from tests.conftest import csrf_from
    from tests.conftest import sign_in as web_sign_in

    # Kept out because the reporter feared retaliation (issue 10: otherwise a complaint goes
    # to the unit it names).
    filed = file_report(ctx, reported_unit=DISPOSED_UNIT, shield=True)
    web_sign_in(client, demo["verifikator"], "verifikator", clock)
    token = csrf_from(client, "/staf")
    client.post(f"/staf/kasus/{filed.number}/tujuan", data={"csrf_token": token,
                                                           "purpose": "Verifikasi pengaduan"})
    response = client.post(f"/staf/kasus/{filed.number}/aksi/verify_and_dispose", data={
        "csrf_token": token, "classification": "no_oversight", "resolution_days": "14",
        "unit_1": DISPOSED_UNIT})
    assert response.status_code == 400 and "reported_unit" not in response.headers.get(
        "location", "")
    assert state_of(ctx, filed.number) == "received"
    assert [d["why"] for d in _denied(ctx, "verifikator")] == ["reported_unit"]


# --- `wbs audit verify` and the stored checkpoints --------------------------------------------

def _published(db_path: Path) -> list[tuple[int, int, bytes, str]]:  # noqa: F811
    with sqlite3.connect(db_path) as con:
        return con.execute("SELECT id, tree_size, root_hash, signed_note FROM audit_checkpoints"
                           " ORDER BY id").fetchall()


def test_finding_11_verify_refuses_an_altered_signed_note(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    add_units("a", "b")
    save_checkpoint(db_path)
    add_units("c")
    save_checkpoint(db_path)
    code, out = verify(capsys)
    assert code == 0 and "OK: 3 entries" in out
    (first_id, _, _, note), _ = _published(db_path)
    # One character of the signature changed: the note no longer verifies.
    body, _, sig = note.rpartition(" ")
    forged = f"{body} {'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE audit_checkpoints SET signed_note = ? WHERE id = ?",
                    (forged, first_id))
    code, out = verify(capsys)
    assert code == 1 and "FAILED" in out and f"checkpoint {first_id}" in out


def test_finding_11_verify_refuses_a_checkpoint_the_log_never_had(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    """A validly signed note whose root is not the log's at that size (signed by the same key,
    as an intruder holding it could), or whose columns disagree with the note."""
    from wbs.app import build_context
    from wbs.audit import checkpoint as cp
    from wbs.settings import Settings

    add_units("a", "b")
    save_checkpoint(db_path)
    add_units("c")
    built = build_context(Settings.from_env())
    audit_keys = built.audit_keys
    built.engine.dispose()
    wrong_root = bytes(32)
    note = cp.sign_checkpoint(cp.checkpoint_body(audit_keys.origin, 2, wrong_root),
                              audit_keys.key_name, audit_keys.private)
    ((cid, _, _, _),) = _published(db_path)
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE audit_checkpoints SET signed_note = ?, root_hash = ? WHERE id = ?",
                    (note, wrong_root, cid))
    code, out = verify(capsys)
    assert code == 1 and f"checkpoint {cid}" in out

    # The columns alone changed (the note still the honest one): also caught.
    honest = save_checkpoint(db_path).read_text()
    with sqlite3.connect(db_path) as con:
        con.execute("DELETE FROM audit_checkpoints WHERE id = ?", (cid,))
        last = con.execute("SELECT max(id) FROM audit_checkpoints").fetchone()[0]
        con.execute("UPDATE audit_checkpoints SET signed_note = ?, tree_size = tree_size - 1"
                    " WHERE id = ?", (honest, last))
    code, out = verify(capsys)
    assert code == 1 and f"checkpoint {last}" in out


def test_finding_11_verify_refuses_a_checkpoint_beyond_the_log(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    add_units("a", "b", "c")
    save_checkpoint(db_path)
    # The last entry cut off, and the head row rewound to match: only the checkpoint
    # remembers that the log once had three entries.
    from wbs.audit import merkle

    with sqlite3.connect(db_path) as con:
        con.execute("DELETE FROM audit_entries WHERE seq = 3")
        frontier: list[bytes] = []
        for size, (leaf,) in enumerate(con.execute(
                "SELECT leaf_hash FROM audit_entries ORDER BY seq").fetchall()):
            frontier = merkle.frontier_append(frontier, size, leaf)
        con.execute("UPDATE audit_head SET tree_size = 2, frontier = ?",
                    (merkle.encode_frontier(frontier),))
    code, out = verify(capsys)
    assert code == 1 and "checkpoint" in out


def test_finding_11_no_checkpoint_columns_can_be_edited_through_the_orm_unnoticed(
        ctx: Context) -> None:
    """The same check through the library on the test database (SQLite and PostgreSQL)."""
    from wbs import audit
    from wbs.audit.log import publish_checkpoint
    from wbs.models import AuditCheckpoint

    with ctx.db.begin() as s:
        audit.record(s, ctx.audit_keys, actor="system", role="system", action="unit.create",
                     details={"unit": "x"}, now=ctx.now())
        publish_checkpoint(s, ctx.audit_keys, ctx.now())
    k = ctx.audit_keys
    with ctx.db() as s:
        assert audit.verify_log(s, k.public, k.origin, k.key_name).ok
    with ctx.db.begin() as s:
        s.execute(update(AuditCheckpoint).values(root_hash=bytes(32)))
    with ctx.db() as s:
        result = audit.verify_log(s, k.public, k.origin, k.key_name)
    assert not result.ok and "checkpoint" in result.problem


def test_finding_11_probing_attachment_numbers_leaves_denied_rows(
        ctx: Context, demo: Any, clock: Clock, verifier: StaffIdentity) -> None:
    filed = file_report(ctx)
    service.state_purpose(ctx, verifier, filed.number, "Memverifikasi pengaduan")
    for attachment_id in (1, 2):
        with pytest.raises(service.CaseNotFound):
            service.download(ctx, verifier, filed.number, attachment_id)
    assert [(d["permission"], d["why"]) for d in _denied(ctx, "verifikator")] == [
        ("case:attachment:read", "not_found")] * 2
