"""indexes of the case list's keyset pages and of open deadlines by date (issue 12)

Revision ID: 0170
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0170'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_received_id', ['received_on', 'id'], unique=False)
        # The composite index serves every use of the single-column one.
        batch_op.drop_index('ix_cases_received_on')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_open_due', ['due_on', 'case_id'], unique=False,
                              sqlite_where=sa.text('met_on IS NULL'),
                              postgresql_where=sa.text('met_on IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_due', sqlite_where=sa.text('met_on IS NULL'),
                            postgresql_where=sa.text('met_on IS NULL'))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_received_on', ['received_on'], unique=False)
        batch_op.drop_index('ix_cases_received_id')
