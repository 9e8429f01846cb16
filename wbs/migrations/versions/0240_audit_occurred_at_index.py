"""index of audit entries by time, for the staff activity summary

The activity page (`/staf/aktivitas`) groups the entries of a period by actor: one row per
staff member, so the page is small, but without this index every view read the whole log.
With it, a view reads the period's entries only (issue 12: every list that can grow).

Revision ID: 0240
Revises: 0212
"""

from __future__ import annotations

from alembic import op

revision = '0240'
down_revision = '0212'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: no table rebuild on SQLite (the append-only triggers stay).
    op.create_index('ix_audit_entries_occurred_at', 'audit_entries', ['occurred_at'])


def downgrade() -> None:
    op.drop_index('ix_audit_entries_occurred_at', table_name='audit_entries')
