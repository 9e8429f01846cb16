"""profile kinds (issue 10): the regulation's kind of a case beside its workflow kind

Revision ID: 0220
Revises: 0200

Nullable, without a backfill: a case from before counts under its kind's national name
(`wbs.profiles.kinds.national_key`), so the migration is one ALTER TABLE ADD COLUMN on both
databases and rewrites no row of a large `cases` table. The statistics roll-up (0200) gains
the dimension: every day it holds is marked dirty, so it is counted from the cases until the
roll-up job has recomputed it with the new rows (`wbs.reports.rollup`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0220'
down_revision = '0200'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('profile_kind', sa.String(length=40), nullable=True))
    op.execute("INSERT INTO stat_dirty_days (day) SELECT day FROM stat_days")


def downgrade() -> None:
    sqlite = op.get_context().dialect.name == 'sqlite'
    # SQLite drops a column by rebuilding the table (create a copy, DROP, RENAME): the RENAME
    # fails while 0200's roll-up triggers on case_tasks/case_events/deadlines name `cases`, and
    # the triggers on `cases` itself go with the old table. They are set aside (their own SQL,
    # as stored) and recreated after the rebuild.
    saved: list[tuple[str, str]] = []
    if sqlite:
        saved = [(name, sql) for name, sql in op.get_bind().execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).all()]
        for name, _sql in saved:
            op.execute(f'DROP TRIGGER "{name}"')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('profile_kind')
    for _name, sql in saved:
        op.execute(sql)
