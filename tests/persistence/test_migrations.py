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


PRE_LIFECYCLE_ROWS = [
    "INSERT INTO locations (code, name, type, line1, city, postal_code, country, latitude, "
    "longitude, capabilities, handling_classes, time_zone, cutoff_time, processing_hours, "
    "cost_per_shipment_minor, cost_per_kg_minor, carbon_factor, active, updated_at) VALUES "
    "('WH', 'W', 'WAREHOUSE', 'x', 'Roma', '00100', 'IT', 41.9, 12.5, 'SHIP', 'STANDARD', "
    "'Europe/Rome', '15:00', 4, 0, 0, 0, TRUE, :at)",
    *(f"INSERT INTO skus (sku, name, product_group, handling, weight_grams, backorderable, "
      f"preorderable, is_kit, updated_at) VALUES ('{s}', '{s}', 'g', 'STANDARD', 1, FALSE, "
      f"FALSE, {kit}, :at)" for s, kit in (("A", "FALSE"), ("B", "FALSE"), ("KIT", "TRUE"))),
    "INSERT INTO kit_components (kit, component, quantity) VALUES ('KIT', 'A', 2), "
    "('KIT', 'B', 1)",
    "INSERT INTO orders (id, number, channel, customer_email, currency, delivery_method, "
    "status, subtotal_minor, shipping_minor, tax_minor, total_minor, placed_at, placed_by, "
    "updated_at) VALUES ('o1', 'PR-000001', 'web', 'a@b.it', 'EUR', 'SHIP', 'ALLOCATED', 0, 0, "
    "0, 0, :at, 'guest', :at)",
    "INSERT INTO order_lines (id, order_id, position, sku, quantity, unit_price_minor, status, "
    "backordered) VALUES ('l1', 'o1', 0, 'KIT', 3, 100, 'ALLOCATED', 0), "
    "('l2', 'o1', 1, 'A', 4, 100, 'ALLOCATED', 0)",
    "INSERT INTO fulfillments (id, order_id, location, status, created_at, updated_at) "
    "VALUES ('f1', 'o1', 'WH', 'ASSIGNED', :at, :at)",
    "INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, sku, quantity) VALUES "
    "('f1', 'l1', 'A', 6), ('f1', 'l1', 'B', 3), ('f1', 'l2', 'A', 4)",
    "INSERT INTO order_timeline (order_id, at, type, message, actor) VALUES "
    "('o1', :at, 'ORDER_PLACED', 'placed', 'guest'), ('o1', :at, 'NOTE', 'n', 'agent:x')",
]


async def _check_lifecycle_upgrade_keeps_data(url: str) -> None:
    from datetime import UTC, datetime

    db = Database(url)
    try:
        await migrate.upgrade(db.writer, "0001")
        async with db.writer.begin() as conn:
            for sql in PRE_LIFECYCLE_ROWS:
                await conn.execute(sa.text(sql), {"at": datetime(2030, 1, 1, tzinfo=UTC)})
        await migrate.upgrade(db.writer, "0002a")
        async with db.reader.connect() as conn:
            units = (await conn.execute(sa.text(
                "SELECT order_line_id, sku, quantity, units FROM fulfillment_lines ORDER BY id"
            ))).all()
            words = (await conn.execute(sa.text(
                "SELECT type, public_message FROM order_timeline ORDER BY id"))).all()
            tags = (await conn.execute(sa.text("SELECT tags, hold_reason FROM orders"))).all()
        # a kit row counts kits (6 A and 3 B are 3 kits), a plain row its own units
        assert [tuple(r) for r in units] == [("l1", "A", 6, 3), ("l1", "B", 3, 3),
                                             ("l2", "A", 4, 4)]
        assert [tuple(r) for r in words] == [("ORDER_PLACED", "We received your order"),
                                             ("NOTE", None)]
        assert [tuple(r) for r in tags] == [("", None)]
        await migrate.downgrade(db.writer, "0001")
        async with db.reader.connect() as conn:
            columns = await conn.run_sync(lambda c: [
                col["name"] for col in sa.inspect(c).get_columns("fulfillment_lines")])
            left = (await conn.execute(sa.text("SELECT COUNT(*) FROM fulfillment_lines"))
                    ).scalar_one()
        assert "units" not in columns and left == 3
    finally:
        await db.dispose()


async def test_sqlite_lifecycle_migration_fills_units_of_existing_kit_rows(tmp_path):
    await _check_lifecycle_upgrade_keeps_data(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
async def test_postgres_lifecycle_migration_fills_units_of_existing_kit_rows(pg_database):
    name = f"promessa_migr_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        await _check_lifecycle_upgrade_keeps_data(pg_url_for(name))
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
