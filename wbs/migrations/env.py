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
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    if engine is not given:
        engine.dispose()


run()
