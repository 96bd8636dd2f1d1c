"""Alembic environment: runs migrations on the connection `persistence.migrate` hands over."""

from __future__ import annotations

from alembic import context

from persistence.tables import METADATA

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `promessa migrate` (persistence.migrate)")

context.configure(connection=connection, target_metadata=METADATA,
                  render_as_batch=connection.dialect.name == "sqlite",
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
