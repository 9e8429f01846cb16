"""a version token of the rules in force, changed by triggers, so each process may cache the
rules and the calendar and check them in one read (issue 12)

Revision ID: 0210
Revises: 0221
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op


revision = '0210'
down_revision = '0221'
branch_labels = None
depends_on = None

# The tables the rules in force are built from (wbs.cases.deadlines.rules_snapshot).
WATCHED = ('calendar_overrides', 'deadline_rules', 'rule_profile')
_SQLITE_BUMP = "UPDATE rules_version SET token = random() WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        'rules_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_rules_version_single')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rules_version')),
    )
    # A random first value: two databases never share a token unless one is a copy of the
    # other (and then they share the rules too).
    op.execute(sa.text("INSERT INTO rules_version (id, token) VALUES (1, :token)")
               .bindparams(token=secrets.randbits(62)))
    if op.get_context().dialect.name == 'postgresql':
        op.execute("""
            CREATE FUNCTION wbs_rules_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
                UPDATE rules_version
                   SET token = floor(random() * 4611686018427387903)::bigint WHERE id = 1;
                RETURN NULL;
            END $$""")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER {table}_rules_version AFTER INSERT OR UPDATE OR DELETE "
                       f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION wbs_rules_changed()")
    else:
        for table in WATCHED:
            for event in ('INSERT', 'UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_{event.lower()}_rules_version AFTER {event} "
                           f"ON {table} BEGIN {_SQLITE_BUMP}; END")


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_rules_version ON {table}")
        op.execute("DROP FUNCTION wbs_rules_changed()")
    else:
        for table in WATCHED:
            for event in ('INSERT', 'UPDATE', 'DELETE'):
                op.execute(f"DROP TRIGGER {table}_{event.lower()}_rules_version")
    op.drop_table('rules_version')
