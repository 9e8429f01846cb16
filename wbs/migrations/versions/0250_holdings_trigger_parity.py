"""the holdings' next deadline follows a wrap updated into a unit content wrap on SQLite, and
the case a deadline moves away from on both databases (review of issue 12)

0212 kept `case_key_wraps.next_due` by triggers on deadlines (insert, update, delete) and on a
new wrap. Two changes were missed: on SQLite a wrap that *becomes* a unit content wrap by
UPDATE took its received_on (0211) but not its next deadline, and a wrap that stops being one
kept both (PostgreSQL's BEFORE trigger sets or clears both); and a deadline moved to another
case (UPDATE OF case_id) refreshed the new case's holdings but left the old case's next_due
naming a deadline it no longer has, on both databases.

Revision ID: 0250
Revises: 0230
"""

from __future__ import annotations

from alembic import op


revision = '0250'
down_revision = '0230'
branch_labels = None
depends_on = None

UNIT_CONTENT = "purpose = 'content' AND recipient_kind = 'unit'"
_NEXT = "(SELECT min(due_on) FROM deadlines WHERE case_id = {case} AND met_on IS NULL)"

# PostgreSQL: 0212's function, refreshing the old case too when a deadline changes case.
_PG_FUNCTION = """
    CREATE OR REPLACE FUNCTION wbs_deadline_next_due() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        changed integer;
    BEGIN
        IF TG_OP = 'DELETE' THEN changed := OLD.case_id; ELSE changed := NEW.case_id;
        END IF;
        UPDATE case_key_wraps SET next_due = (SELECT min(due_on) FROM deadlines
                                               WHERE case_id = changed
                                                 AND met_on IS NULL)
         WHERE case_id = changed AND purpose = 'content' AND recipient_kind = 'unit';
        IF TG_OP = 'UPDATE' AND OLD.case_id IS DISTINCT FROM NEW.case_id THEN
            UPDATE case_key_wraps SET next_due = (SELECT min(due_on) FROM deadlines
                                                   WHERE case_id = OLD.case_id
                                                     AND met_on IS NULL)
             WHERE case_id = OLD.case_id AND purpose = 'content'
               AND recipient_kind = 'unit';
        END IF;
        RETURN NULL;
    END $$"""

_PG_FUNCTION_0212 = """
    CREATE OR REPLACE FUNCTION wbs_deadline_next_due() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
    END $$"""

# SQLite: what PostgreSQL's BEFORE trigger on case_key_wraps does, and the old case's refresh.
_SQLITE = {
    "case_key_wraps_next_due_update":
        "CREATE TRIGGER case_key_wraps_next_due_update AFTER UPDATE OF case_id, purpose, "
        "recipient_kind ON case_key_wraps "
        "WHEN NEW.purpose = 'content' AND NEW.recipient_kind = 'unit' "
        "BEGIN UPDATE case_key_wraps SET next_due = " + _NEXT.format(case="NEW.case_id")
        + " WHERE id = NEW.id; END",
    "case_key_wraps_holding_cleared":
        "CREATE TRIGGER case_key_wraps_holding_cleared AFTER UPDATE OF case_id, purpose, "
        "recipient_kind ON case_key_wraps "
        "WHEN NOT (NEW.purpose = 'content' AND NEW.recipient_kind = 'unit') "
        "AND (NEW.received_on IS NOT NULL OR NEW.next_due IS NOT NULL) "
        "BEGIN UPDATE case_key_wraps SET received_on = NULL, next_due = NULL "
        "WHERE id = NEW.id; END",
    "deadlines_moved_next_due":
        "CREATE TRIGGER deadlines_moved_next_due AFTER UPDATE OF case_id ON deadlines "
        "WHEN OLD.case_id IS NOT NEW.case_id "
        "BEGIN UPDATE case_key_wraps SET next_due = " + _NEXT.format(case="OLD.case_id")
        + f" WHERE case_id = OLD.case_id AND {UNIT_CONTENT}; END",
}


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION)
    else:
        for statement in _SQLITE.values():
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute(_PG_FUNCTION_0212)
    else:
        for name in _SQLITE:
            op.execute(f"DROP TRIGGER {name}")
