"""SP4N-LAPOR! outbox and tracking numbers; compensation claims

Revision ID: 0150
Revises: 0170
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0150'
down_revision = '0170'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lapor_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('payload_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=32), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.CheckConstraint("kind IN ('case', 'status')", name=op.f('ck_lapor_outbox_kind')),
    sa.CheckConstraint("state IN ('pending', 'delivered', 'failed', 'exported')",
                       name=op.f('ck_lapor_outbox_state')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                            name=op.f('fk_lapor_outbox_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lapor_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_lapor_outbox_idempotency_key'))
    )
    op.create_index(op.f('ix_lapor_outbox_case_id'), 'lapor_outbox', ['case_id'], unique=False)
    op.create_index('ix_lapor_outbox_due', 'lapor_outbox', ['state', 'next_attempt_at'],
                    unique=False)
    op.create_table('lapor_references',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                            name=op.f('fk_lapor_references_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_lapor_references')),
    sa.UniqueConstraint('tracking_number', name=op.f('uq_lapor_references_tracking_number'))
    )
    op.create_table('compensation_claims',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('items_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('claimed_on', sa.Date(), nullable=False),
    sa.Column('file_complete_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('payment_due_on', sa.Date(), nullable=True),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                            name=op.f('fk_compensation_claims_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_compensation_claims'))
    )


def downgrade() -> None:
    op.drop_table('compensation_claims')
    op.drop_table('lapor_references')
    op.drop_index('ix_lapor_outbox_due', table_name='lapor_outbox')
    op.drop_index(op.f('ix_lapor_outbox_case_id'), table_name='lapor_outbox')
    op.drop_table('lapor_outbox')
