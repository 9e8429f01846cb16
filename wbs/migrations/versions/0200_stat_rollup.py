"""statistics roll-up (issue 11, done-when 6): per-day figures, kept in step by triggers

The triggers mark a day dirty in the same transaction as any write to a case received that day,
to its tasks or timeline, or to a deadline of it or starting that day; `wbs.reports.rollup.refresh` (a
periodic job) recomputes the dirty days, and the statistics read a dirty or unrefreshed day
from the cases themselves, so a figure never depends on whether the job has run. Every day
holding data starts dirty here.

Revision ID: 0200
Revises: 0185
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0200'
down_revision = '0185'
branch_labels = None
depends_on = None

# table -> the days a changed row of it makes dirty (SQL over a row alias `r`)
_DAYS = {
    'cases': ["r.received_on"],
    'case_tasks': ["(SELECT c.received_on FROM cases c WHERE c.id = r.case_id)"],
    'case_events': ["(SELECT c.received_on FROM cases c WHERE c.id = r.case_id)"],
    'deadlines': ["(SELECT c.received_on FROM cases c WHERE c.id = r.case_id)", "r.start_on"],
}


def _pg_triggers() -> None:
    # The functions keep the schema they were made in: a restore (pg_dump sets an empty
    # search_path) or any session with another path still finds the tables.
    for table, days in _DAYS.items():
        def marks(rows: str) -> str:
            return " ".join(
                f"INSERT INTO stat_dirty_days (day) SELECT DISTINCT d FROM "
                f"(SELECT {day} AS d FROM {rows} r) x WHERE d IS NOT NULL;" for day in days)
        op.execute(f"""
CREATE FUNCTION stat_mark_{table}() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN {marks('new_rows')} END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {marks('old_rows')} END IF;
  RETURN NULL;
END $$""")
        for event, refs in (('INSERT', 'NEW TABLE AS new_rows'),
                            ('UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'),
                            ('DELETE', 'OLD TABLE AS old_rows')):
            op.execute(f"CREATE TRIGGER stat_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {refs} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION stat_mark_{table}()")


def _sqlite_triggers() -> None:
    for table, days in _DAYS.items():
        for event, rows in (('INSERT', ('NEW',)), ('UPDATE', ('OLD', 'NEW')),
                            ('DELETE', ('OLD',))):
            body = " ".join(
                f"INSERT INTO stat_dirty_days (day) SELECT {day.replace('r.', row + '.')} "
                f"WHERE {day.replace('r.', row + '.')} IS NOT NULL;"
                for row in rows for day in days)
            op.execute(f"CREATE TRIGGER stat_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {body} END")


def upgrade() -> None:
    op.create_table('stat_dirty_days',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_dirty_days')))
    op.create_index(op.f('ix_stat_dirty_days_day'), 'stat_dirty_days', ['day'], unique=False)
    op.create_table('stat_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_stat_days')))
    op.create_table('stat_case_days',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=True),
    sa.Column('grp', sa.String(length=16), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in (
        'received', 'responded', 'response_wd', 'completed', 'completion_wd', 'overdue',
        'completed_year')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_case_days')))
    op.create_index(op.f('ix_stat_case_days_day'), 'stat_case_days', ['day'], unique=False)
    op.create_table('stat_limit_days',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in (
        'on_time', 'late', 'overdue', 'running')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stat_limit_days')))
    op.create_index(op.f('ix_stat_limit_days_day'), 'stat_limit_days', ['day'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        _pg_triggers()
    else:
        _sqlite_triggers()
    op.execute("INSERT INTO stat_dirty_days (day) SELECT received_on FROM cases "
               "UNION SELECT start_on FROM deadlines")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in _DAYS:
        for event in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER stat_{table}_{event}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION stat_mark_{table}()")
    for table in ('stat_limit_days', 'stat_case_days', 'stat_days', 'stat_dirty_days'):
        op.drop_table(table)
