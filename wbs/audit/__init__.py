"""Tamper-evident, append-only audit log (DESIGN §4).

merkle: RFC 6962 hashing and proofs; checkpoint: C2SP signed checkpoints; leaf: what an entry
commits to; log: appending and signing; verify: checking; postgres: the append-only trigger.
"""

from __future__ import annotations

from wbs.audit.checkpoint import CheckpointError
from wbs.audit.leaf import canonical_json
from wbs.audit.log import (
    AuditIntegrityError,
    AuditKeys,
    latest_checkpoint,
    publish_checkpoint,
    record,
)
from wbs.audit.postgres import PG_APPEND_ONLY_SQL, PG_DROP_APPEND_ONLY_SQL
from wbs.audit.verify import VerifyResult, verify_against_checkpoint, verify_log

__all__ = [
    "PG_APPEND_ONLY_SQL",
    "PG_DROP_APPEND_ONLY_SQL",
    "AuditIntegrityError",
    "AuditKeys",
    "CheckpointError",
    "VerifyResult",
    "canonical_json",
    "latest_checkpoint",
    "publish_checkpoint",
    "record",
    "verify_against_checkpoint",
    "verify_log",
]
