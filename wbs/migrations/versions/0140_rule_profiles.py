"""regional rule profiles: a limit's start event; the chosen profile and its local changes

Revision ID: 0140
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0140'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline_rules') as batch:
        batch.add_column(sa.Column('start', sa.String(length=16), nullable=True))
    op.create_table('rule_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_rule_profile_single')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_profile'))
    )


def downgrade() -> None:
    op.drop_table('rule_profile')
    with op.batch_alter_table('deadline_rules') as batch:
        batch.drop_column('start')
