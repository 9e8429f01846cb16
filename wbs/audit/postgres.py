"""PostgreSQL DDL that makes audit_entries append-only, for the Alembic migration to run.

The trigger is a guard rail against mistakes and casual tampering: a table owner or superuser
can still disable it, which is why every entry is also signed and hashed into the tree. The app
should connect as a role that does not own the table and holds no UPDATE, DELETE or TRUNCATE
grant on it; then the trigger and the grants both stand in an intruder's way.
"""

from __future__ import annotations

PG_APPEND_ONLY_SQL: list[str] = [
    # Statement-level triggers fire even when no row matches, so any attempt is refused and
    # logged by PostgreSQL, not only the ones that would have changed something.
    """
    CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_entries_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
    """,
    """
    CREATE TRIGGER audit_entries_no_truncate
    BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()
    """,
]

PG_DROP_APPEND_ONLY_SQL: list[str] = [
    "DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries",
    "DROP TRIGGER IF EXISTS audit_entries_no_update_delete ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_entries_append_only()",
]
