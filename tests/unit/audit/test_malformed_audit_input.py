"""What could make two readers disagree about a leaf, a note or the head is refused where it
enters: by the writer as a caller bug, by the verifier as tampering."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.audit.test_log import fill
from wbs.audit import AuditIntegrityError, AuditKeys, latest_checkpoint, merkle, pending, record
from wbs.audit import checkpoint as cp
from wbs.audit.leaf import canonical_json, check_details, check_entry
from wbs.audit.proofs import MAX_PROOFS, ProofCache
from wbs.db import transaction
from wbs.models import AuditHead

NAME = "wbs.contoh.go.id/audit"


@pytest.mark.parametrize("value", [{1: "a"}, {"a": 1.5}, {"a": [1]}, {"a": {"b": 2**53 + 1}}])
def test_values_without_one_canonical_json_form_are_refused(value: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        canonical_json(value)  # type: ignore[arg-type]


def test_details_are_few_short_named_scalars() -> None:
    assert check_details({"unit": "inspektorat", "n": 3, "none": None}) == {
        "unit": "inspektorat", "n": 3, "none": None}
    for bad in ({"": "x"}, {"k" * 65: "x"}, {"k": 1.5}, {"k": "x" * 10_000},
                {f"k{i}": i for i in range(33)}, {"k": 2**60}):
        with pytest.raises(ValueError):
            check_details(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [
    {"actor": ""}, {"actor": "a" * 65}, {"role": ""}, {"role": "r" * 33},
    {"action": "Case View"}, {"case_number": "W" * 33}, {"case_number": 7},
    {"reason": "r" * 2001},
])
def test_entries_longer_than_their_columns_are_refused(bad: dict[str, object]) -> None:
    fields: dict[str, object] = {"actor": "investigator", "role": "investigator",
                                 "action": "case.view", "case_number": None, "reason": ""}
    check_entry(**fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        check_entry(**{**fields, **bad})  # type: ignore[arg-type]


def test_malformed_keys_bodies_and_notes_are_refused() -> None:
    with pytest.raises(cp.CheckpointError, match="32 bytes"):
        cp.key_id(NAME, b"\x01" * 31)
    for body in ("origin\n1\nroot", "origin\n\n1\n"):
        with pytest.raises(cp.CheckpointError, match="newline"):
            cp.sign_checkpoint(body, NAME, b"\x01" * 32)
    with pytest.raises(cp.CheckpointError, match="too large"):
        cp.parse_and_verify("x" * 1_000_000 + "\n", NAME, b"\x01" * 32)
    many = "o\n1\nAAAA\n\n" + "".join(f"\u2014 k{i} AAAAAAAA\n" for i in range(200))
    with pytest.raises(cp.CheckpointError, match="too many signatures"):
        cp.parse_and_verify(many, NAME, b"\x01" * 32)


def test_non_canonical_base64_is_refused(keys: AuditKeys) -> None:
    """'QR==' decodes to the same byte as 'QQ==': two texts for one value are not accepted."""
    body = cp.checkpoint_body(keys.origin, 1, b"\0" * 32)
    note = cp.sign_checkpoint(body, keys.key_name, keys.private)
    head, _, signature_line = note.rstrip("\n").rpartition("\n")
    name, blob = signature_line.removeprefix("\u2014 ").split(" ")
    raw = base64.b64decode(blob)
    # 68 bytes (key id and signature): one "=" of padding, and the last letter before it
    # carries two spare bits, zero in the canonical text. Setting one keeps the bytes.
    assert len(raw) == 68 and blob.endswith("=") and not blob.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    spare = blob[:-2] + alphabet[alphabet.index(blob[-2]) + 1] + "="
    assert spare != blob and base64.b64decode(spare) == raw
    with pytest.raises(cp.CheckpointError, match="canonical"):
        cp.parse_and_verify(f"{head}\n\u2014 {name} {spare}\n", keys.key_name, keys.public)


def test_frontiers_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.frontier_root([b"\0" * 31], 1)
    with pytest.raises(ValueError, match="tree size"):
        merkle.frontier_append([b"\0" * 32], 3, b"\0" * 32)  # size 3 needs two subtrees


def test_a_corrupt_head_stops_appends_and_checkpoints(factory: sessionmaker[Session],
                                                      keys: AuditKeys) -> None:
    fill(factory, keys, 3)
    with transaction(factory) as session:
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(frontier=b"\0" * 33))
    with transaction(factory) as session, pytest.raises(AuditIntegrityError, match="corrupt"):
        latest_checkpoint(session, keys)
    with pytest.raises(AuditIntegrityError, match="corrupt"), transaction(factory) as session:
        record(session, keys, actor="admin", role="administrator", action="user.disable")


def test_a_reporter_act_needs_an_aware_time_and_is_staged(factory: sessionmaker[Session],
                                                          keys: AuditKeys) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pending.local_day(datetime(2026, 3, 2, 9, 0), "Asia/Jakarta")
    with transaction(factory) as session:
        assert pending.pending_count(session) == 0
        record(session, keys, actor="reporter", role="reporter", action="case.message",
               reporter=True)
        assert pending.pending_count(session) == 1


def test_the_proof_cache_keeps_only_the_latest_proofs() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(60)]
    reads: list[int] = []

    def read(first: int, last: int) -> list[bytes]:
        reads.append(last - first + 1)
        return leaves[first - 1:last]

    cache = ProofCache()
    pairs = [(m, n) for n in range(1, 61) for m in range(1, n + 1)]
    assert len(pairs) > MAX_PROOFS
    for m, n in pairs:
        assert cache.consistency(read, m, n) == merkle.consistency_proof(leaves, m, n)
    assert len(cache._proofs) == MAX_PROOFS
    reads.clear()
    cache.consistency(read, *pairs[-1])  # kept: nothing read
    assert reads == []
    cache.consistency(read, *pairs[1])  # evicted: made again (reading a leaf)
    assert reads != []
