"""receipts held briefly for the reporter's browser (issue 9, blocker 2)

Revision ID: 0120
Revises: 0181
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0120'
down_revision = '0181'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('receipt_holds',
    sa.Column('lookup', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('forget_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('lookup', name=op.f('pk_receipt_holds'))
    )
    op.create_index(op.f('ix_receipt_holds_forget_on'), 'receipt_holds', ['forget_on'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_receipt_holds_forget_on'), table_name='receipt_holds')
    op.drop_table('receipt_holds')
