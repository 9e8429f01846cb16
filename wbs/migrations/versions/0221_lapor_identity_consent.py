"""SP4N-LAPOR! identity consent (issue 10): the reporter's consent, revocable until sent

Revision ID: 0221
Revises: 0220
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0221'
down_revision = '0220'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lapor_identity_consents',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('identity_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.CheckConstraint("state IN ('given', 'revoked', 'sent', 'withheld')",
                           name=op.f('ck_lapor_identity_consents_state')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_lapor_identity_consents_case_id_cases')),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_lapor_identity_consents')),
    )


def downgrade() -> None:
    op.drop_table('lapor_identity_consents')
