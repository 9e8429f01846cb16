"""the reporter's time of day: pending audit entries, read counts, dated and batched notices,
codes issued through staff intake

Reporter acts wait in `audit_pending` (random key, day only) until the daily batch append;
reporter reads are counted per day in `reporter_read_counts`; notices keep dates instead of
times (`created_on`, `done_on`) and hold a reporter-caused notice until its batch time
(`batch_at`); `cases.code_needs_replacing` marks a code a staff member has seen.

Revision ID: 0030
Revises: 0050
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0030'
down_revision = '0050'
branch_labels = None
depends_on = None


def _day_of(column: str) -> str:
    # Stored times are UTC: SQLite keeps them as ISO text, PostgreSQL as timestamptz.
    if op.get_bind().dialect.name == 'postgresql':
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"substr({column}, 1, 10)"


def upgrade() -> None:
    op.create_table(
        'audit_pending',
        sa.Column('id', sa.LargeBinary(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('case_number', sa.String(length=32), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.CheckConstraint("outcome IN ('allowed', 'denied', 'failed')",
                           name=op.f('ck_audit_pending_outcome')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_pending')),
    )
    with op.batch_alter_table('audit_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_pending_day'), ['day'], unique=False)
    op.create_table(
        'reporter_read_counts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'kind', name=op.f('pk_reporter_read_counts')),
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_needs_replacing', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('done_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('batch_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text(f"UPDATE notices SET created_on = {_day_of('created_at')}, "
                       f"done_on = {_day_of('done_at')}"))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('created_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('created_at')
        batch_op.drop_column('done_at')


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE notices SET created_at = created_on, done_at = done_on"))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.drop_column('batch_at')
        batch_op.drop_column('done_on')
        batch_op.drop_column('created_on')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('code_needs_replacing')
    op.drop_table('reporter_read_counts')
    with op.batch_alter_table('audit_pending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_pending_day'))
    op.drop_table('audit_pending')
