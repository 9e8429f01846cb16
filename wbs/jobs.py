"""Periodic jobs run by `wbs jobs run` (cron) and by the loop in `wbs serve` (DESIGN §5)."""

from __future__ import annotations

from wbs import audit
from wbs.audit.activity import latest_published
from wbs.context import Context


def publish_checkpoint_job(ctx: Context) -> str:
    """Store a signed checkpoint of the audit log for the public page; return its note.

    Idempotent: when the log has not grown since the last stored checkpoint the note is the same
    (Ed25519 signatures are deterministic), so nothing new is stored. The job writes no audit
    entry of its own, or the log would grow on every run and never sit still at a checkpoint.
    """
    with ctx.db.begin() as session:
        last = latest_published(session)
        note = audit.latest_checkpoint(session, ctx.audit_keys)
        if last is not None and last.signed_note == note:
            return note
        return audit.publish_checkpoint(session, ctx.audit_keys, ctx.now()).signed_note
