"""The app's SQL, written out by hand for the baselines, and a way to check it still matches.

The texts are what SQLAlchemy compiles for the asyncpg dialect (`$n::TYPE` casts included), so
the baseline and the app send PostgreSQL byte-for-byte the same statements (modulo whitespace).
Each benchmark records the app's statements for a few requests and compares them with what its
baseline sends for the same requests, and warns when they differ (the app changed).
"""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bench.common import Statement

V, INT, BIG, FLOAT, TS = "VARCHAR", "INTEGER", "BIGINT", "FLOAT", "TIMESTAMP WITH TIME ZONE"


def params(start: int, n: int, cast: str = V) -> str:
    return ", ".join(f"${i}::{cast}" for i in range(start, start + n))


def insert(table: str, columns: Sequence[tuple[str, str]]) -> str:
    names = ", ".join(c for c, _ in columns)
    values = ", ".join(f"${i}::{t}" for i, (_, t) in enumerate(columns, 1))
    return f"INSERT INTO {table} ({names}) VALUES ({values})"


# --- reads (persistence/reads.py, persistence/catalog.py) -------------------------------------
IDEMPOTENCY_READ = (
    "SELECT idempotency_keys.key, idempotency_keys.fingerprint, idempotency_keys.order_id, "
    "idempotency_keys.created_at FROM idempotency_keys WHERE idempotency_keys.key = $1::VARCHAR")
CHANNEL_READ = ("SELECT channels.code, channels.name, channels.currencies, "
                "channels.payment_required, channels.sender_name, channels.brand_color, "
                "channels.locale FROM channels "
                "WHERE channels.code = $1::VARCHAR")
IN_CHANNEL = ("(SELECT location_channels.location FROM location_channels "
              "WHERE location_channels.channel = $1::VARCHAR)")
LOCATION_COLUMNS = (", ".join(f"locations.{c}" for c in (
    "code", "name", "type", "line1", "line2", "city", "postal_code", "country", "region",
    "latitude", "longitude", "capabilities", "handling_classes", "time_zone", "cutoff_time",
    "processing_hours", "daily_capacity", "cost_per_shipment_minor", "cost_per_kg_minor",
    "carbon_factor", "active", "updated_at", "ack_minutes", "opening_hours"))
    + ", location_channels.channel")
LOCATIONS_FROM = ("FROM locations LEFT OUTER JOIN location_channels "
                  "ON location_channels.location = locations.code")


def kit_parts(n: int) -> str:
    return ("SELECT kit_components.component FROM kit_components "
            f"WHERE kit_components.kit IN ({params(1, n)})")


def skus_with_prices(n: int) -> str:
    return ("SELECT skus.sku, skus.name, skus.product_group, skus.handling, skus.weight_grams, "
            "skus.backorderable, skus.preorderable, skus.is_kit, skus.updated_at, skus.tax_class, "
            "sku_prices.currency, sku_prices.amount_minor FROM skus LEFT OUTER JOIN sku_prices "
            f"ON sku_prices.sku = skus.sku WHERE skus.sku IN ({params(1, n)})")


def kit_components(n: int) -> str:
    return ("SELECT kit_components.kit, kit_components.component, kit_components.quantity "
            f"FROM kit_components WHERE kit_components.kit IN ({params(1, n)})")


LOCATIONS_IN_CHANNEL = (f"SELECT {LOCATION_COLUMNS} {LOCATIONS_FROM} "
                        f"WHERE locations.code IN {IN_CHANNEL} ORDER BY locations.code")


def locations_by_code(n: int) -> str:
    return (f"SELECT {LOCATION_COLUMNS} {LOCATIONS_FROM} "
            f"WHERE locations.code IN ({params(1, n)}) ORDER BY locations.code")


def levels_in_channel(n: int, *, ordered: bool) -> str:
    """Levels of n SKUs ($2..) at the channel's ($1) locations."""
    sql = ("SELECT inventory_levels.sku, inventory_levels.location, inventory_levels.on_hand, "
           "inventory_levels.reserved, inventory_levels.safety_stock FROM inventory_levels "
           f"WHERE inventory_levels.sku IN ({params(2, n)}) "
           f"AND inventory_levels.location IN {IN_CHANNEL}")
    return sql + (" ORDER BY inventory_levels.sku, inventory_levels.location" if ordered else "")


def open_incoming(n: int, *, only_unallocated: bool) -> str:
    return ("SELECT incoming.id, incoming.sku, incoming.location, incoming.quantity, "
            "incoming.allocated, incoming.expected_at, incoming.received_at, "
            "incoming.received_quantity, incoming.created_at "
            f"FROM incoming WHERE incoming.sku IN ({params(1, n)}) "
            "AND incoming.received_at IS NULL"
            + (" AND incoming.quantity > incoming.allocated" if only_unallocated else "")
            + " ORDER BY incoming.expected_at, incoming.id")


