"""files sent with a staff answer (issue 11): an index over the attachments tied to a message

Staff answers may carry files (data, photos), stored as attachments with the answer's message
id; the statistics count them from these clear columns. The index holds only those rows, so the
count never scans the reporters' evidence.

Revision ID: 0230
Revises: 0221
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0230'
down_revision = '0221'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attachments_message', 'attachments', ['message_id'],
                    sqlite_where=sa.text('message_id IS NOT NULL'),
                    postgresql_where=sa.text('message_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_attachments_message', table_name='attachments')
