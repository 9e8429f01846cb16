"""the case's next open deadline beside its holdings, in the holdings index (issue 12)

The overdue filter asked, for each case the unit holds from the newest down, whether it has an
open deadline before today: at a million cases the newest 21,530 had none, so page 1 probed
21,530 cases and their deadlines (0.9 s). With the next deadline in the index that walks the
holdings, the same walk reads it from the index entry and probes nothing. Triggers keep it:
a deadline opened, met, moved or removed sets its case's holdings, and a new holding takes it.

Revision ID: 0212
Revises: 0211
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0212'
down_revision = '0211'
branch_labels = None
depends_on = None

SLICE = 50_000
UNIT_CONTENT = "purpose = 'content' AND recipient_kind = 'unit'"
_NEXT = "(SELECT min(due_on) FROM deadlines WHERE case_id = {case} AND met_on IS NULL)"


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == 'postgresql'
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.add_column(sa.Column('next_due', sa.Date(), nullable=True))
    if postgresql:
        bind = op.get_bind()
        first: int | None = bind.scalar(sa.text("SELECT min(id) FROM cases"))
        while first is not None:
            end = bind.scalar(sa.text("SELECT id FROM cases WHERE id >= :first ORDER BY id "
                                      "OFFSET :slice LIMIT 1"), {"first": first, "slice": SLICE})
            bind.execute(sa.text(
                "UPDATE case_key_wraps AS w SET next_due = d.due FROM "
                "(SELECT case_id, min(due_on) AS due FROM deadlines WHERE met_on IS NULL "
                "AND case_id >= :first AND (case_id < :end OR CAST(:end AS integer) IS NULL) "
                "GROUP BY case_id) AS d WHERE w.case_id = d.case_id "
                "AND w.purpose = 'content' AND w.recipient_kind = 'unit'"),
                {"first": first, "end": end})
            first = end
    else:
        op.execute("UPDATE case_key_wraps SET next_due = "
                   + _NEXT.format(case="case_key_wraps.case_id")
                   + " WHERE purpose = 'content' AND recipient_kind = 'unit'")
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.drop_index('ix_case_key_wraps_unit_list', postgresql_where=sa.text(UNIT_CONTENT),
                         sqlite_where=sa.text(UNIT_CONTENT))
        batch.create_index('ix_case_key_wraps_unit_list',
                           ['recipient_id', 'epoch', 'received_on', 'case_id', 'next_due'],
                           unique=False, postgresql_where=sa.text(UNIT_CONTENT),
                           sqlite_where=sa.text(UNIT_CONTENT))
    if postgresql:
        op.execute("""
            CREATE OR REPLACE FUNCTION wbs_wrap_received_on() RETURNS trigger
            LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
                IF NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' THEN
                    NEW.received_on := (SELECT received_on FROM cases WHERE id = NEW.case_id);
                    NEW.next_due := (SELECT min(due_on) FROM deadlines
                                      WHERE case_id = NEW.case_id AND met_on IS NULL);
                ELSE
                    NEW.received_on := NULL;
                    NEW.next_due := NULL;
                END IF;
                RETURN NEW;
            END $$""")
        op.execute("""
            CREATE FUNCTION wbs_deadline_next_due() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            DECLARE
                changed integer;
            BEGIN
                IF TG_OP = 'DELETE' THEN changed := OLD.case_id; ELSE changed := NEW.case_id;
                END IF;
                UPDATE case_key_wraps SET next_due = (SELECT min(due_on) FROM deadlines
                                                       WHERE case_id = changed
                                                         AND met_on IS NULL)
                 WHERE case_id = changed AND purpose = 'content' AND recipient_kind = 'unit';
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER deadlines_next_due AFTER INSERT OR DELETE OR UPDATE OF "
                   "due_on, met_on, case_id ON deadlines FOR EACH ROW "
                   "EXECUTE FUNCTION wbs_deadline_next_due()")
    else:
        for event, row in (("INSERT", "NEW"), ("UPDATE OF due_on, met_on, case_id", "NEW"),
                           ("DELETE", "OLD")):
            name = event.split()[0].lower()
            op.execute(f"CREATE TRIGGER deadlines_{name}_next_due AFTER {event} ON deadlines "
                       "BEGIN UPDATE case_key_wraps SET next_due = "
                       + _NEXT.format(case=f"{row}.case_id")
                       + f" WHERE case_id = {row}.case_id AND {UNIT_CONTENT}; END")
        op.execute("CREATE TRIGGER case_key_wraps_next_due AFTER INSERT ON case_key_wraps "
                   "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
                   "BEGIN UPDATE case_key_wraps SET next_due = "
                   + _NEXT.format(case="NEW.case_id") + " WHERE id = NEW.id; END")


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER deadlines_next_due ON deadlines")
        op.execute("DROP FUNCTION wbs_deadline_next_due()")
        op.execute("""
            CREATE OR REPLACE FUNCTION wbs_wrap_received_on() RETURNS trigger
            LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            BEGIN
                IF NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' THEN
                    NEW.received_on := (SELECT received_on FROM cases WHERE id = NEW.case_id);
                ELSE
                    NEW.received_on := NULL;
                END IF;
                RETURN NEW;
            END $$""")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER deadlines_{name}_next_due")
        op.execute("DROP TRIGGER case_key_wraps_next_due")
        # SQLite drops a column by copying the table: 0211's triggers on it go with the old
        # one, and the one on cases would name a table that is briefly missing.
        for name in _SQLITE_0211:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('case_key_wraps') as batch:
        batch.drop_index('ix_case_key_wraps_unit_list', postgresql_where=sa.text(UNIT_CONTENT),
                         sqlite_where=sa.text(UNIT_CONTENT))
        batch.create_index('ix_case_key_wraps_unit_list',
                           ['recipient_id', 'epoch', 'received_on', 'case_id'], unique=False,
                           postgresql_where=sa.text(UNIT_CONTENT),
                           sqlite_where=sa.text(UNIT_CONTENT))
        batch.drop_column('next_due')
    if op.get_context().dialect.name != 'postgresql':
        for statement in _SQLITE_0211.values():
            op.execute(statement)


_COPY = ("UPDATE case_key_wraps SET received_on = (SELECT received_on FROM cases "
         "WHERE cases.id = NEW.case_id) WHERE id = NEW.id")
# Migration 0211's SQLite triggers, as it made them.
_SQLITE_0211 = {
    "case_key_wraps_received_on":
        "CREATE TRIGGER case_key_wraps_received_on AFTER INSERT ON case_key_wraps "
        "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
        f"BEGIN {_COPY}; END",
    "case_key_wraps_received_on_update":
        "CREATE TRIGGER case_key_wraps_received_on_update AFTER UPDATE OF case_id, "
        "purpose, recipient_kind ON case_key_wraps "
        "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
        f"BEGIN {_COPY}; END",
    "cases_received_on":
        "CREATE TRIGGER cases_received_on AFTER UPDATE OF received_on ON cases "
        "WHEN OLD.received_on IS NOT NEW.received_on BEGIN "
        "UPDATE case_key_wraps SET received_on = NEW.received_on "
        "WHERE case_id = NEW.id AND purpose = 'content' AND recipient_kind = 'unit'; END",
}
