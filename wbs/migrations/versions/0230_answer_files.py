"""files sent with a staff answer (issue 11): an index over the attachments tied to a message

Staff answers may carry files (data, photos), stored as attachments with the answer's message
id (the only attachments that have one); the statistics count them from these clear columns.
The index holds only those rows, with every column the count reads, so the count is an
index-only scan over the days from the period's start to its as-of day (an answer is never
older than its case), joined to the period's cases; it never touches the reporters' evidence.

Revision ID: 0230
Revises: 0240
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0230'
down_revision = '0240'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attachments_answer', 'attachments',
                    ['created_on', 'case_id', 'message_id'],
                    sqlite_where=sa.text('message_id IS NOT NULL'),
                    postgresql_where=sa.text('message_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_attachments_answer', table_name='attachments')
