"""key lifecycle: unit key serials, resumable rotations, the organisational recovery key

Revision ID: 0181
Revises: 0180
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0181'
down_revision = '0180'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units') as batch:
        batch.add_column(sa.Column('key_serial', sa.Integer(), server_default=sa.text('0'),
                                   nullable=False))
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.add_column(sa.Column('unit_key_serial', sa.Integer(), server_default=sa.text('0'),
                                   nullable=False))
    op.create_table('unit_key_rotations',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('next_public_key', sa.LargeBinary(), nullable=False),
    sa.Column('next_private_wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                            name=op.f('fk_unit_key_rotations_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_key_rotations'))
    )
    op.create_table('recovery_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('holders', sa.Text(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_recovery_key_single')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_key'))
    )
    op.create_table('unit_recovery_wraps',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('key_serial', sa.Integer(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                            name=op.f('fk_unit_recovery_wraps_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_recovery_wraps'))
    )


def downgrade() -> None:
    op.drop_table('unit_recovery_wraps')
    op.drop_table('recovery_key')
    op.drop_table('unit_key_rotations')
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.drop_column('unit_key_serial')
    with op.batch_alter_table('units') as batch:
        batch.drop_column('key_serial')
