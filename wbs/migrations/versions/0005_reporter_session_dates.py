"""reporter sessions keep the day they were opened, not a precise expiry

The idle expiry moves into the (MAC-protected) cookie, so that a copy of the database no longer
tells to the minute when a reporter last used the mailbox (DESIGN §1.4). Existing sessions cannot
be converted (their cookies carry no expiry): they are dropped, and reporters enter their code
again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text('DELETE FROM reporter_sessions'))
    with op.batch_alter_table('reporter_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_on', sa.Date(), nullable=False))
        batch_op.create_index(batch_op.f('ix_reporter_sessions_created_on'), ['created_on'], unique=False)
        batch_op.drop_column('expires_at')


def downgrade() -> None:
    op.execute(sa.text('DELETE FROM reporter_sessions'))
    with op.batch_alter_table('reporter_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False))
        batch_op.drop_index(batch_op.f('ix_reporter_sessions_created_on'))
        batch_op.drop_column('created_on')
