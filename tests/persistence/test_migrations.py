"""Migrations are the only way the schema is made; from empty to head they match the models."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from persistence import migrate
from persistence.db import Database
from persistence.tables import METADATA
from tests.conftest import _pg_admin, pg_url_for

pytestmark = pytest.mark.anyio


async def _diff_against_models(db: Database) -> list:
    async with db.writer.connect() as conn:
        return await conn.run_sync(lambda c: compare_metadata(
            MigrationContext.configure(c, opts={"compare_type": True}), METADATA))


async def _check_empty_to_head(url: str) -> None:
    db = Database(url)
    try:
        assert await migrate.current_revision(db.writer) is None
        await migrate.upgrade(db.writer)
        assert await migrate.current_revision(db.writer) == migrate.head_revision()
        assert await _diff_against_models(db) == []
        async with db.reader.connect() as conn:
            channels = (await conn.execute(sa.text("SELECT code FROM channels ORDER BY code"))
                        ).scalars().all()
        assert channels == ["call_center", "marketplace:amazon", "store", "web"]
        await migrate.upgrade(db.writer)  # running again is a no-op
        await migrate.downgrade(db.writer, "base")
        async with db.reader.connect() as conn:
            left = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert left == ["alembic_version"]
    finally:
        await db.dispose()


async def test_empty_sqlite_database_migrates_to_head_and_matches_the_models(tmp_path):
    await _check_empty_to_head(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
async def test_empty_postgres_database_migrates_to_head_and_matches_the_models(pg_database):
    name = f"promessa_migr_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        await _check_empty_to_head(pg_url_for(name))
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
