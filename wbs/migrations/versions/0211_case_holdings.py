"""the day a case was received, on the wraps of its content key to units, and an index that
walks the cases a unit holds in list order (issue 12)

A staff member sees the cases their unit holds a content key for, newest first. With the day
of receipt beside the holder, one index gives both the visibility and the order: a page is the
first 51 entries of it, however few of a million cases the unit holds (a liaison's page 1 at a
million cases walked 8,400 cases of the whole list to find 51 of theirs). Triggers keep the
copy: a wrap takes the case's day when it is written, and a case's changed day goes to its
wraps.

Revision ID: 0211
Revises: 0210
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0211'
down_revision = '0210'
branch_labels = None
depends_on = None

SLICE = 50_000
UNIT_CONTENT = "purpose = 'content' AND recipient_kind = 'unit'"


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == 'postgresql'
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.add_column(sa.Column('received_on', sa.Date(), nullable=True))
    if postgresql:
        # In slices of case ids: a million cases' wraps in one statement ran past a minute.
        bind = op.get_bind()
        first: int | None = bind.scalar(sa.text("SELECT min(id) FROM cases"))
        while first is not None:
            end = bind.scalar(sa.text("SELECT id FROM cases WHERE id >= :first ORDER BY id "
                                      "OFFSET :slice LIMIT 1"), {"first": first, "slice": SLICE})
            bind.execute(sa.text(
                "UPDATE case_key_wraps AS w SET received_on = c.received_on FROM cases AS c "
                "WHERE c.id = w.case_id AND w.case_id >= :first "
                "AND (w.case_id < :end OR CAST(:end AS integer) IS NULL) "
                "AND w.purpose = 'content' AND w.recipient_kind = 'unit'"),
                {"first": first, "end": end})
            first = end
    else:
        op.execute("UPDATE case_key_wraps SET received_on = (SELECT received_on FROM cases "
                   "WHERE cases.id = case_key_wraps.case_id) "
                   "WHERE purpose = 'content' AND recipient_kind = 'unit'")
    with op.batch_alter_table('case_key_wraps') as batch:
        # Partial: the unit wraps of the content key, a third of the wraps (the list names
        # both values as literals, so the planner can match them to it).
        batch.create_index('ix_case_key_wraps_unit_list',
                           ['recipient_id', 'epoch', 'received_on', 'case_id'], unique=False,
                           postgresql_where=sa.text(UNIT_CONTENT), sqlite_where=sa.text(UNIT_CONTENT))
    if postgresql:
        op.execute("""
            CREATE FUNCTION wbs_wrap_received_on() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
                IF NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' THEN
                    NEW.received_on := (SELECT received_on FROM cases WHERE id = NEW.case_id);
                ELSE
                    NEW.received_on := NULL;
                END IF;
                RETURN NEW;
            END $$""")
        op.execute("CREATE TRIGGER case_key_wraps_received_on BEFORE INSERT OR UPDATE OF "
                   "case_id, purpose, recipient_kind ON case_key_wraps FOR EACH ROW "
                   "EXECUTE FUNCTION wbs_wrap_received_on()")
        op.execute("""
            CREATE FUNCTION wbs_case_received_on() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
                UPDATE case_key_wraps SET received_on = NEW.received_on
                 WHERE case_id = NEW.id AND purpose = 'content' AND recipient_kind = 'unit';
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER cases_received_on AFTER UPDATE OF received_on ON cases "
                   "FOR EACH ROW WHEN (OLD.received_on IS DISTINCT FROM NEW.received_on) "
                   "EXECUTE FUNCTION wbs_case_received_on()")
    else:
        copy = ("UPDATE case_key_wraps SET received_on = (SELECT received_on FROM cases "
                "WHERE cases.id = NEW.case_id) WHERE id = NEW.id")
        op.execute("CREATE TRIGGER case_key_wraps_received_on AFTER INSERT ON case_key_wraps "
                   "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
                   f"BEGIN {copy}; END")
        op.execute("CREATE TRIGGER case_key_wraps_received_on_update AFTER UPDATE OF case_id, "
                   "purpose, recipient_kind ON case_key_wraps "
                   "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
                   f"BEGIN {copy}; END")
        op.execute("CREATE TRIGGER cases_received_on AFTER UPDATE OF received_on ON cases "
                   "WHEN OLD.received_on IS NOT NEW.received_on BEGIN "
                   "UPDATE case_key_wraps SET received_on = NEW.received_on "
                   "WHERE case_id = NEW.id AND purpose = 'content' AND recipient_kind = 'unit'; "
                   "END")


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER cases_received_on ON cases")
        op.execute("DROP TRIGGER case_key_wraps_received_on ON case_key_wraps")
        op.execute("DROP FUNCTION wbs_case_received_on()")
        op.execute("DROP FUNCTION wbs_wrap_received_on()")
    else:
        op.execute("DROP TRIGGER cases_received_on")
        op.execute("DROP TRIGGER case_key_wraps_received_on_update")
        op.execute("DROP TRIGGER case_key_wraps_received_on")
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.drop_index('ix_case_key_wraps_unit_list', postgresql_where=sa.text(UNIT_CONTENT),
                         sqlite_where=sa.text(UNIT_CONTENT))
        batch.drop_column('received_on')
