"""regional rule profiles: a limit's start event; the chosen profile and its local changes

Revision ID: 0140
Revises: 0161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0140'
down_revision = '0161'
branch_labels = None
depends_on = None


_OLD = ("channel IN ('web', 'api', 'letter', 'face_to_face', 'telephone', 'sms', 'whatsapp', "
        "'social_media', 'complaint_box', 'radio')")
_NEW = ("channel IN ('web', 'api', 'letter', 'face_to_face', 'telephone', 'sms', 'whatsapp', "
        "'social_media', 'complaint_box', 'radio', 'email')")


def _channels(check: str) -> None:
    # SQLite cannot alter a CHECK: batch mode rebuilds the table with the new one.
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint(op.f('ck_cases_channel'), type_='check')
        batch.create_check_constraint(op.f('ck_cases_channel'), check)


def upgrade() -> None:
    _channels(_NEW)
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('shield_reported_unit', sa.Boolean(), nullable=False,
                                   server_default=sa.text('false')))
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
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('shield_reported_unit')
    _channels(_OLD)
    op.drop_table('rule_profile')
    with op.batch_alter_table('deadline_rules') as batch:
        batch.drop_column('start')
