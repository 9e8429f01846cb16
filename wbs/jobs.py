"""Periodic jobs run by `wbs jobs run` (cron) and by the loop in `wbs serve` (DESIGN §5)."""

from __future__ import annotations

from wbs import audit, mail
from wbs.audit import pending
from wbs.audit.activity import latest_published
from wbs.cases import held_files, identity, receipt_hold, reporter
from wbs.cases.jobs import run_workflow_jobs, single_runner
from wbs.context import Context
from wbs.integrations import connector
from wbs.ops import retention
from wbs.reports import rollup


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


def append_reporter_days(ctx: Context) -> int:
    """Append the staged reporter records of every day that has ended (DESIGN §4)."""
    with ctx.db.begin() as session:
        return pending.append_due(session, ctx.audit_keys, ctx.today())


def run_all(ctx: Context) -> dict[str, int]:
    """One pass of every job; returns counts by name (`skipped` = 1 if another node ran it).

    On PostgreSQL the whole pass holds the jobs advisory lock, so two nodes never expire the same
    disclosure or e-mail the same notice at once. The reporters' records of ended days are
    appended (in random order) before the checkpoint, which comes last, so that it covers the
    audit rows the other jobs wrote. Reporter-caused notices go out only once their batch time
    has come (`notices.py`).
    """
    with single_runner(ctx) as mine:
        if not mine:
            return {"skipped": 1}
        counts = run_workflow_jobs(ctx, lock=False).as_counts()
        counts["disclosures_expired"] = identity.expire_disclosures(ctx)
        # SP4N-LAPOR!: deliver the outbox (with backoff) and pull new reports; its audit rows
        # come before the checkpoint below.
        counts.update(connector.run(ctx))
        counts["identity_requests_expired"] = identity.expire_requests(ctx)
        counts["emails_sent"] = mail.send_pending(ctx)
        counts["reporter_sessions_purged"] = reporter.purge_sessions(ctx)
        counts["cases_shredded"] = retention.shred_expired(ctx)
        counts["receipt_holds_purged"] = receipt_hold.purge_job(ctx)
        counts["held_uploads_purged"] = held_files.purge_job(ctx)
        counts["reporter_entries_appended"] = append_reporter_days(ctx)
        with ctx.db.begin() as session:  # the statistics roll-up (issue 11)
            counts["stat_days_refreshed"] = rollup.refresh(session, ctx.today(),
                                                           rollup.JOB_LIMIT)
        # This process's reporter reads of ended days (a serving process flushes its own).
        counts["reporter_reads_counted"] = ctx.reporter_reads.flush(ctx.db, ctx.today())
        note = publish_checkpoint_job(ctx)
        # A C2SP checkpoint's second line is the tree size.
        counts["audit_tree_size"] = int(note.splitlines()[1])
        return counts
