"""re-keying (issue 13): content key epochs and the reporter's public key

Revision ID: 0185
Revises: 0140
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0185'
down_revision = '0140'
branch_labels = None
depends_on = None


def _epoch(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text('0'), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(_epoch('key_epoch'))
        batch.add_column(sa.Column('reporter_public_key', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(_epoch('key_epoch'))
    with op.batch_alter_table('attachments') as batch:
        batch.add_column(_epoch('key_epoch'))
    with op.batch_alter_table('compensation_claims') as batch:
        batch.add_column(_epoch('items_epoch'))
        batch.add_column(_epoch('decision_epoch'))
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.add_column(_epoch('epoch'))
        batch.drop_constraint('uq_case_key_wraps_case_id', type_='unique')
        batch.create_unique_constraint(
            'uq_case_key_wraps_case_id',
            ['case_id', 'purpose', 'recipient_kind', 'recipient_id', 'epoch'])


def downgrade() -> None:
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.drop_constraint('uq_case_key_wraps_case_id', type_='unique')
        batch.create_unique_constraint(
            'uq_case_key_wraps_case_id', ['case_id', 'purpose', 'recipient_kind', 'recipient_id'])
        batch.drop_column('epoch')
    with op.batch_alter_table('compensation_claims') as batch:
        batch.drop_column('decision_epoch')
        batch.drop_column('items_epoch')
    with op.batch_alter_table('attachments') as batch:
        batch.drop_column('key_epoch')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('key_epoch')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('reporter_public_key')
        batch.drop_column('key_epoch')
