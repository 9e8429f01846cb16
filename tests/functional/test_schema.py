"""The models and the Alembic head describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from wbs.models import Base


def test_models_match_migration_head(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_audit_table_refuses_update_and_delete_on_postgresql(db_url: str) -> None:
    import pytest
    from sqlalchemy.exc import DBAPIError

    if not db_url.startswith("postgresql"):
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on signatures")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_entries (seq, occurred_at, actor, role, action, outcome, reason, "
            "details, leaf_hash, root_hash, signature) VALUES (1, '2026-01-01', 'a', 'system', "
            "'x', 'allowed', '', '{}', :h, :h, :s)"), {"h": b"\0" * 32, "s": b"\0" * 64})
    for statement in ("UPDATE audit_entries SET actor = 'b'", "DELETE FROM audit_entries",
                      "TRUNCATE audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_entries")).scalar_one() == "a"
    engine.dispose()
