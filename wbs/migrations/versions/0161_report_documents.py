"""report documents

Revision ID: 0161
Revises: 0160
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0161'
down_revision = '0160'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_documents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('corrective_actions', sa.Text(), nullable=False),
    sa.Column('recommendations', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('monthly', 'semester', 'unit_semester', 'yearly')", name=op.f('ck_report_documents_kind')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_report_documents_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_documents_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_documents'))
    )
    with op.batch_alter_table('report_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_documents_published_at'), ['published_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_documents_published_at'))

    op.drop_table('report_documents')