CURRENT_POLICY = (
    "SELECT sourcing_policies.channel, sourcing_policies.version, sourcing_policies.strategy, "
    "sourcing_policies.body, sourcing_policies.created_at, sourcing_policies.created_by FROM "
    "sourcing_policies JOIN (SELECT sourcing_policies.channel AS channel, "
    "max(sourcing_policies.version) AS version FROM sourcing_policies WHERE "
    "sourcing_policies.channel IN ($1::VARCHAR, $2::VARCHAR) GROUP BY sourcing_policies.channel)"
    " AS anon_1 ON sourcing_policies.channel = anon_1.channel AND sourcing_policies.version = "
    "anon_1.version")


def downtime_not_over(n: int) -> str:
    """Downtime at n locations ($2..) not over at $1."""
    return ("SELECT location_downtime.id, location_downtime.location, location_downtime.starts_at,"
            " location_downtime.ends_at, location_downtime.reason, location_downtime.created_by, "
            "location_downtime.created_at FROM location_downtime WHERE location_downtime.location "
            f"IN ({params(2, n)}) AND location_downtime.ends_at > $1::{TS} "
            "ORDER BY location_downtime.starts_at")


# --- the placeOrder write transaction (persistence/inventory.py, persistence/uow.py) --------
CLAIM = ("INSERT INTO idempotency_keys (key, fingerprint, order_id, created_at) VALUES "
         "($1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4::TIMESTAMP WITH TIME ZONE) "
         "ON CONFLICT DO NOTHING RETURNING idempotency_keys.key")
RESERVE = (
    "UPDATE inventory_levels SET reserved=(inventory_levels.reserved + $1::INTEGER), "
    "updated_at=$2::TIMESTAMP WITH TIME ZONE WHERE inventory_levels.sku = $3::VARCHAR "
    "AND inventory_levels.location = $4::VARCHAR AND (inventory_levels.on_hand - "
    "inventory_levels.reserved) - inventory_levels.safety_stock >= $1::INTEGER RETURNING "
    "inventory_levels.sku, inventory_levels.location, inventory_levels.on_hand, "
    "inventory_levels.reserved, inventory_levels.safety_stock")
NEXT_NUMBER = "SELECT nextval('order_number_seq')"
SAVE_DECISION = (
    "INSERT INTO sourcing_decisions (id, order_id, sequence, kind, policy_channel, "
    "policy_version, strategy, body, decided_at) SELECT $1::VARCHAR AS anon_1, $2::VARCHAR AS "
    "anon_2, coalesce(max(sourcing_decisions.sequence), $3::INTEGER) + $4::INTEGER AS anon_3, "
    "$5::VARCHAR AS anon_4, $6::VARCHAR AS anon_5, $7::INTEGER AS anon_6, $8::VARCHAR AS anon_7,"
    f" $9::VARCHAR AS anon_8, $10::{TS} AS anon_9 FROM sourcing_decisions "
    "WHERE sourcing_decisions.order_id = $11::VARCHAR")
INSERT_ORDER = insert("orders", [
    ("id", V), ("number", V), ("channel", V), ("customer_email", V), ("customer_name", V),
    ("customer_phone", V), ("customer_locale", V), ("currency", V), ("delivery_method", V),
    ("service_level", V),
    ("ship_line1", V), ("ship_line2", V), ("ship_city", V), ("ship_postal_code", V),
    ("ship_country", V), ("ship_region", V), ("ship_latitude", FLOAT),
    ("ship_longitude", FLOAT), ("pickup_location", V), ("promise_option_id", V), ("status", V),
    ("subtotal_minor", BIG), ("shipping_minor", BIG), ("tax_minor", BIG), ("total_minor", BIG),
    ("placed_at", TS), ("placed_by", V), ("updated_at", TS), ("hold_reason", V), ("tags", V),
    ("promised_earliest", TS), ("promised_latest", TS)])
INSERT_ORDER_LINE = insert("order_lines", [
    ("id", V), ("order_id", V), ("position", INT), ("sku", V), ("quantity", INT),
    ("unit_price_minor", BIG), ("status", V), ("backordered", INT), ("incoming_id", V),
    ("cancelled", INT), ("returned", INT), ("vat_rate_bp", INT)])
INSERT_FULFILLMENT = insert("fulfillments", [
    ("id", V), ("order_id", V), ("location", V), ("status", V), ("service_level", V),
    ("carrier", V), ("tracking_number", V), ("created_at", TS), ("updated_at", TS),
    ("reason", V), ("shipped_at", TS), ("delivered_at", TS), ("transfer_to", V)])
INSERT_FULFILLMENT_LINE = insert("fulfillment_lines", [
    ("fulfillment_id", V), ("order_line_id", V), ("sku", V), ("quantity", INT), ("units", INT)])
