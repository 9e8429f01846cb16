"""Alembic environment: runs migrations on the engine given by wbs.migrate (or the URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from wbs.db import make_engine
from wbs.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    given = config.attributes.get("engine")
    engine = given if isinstance(given, Engine) else make_engine(
        config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            # Batch mode rebuilds a table (copy, drop, rename) to change a CHECK: with foreign
            # keys on, dropping `cases` fails once other tables point at it. The pragma only
            # works outside a transaction, so it is set on the raw connection before ours
            # begins; the keys are checked below and switched on again.
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=sqlite, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} broken foreign keys")
        connection.commit()
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")
    if engine is not given:
        engine.dispose()


run()
