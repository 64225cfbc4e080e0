"""Alembic environment: the engine comes from ``servicedb.migrate`` via config attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import servicedb.models  # noqa: F401 - registers every table on the metadata
from servicedb.base import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through servicedb.migrate, which supplies the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