INSERT_TIMELINE = insert("order_timeline", [
    ("order_id", V), ("at", TS), ("type", V), ("message", V), ("actor", V), ("before", V),
    ("after", V), ("public_message", V)])
INSERT_LEDGER = insert("inventory_ledger", [
    ("sku", V), ("location", V), ("on_hand_delta", INT), ("reserved_delta", INT),
    ("reason", V), ("reference", V), ("actor", V), ("at", TS)])
INSERT_OUTBOX = insert("outbox", [
    ("event_id", V), ("stream", V), ("sequence", BIG), ("type", V), ("at", TS),
    ("payload", V), ("created_at", TS)])


def bump_streams(n: int) -> str:
    values = ", ".join(f"(${2 * i + 1}::VARCHAR, ${2 * i + 2}::BIGINT)" for i in range(n))
    return (f"INSERT INTO outbox_streams (stream, last_sequence) VALUES {values} "
            "ON CONFLICT (stream) DO UPDATE SET last_sequence = (outbox_streams.last_sequence "
            "+ excluded.last_sequence) RETURNING outbox_streams.stream, "
            "outbox_streams.last_sequence")


# Tables whose primary key the database generates: SQLAlchemy asks for it back (RETURNING)
# when it inserts a single row into one.
SERIAL_TABLES = {"fulfillment_lines", "order_timeline", "inventory_ledger", "outbox"}


async def insert_rows(conn: Any, sql: str, rows: list[tuple]) -> None:
    """As SQLAlchemy sends a list of parameter sets: one row executes (with RETURNING id when
    the table has a generated key), more use executemany."""
    if len(rows) == 1:
        table = sql.split()[2]
        if table in SERIAL_TABLES:
            sql += f" RETURNING {table}.id"
        await conn.fetch(sql, *rows[0])
    elif rows:
        await conn.executemany(sql, rows)


# --- recording what a baseline sends -----------------------------------------------------------
class Traced:
    """An asyncpg connection that records statements (the benchmarks' check run only)."""

    def __init__(self, conn: asyncpg.Connection, seen: list[Statement]) -> None:
        self.conn, self.seen = conn, seen

    async def fetch(self, sql: str, *args: Any) -> list:
        self.seen.append(Statement(sql))
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.seen.append(Statement(sql))
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.seen.append(Statement(sql))
        return await self.conn.fetchval(sql, *args)

    async def executemany(self, sql: str, rows: list[tuple]) -> None:
        self.seen.append(Statement(sql, True, len(rows)))
        await self.conn.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.seen.append(Statement("BEGIN"))
        try:
            async with self.conn.transaction():
                yield
        except BaseException:
            self.seen.append(Statement("ROLLBACK"))
            raise
        self.seen.append(Statement("COMMIT"))


class RawDb:
    """An asyncpg pool; `transaction()` checks a connection out and runs BEGIN … COMMIT on it,
    as `engine.begin()` does in the app. Pass `seen` to record the statements."""

    def __init__(self, pool: asyncpg.Pool, seen: list[Statement] | None = None) -> None:
        self.pool, self.seen = pool, seen

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn:
            if self.seen is None:
                async with conn.transaction():
                    yield conn
            else:
                traced = Traced(conn, self.seen)
                async with traced.transaction():
                    yield traced


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """SQLAlchemy sends nothing when a connection without an open transaction goes back to its
    pool; asyncpg's default reset would add `RESET ALL` & co. (one more round trip)."""


async def create_pool(dsn: str, *, pool_size: int) -> asyncpg.Pool:
    """Sized like the app's engine: `pool_size` kept, half as many again as overflow."""
    return await asyncpg.create_pool(dsn, min_size=pool_size,
                                     max_size=pool_size + max(1, pool_size // 2),
                                     reset=_no_reset)


# --- comparing ---------------------------------------------------------------------------------
def normalise(statements: list[Statement]) -> list[str]:
    out = []
    for s in statements:
        text = " ".join(s.sql.split())
        if s.executemany:
            text += f"  -- executemany x{s.rows}"
        out.append(text)
    return out


def compare(label: str, app: list[Statement], baseline: list[Statement]) -> list[str]:
    """Lines of a unified diff between the two statement lists; empty when they agree."""
    return list(difflib.unified_diff(normalise(app), normalise(baseline), f"app {label}",
                                     f"baseline {label}", lineterm="", n=1))


def count(statements: list[Statement]) -> tuple[int, int]:
    """(SQL statements, transactions) in a recorded list."""
    transactions = sum(1 for s in statements if s.sql == "BEGIN")
    control = sum(1 for s in statements if s.sql in ("BEGIN", "COMMIT", "ROLLBACK"))
    return len(statements) - control, transactions
