"""indexes of the case list's keyset pages, of open deadlines by date and of the cases a unit
holds (issue 12)

Revision ID: 0170
Revises: 0121
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0170'
down_revision = '0121'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_received_id', ['received_on', 'id'], unique=False)
        batch_op.create_index('ix_cases_state_received', ['state', 'received_on', 'id'],
                              unique=False)
        batch_op.create_index('ix_cases_kind_received', ['kind', 'received_on', 'id'],
                              unique=False)
        # Each composite index serves every use of the single-column one it replaces.
        batch_op.drop_index('ix_cases_received_on')
        batch_op.drop_index('ix_cases_state')
        batch_op.drop_index('ix_cases_kind')
    with op.batch_alter_table('case_key_wraps', schema=None) as batch_op:
        batch_op.create_index('ix_case_key_wraps_holder',
                              ['recipient_kind', 'recipient_id', 'purpose', 'case_id'],
                              unique=False)
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_open_due', ['due_on', 'case_id'], unique=False,
                              sqlite_where=sa.text('met_on IS NULL'),
                              postgresql_where=sa.text('met_on IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_due', sqlite_where=sa.text('met_on IS NULL'),
                            postgresql_where=sa.text('met_on IS NULL'))
    with op.batch_alter_table('case_key_wraps', schema=None) as batch_op:
        batch_op.drop_index('ix_case_key_wraps_holder')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_kind', ['kind'], unique=False)
        batch_op.create_index('ix_cases_state', ['state'], unique=False)
        batch_op.create_index('ix_cases_received_on', ['received_on'], unique=False)
        batch_op.drop_index('ix_cases_kind_received')
        batch_op.drop_index('ix_cases_state_received')
        batch_op.drop_index('ix_cases_received_id')
