"""cleaned evidence files held for a form that came back with an error (issue 9, item 6)

Revision ID: 0121
Revises: 0120
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0121'
down_revision = '0120'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('held_uploads',
    sa.Column('lookup', sa.LargeBinary(length=32), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('meta_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('data_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('forget_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('lookup', 'idx', name=op.f('pk_held_uploads'))
    )
    op.create_index(op.f('ix_held_uploads_forget_on'), 'held_uploads', ['forget_on'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_held_uploads_forget_on'), table_name='held_uploads')
    op.drop_table('held_uploads')
