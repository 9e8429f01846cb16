"""retention: the day a case's content was destroyed, and legal holds

Revision ID: 0180
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0180'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('shredded_on', sa.Date(), nullable=True))
    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.String(length=64), nullable=False),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_holds_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    op.create_index(op.f('ix_legal_holds_case_id'), 'legal_holds', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_legal_holds_case_id'), table_name='legal_holds')
    op.drop_table('legal_holds')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('shredded_on')
