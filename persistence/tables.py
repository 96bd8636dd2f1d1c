"""SQLModel tables. Only migrations create them; `tests/persistence` checks the two agree.

Money is kept in minor units (cents) as integers, times as UTC, ids as UUID strings made in
Python (so an insert needs no RETURNING round trip).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both engines."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect
                             ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table(row: type[SQLModel]) -> sa.Table:
    """The Core table of a table class: its `__table__`, which SQLModel leaves untyped."""
    return cast(sa.Table, sa.inspect(row).local_table)


def utc(**kw: Any) -> Any:
    """A UTC timestamp column; `Field` is typed `Any` so it fits any annotated attribute."""
    return Field(sa_type=UtcDateTime, **kw)


class ChannelRow(SQLModel, table=True):
    __tablename__ = "channels"
    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    currencies: str = Field(max_length=200)  # comma separated, default first
    payment_required: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # how its mails look: the sender's display name, the accent colour, the default language
    sender_name: str | None = Field(default=None, max_length=100)
    brand_color: str | None = Field(default=None, max_length=7)
    locale: str | None = Field(default=None, max_length=16)


class LocationRow(SQLModel, table=True):
    __tablename__ = "locations"
    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(max_length=16)
    line1: str = Field(max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(max_length=200)
    postal_code: str = Field(max_length=16)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=200)
    latitude: float
    longitude: float
    capabilities: str = Field(max_length=200)
    handling_classes: str = Field(max_length=200)
    time_zone: str = Field(max_length=64)
    cutoff_time: str = Field(max_length=5)
    processing_hours: int
    daily_capacity: int | None = None
    cost_per_shipment_minor: int
    cost_per_kg_minor: int
    carbon_factor: float
    active: bool = True
    updated_at: datetime = utc()
    ack_minutes: int | None = None  # THIRD_PARTY: minutes to acknowledge work (0005a)
    # weekly periods and dated exceptions as JSON (mapping.py); NULL: always open (0008h)
    opening_hours: str | None = Field(default=None, sa_type=sa.Text)


class LocationChannelRow(SQLModel, table=True):
    __tablename__ = "location_channels"
    location: str = Field(primary_key=True, foreign_key="locations.code", max_length=64)
    channel: str = Field(primary_key=True, max_length=64, index=True)


class SkuRow(SQLModel, table=True):
    __tablename__ = "skus"
    sku: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    product_group: str = Field(max_length=64, index=True)
    handling: str = Field(max_length=16)
    weight_grams: int
    backorderable: bool = False
    preorderable: bool = False
    is_kit: bool = False
    updated_at: datetime = utc()
    tax_class: str = Field(default="STANDARD", max_length=16,
                           sa_column_kwargs={"server_default": "STANDARD"})


class SkuPriceRow(SQLModel, table=True):
    __tablename__ = "sku_prices"
    sku: str = Field(primary_key=True, foreign_key="skus.sku", max_length=64)
    currency: str = Field(primary_key=True, max_length=3)
    amount_minor: int = Field(sa_type=sa.BigInteger)


class KitComponentRow(SQLModel, table=True):
    __tablename__ = "kit_components"
    kit: str = Field(primary_key=True, foreign_key="skus.sku", max_length=64)
    component: str = Field(primary_key=True, foreign_key="skus.sku", max_length=64)
    quantity: int


class InventoryLevelRow(SQLModel, table=True):
    __tablename__ = "inventory_levels"
    __table_args__ = (
        sa.CheckConstraint("reserved >= 0 AND safety_stock >= 0", name="ck_levels_non_negative"),
        sa.CheckConstraint("on_hand - reserved - safety_stock >= 0", name="ck_levels_no_oversell"),
        sa.Index("ix_inventory_levels_location", "location"),
    )
    sku: str = Field(primary_key=True, foreign_key="skus.sku", max_length=64)
    location: str = Field(primary_key=True, foreign_key="locations.code", max_length=64)
    on_hand: int = 0
    reserved: int = 0
    safety_stock: int = 0
    updated_at: datetime = utc()


class LedgerRow(SQLModel, table=True):
    __tablename__ = "inventory_ledger"
    __table_args__ = (sa.Index("ix_inventory_ledger_level", "sku", "location"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(
        sa.Integer, "sqlite"))
    sku: str = Field(max_length=64)
    location: str = Field(max_length=64)
    on_hand_delta: int
    reserved_delta: int
    reason: str = Field(max_length=64)
    reference: str | None = Field(default=None, max_length=128)
    actor: str = Field(max_length=200)
    at: datetime = utc()


class IncomingRow(SQLModel, table=True):
    __tablename__ = "incoming"
    __table_args__ = (
        sa.CheckConstraint("allocated >= 0 AND allocated <= quantity", name="ck_incoming_alloc"),
        sa.Index("ix_incoming_sku", "sku", "expected_at"),
    )
    id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(foreign_key="skus.sku", max_length=64)
    location: str = Field(foreign_key="locations.code", max_length=64)
    quantity: int
    allocated: int = 0
    expected_at: datetime = utc()
    received_at: datetime | None = utc(default=None, nullable=True)
    received_quantity: int | None = None
    created_at: datetime = utc()


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (sa.Index("ix_orders_placed_at", "placed_at"),)
    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(max_length=32, unique=True)
    channel: str = Field(max_length=64, index=True)
    customer_email: str = Field(max_length=254, index=True)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_phone: str | None = Field(default=None, max_length=40)
    customer_locale: str | None = Field(default=None, max_length=16)
    currency: str = Field(max_length=3)
    delivery_method: str = Field(max_length=8)
    service_level: str | None = Field(default=None, max_length=16)
    ship_line1: str | None = Field(default=None, max_length=200)
    ship_line2: str | None = Field(default=None, max_length=200)
    ship_city: str | None = Field(default=None, max_length=200)
    ship_postal_code: str | None = Field(default=None, max_length=16)
    ship_country: str | None = Field(default=None, max_length=2)
    ship_region: str | None = Field(default=None, max_length=200)
    ship_latitude: float | None = None
    ship_longitude: float | None = None
    pickup_location: str | None = Field(default=None, max_length=64)
    promise_option_id: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=32, index=True)
    subtotal_minor: int = Field(sa_type=sa.BigInteger)
    shipping_minor: int = Field(sa_type=sa.BigInteger)
    tax_minor: int = Field(sa_type=sa.BigInteger)
    total_minor: int = Field(sa_type=sa.BigInteger)
    placed_at: datetime = utc()
    placed_by: str = Field(max_length=200)
    updated_at: datetime = utc()
    hold_reason: str | None = Field(default=None, max_length=200)
    tags: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    promised_earliest: datetime | None = utc(default=None, nullable=True)
    promised_latest: datetime | None = utc(default=None, nullable=True)


class PaymentRow(SQLModel, table=True):
    """An order's authorisation (orders without a payment have none: NOT_REQUIRED)."""

    __tablename__ = "payments"
    __table_args__ = (sa.UniqueConstraint("provider", "reference",
                                          name="uq_payments_reference"),
                      sa.Index("ix_payments_expires_at", "expires_at"))
    order_id: str = Field(foreign_key="orders.id", primary_key=True, max_length=36)
    provider: str = Field(max_length=40)
    reference: str = Field(max_length=200)
    authorized_minor: int = Field(sa_type=sa.BigInteger)
    expires_at: datetime | None = utc(default=None, nullable=True)
    flagged_at: datetime | None = utc(default=None, nullable=True)
    partial: bool = True  # captured parcel by parcel (else once, with the last parcel)


class PaymentTransactionRow(SQLModel, table=True):
    """Each movement of an order's money; `key` is what the provider was asked with."""

    __tablename__ = "payment_transactions"
    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    position: int  # its place among the order's movements, oldest first
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    key: str = Field(max_length=120, unique=True)
    at: datetime = utc()
    fulfillment_id: str | None = Field(default=None, max_length=36)
    reference: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=500)
    final: bool = False
    attempts: int = 0


class NotificationRow(SQLModel, table=True):
    """A message to a customer about one event (domain/notifications): what was written, to
    whom, and whether the SMTP server took it. `event_id` is its idempotency key."""

    __tablename__ = "notifications"
    id: str = Field(primary_key=True, max_length=36)
    order_number: str = Field(max_length=32, index=True)
    event_id: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=24)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    language: str = Field(max_length=8)
    status: str = Field(max_length=16)
    message_id: str = Field(max_length=200)
    created_at: datetime = utc()
    sent_at: datetime | None = utc(default=None, nullable=True)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    fulfillment_id: str | None = Field(default=None, max_length=36)
    resend_of: str | None = Field(default=None, max_length=36)
    # the numbers of the documents attached, comma separated (an invoice, a credit note)
    attachments: str = Field(default="", max_length=200,
                             sa_column_kwargs={"server_default": ""})
    position: int = Field(default=0, sa_type=sa.BigInteger)
    text: str = Field(default="", sa_type=sa.Text)
    html: str = Field(default="", sa_type=sa.Text)


class DocumentCounterRow(SQLModel, table=True):
    """The last number handed out in a series of invoices and credit notes (`IT-2026`),
    incremented in the transaction that issues the next document: gap-free."""

    __tablename__ = "document_counters"
    series: str = Field(primary_key=True, max_length=8)
    last: int


class DocumentRow(SQLModel, table=True):
    """An invoice or credit note as issued: its number, what it is for (`source`, unique: the
    capture, shipment or refund it documents, so it is issued once) and its content (JSON of
    domain.documents.content, frozen at issue)."""

    __tablename__ = "documents"
    __table_args__ = (sa.UniqueConstraint("series", "sequence"),)
    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    kind: str = Field(max_length=16)
    number: str = Field(max_length=20, unique=True)
    series: str = Field(max_length=8)
    sequence: int
    source: str = Field(max_length=120, unique=True)
    refers_to: str | None = Field(default=None, max_length=20)
    issued_at: datetime = utc()
    currency: str = Field(max_length=3)
    total_minor: int = Field(sa_type=sa.BigInteger)
    content: str = Field(sa_type=sa.Text)


class NotificationOptOutRow(SQLModel, table=True):
    """Addresses that turned off non-essential updates (delivered, out for delivery)."""

    __tablename__ = "notification_optouts"
    email: str = Field(primary_key=True, max_length=320)
    at: datetime = utc()


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (sa.Index("ix_order_lines_incoming_id", "incoming_id"),)
    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    position: int
    sku: str = Field(max_length=64)
    quantity: int
    unit_price_minor: int = Field(sa_type=sa.BigInteger)
    status: str = Field(max_length=32)
    backordered: int = 0
    incoming_id: str | None = Field(default=None, max_length=36)
    cancelled: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    returned: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # the VAT rate it was sold at in basis points (2200 = 22 %); NULL before tax classes
    vat_rate_bp: int | None = None


class FulfillmentRow(SQLModel, table=True):
    __tablename__ = "fulfillments"
    __table_args__ = (sa.Index("ix_fulfillments_queue", "location", "status", "created_at"),)
    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    location: str = Field(foreign_key="locations.code", max_length=64)
    status: str = Field(max_length=32)
    service_level: str | None = Field(default=None, max_length=16)
    carrier: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=128)
    created_at: datetime = utc()
    updated_at: datetime = utc()
    reason: str | None = Field(default=None, max_length=200)
    shipped_at: datetime | None = utc(default=None, nullable=True)
    delivered_at: datetime | None = utc(default=None, nullable=True)
    transfer_to: str | None = Field(default=None, max_length=64)


class FulfillmentLineRow(SQLModel, table=True):
    __tablename__ = "fulfillment_lines"
    id: int | None = Field(default=None, primary_key=True)
    fulfillment_id: str = Field(foreign_key="fulfillments.id", max_length=36, index=True)
    order_line_id: str = Field(foreign_key="order_lines.id", max_length=36)
    sku: str = Field(max_length=64)
    quantity: int
    units: int  # units of the order line this row belongs to (kit rows: kits, not parts)


class TrackingEventRow(SQLModel, table=True):
    """Carrier scans; the same scan delivered twice is one row."""

    __tablename__ = "tracking_events"
    __table_args__ = (sa.UniqueConstraint("fulfillment_id", "status", "at",
                                          name="uq_tracking_events_scan"),)
    id: int | None = Field(default=None, primary_key=True)
    fulfillment_id: str = Field(foreign_key="fulfillments.id", max_length=36)
    status: str = Field(max_length=32)
    at: datetime = utc()
    location: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    recorded_at: datetime = utc()


class TimelineRow(SQLModel, table=True):
    __tablename__ = "order_timeline"
    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    at: datetime = utc()
    type: str = Field(max_length=64)
    message: str = Field(max_length=1000)
    actor: str = Field(max_length=200)
    before: str | None = Field(default=None, max_length=1000)
    after: str | None = Field(default=None, max_length=1000)
    public_message: str | None = Field(default=None, max_length=1000)


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    key: str = Field(primary_key=True, max_length=128)
    fingerprint: str = Field(max_length=64)
    order_id: str = Field(max_length=36)
    created_at: datetime = utc()


class OutboxStreamRow(SQLModel, table=True):
    __tablename__ = "outbox_streams"
    stream: str = Field(primary_key=True, max_length=128)
    last_sequence: int = Field(sa_type=sa.BigInteger)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (sa.UniqueConstraint("stream", "sequence", name="uq_outbox_stream_seq"),
                      sa.Index("ix_outbox_created_at", "created_at"),
                      sa.Index("ix_outbox_event_id", "event_id"))
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(
        sa.Integer, "sqlite"))
    event_id: str = Field(max_length=36)
    stream: str = Field(max_length=128)
    sequence: int = Field(sa_type=sa.BigInteger)
    type: str = Field(max_length=64)
    at: datetime = utc()
    payload: str = Field(sa_type=sa.Text)
    created_at: datetime = utc()


class CounterRow(SQLModel, table=True):
    """Order numbers on SQLite (PostgreSQL uses the sequence `order_number_seq`)."""

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(sa_type=sa.BigInteger)


class SourcingPolicyRow(SQLModel, table=True):
    """Every version of every channel's sourcing policy; the highest version is in force."""

    __tablename__ = "sourcing_policies"
    channel: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    strategy: str = Field(max_length=32)
    body: str = Field(sa_type=sa.Text)  # domain.sourcing.policy.to_dict as JSON
    created_at: datetime = utc()
    created_by: str = Field(max_length=200)


class SourcingDecisionRow(SQLModel, table=True):
    """Why an order (or a re-sourced part of it) is fulfilled where it is."""

    __tablename__ = "sourcing_decisions"
    __table_args__ = (sa.UniqueConstraint("order_id", "sequence", name="uq_sourcing_decisions"),)
    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", max_length=36)
    sequence: int  # 1 for the placement, then each re-sourcing
    kind: str = Field(max_length=16)
    policy_channel: str = Field(max_length=64)
    policy_version: int
    strategy: str = Field(max_length=32)
    body: str = Field(sa_type=sa.Text)  # the explanation as JSON
    decided_at: datetime = utc()


class LocationDowntimeRow(SQLModel, table=True):
    __tablename__ = "location_downtime"
    __table_args__ = (sa.Index("ix_location_downtime_ends", "ends_at"),)
    id: str = Field(primary_key=True, max_length=36)
    location: str = Field(foreign_key="locations.code", max_length=64)
    starts_at: datetime = utc()
    ends_at: datetime = utc()
    reason: str = Field(max_length=200)
    created_by: str = Field(max_length=200)
    created_at: datetime = utc()


class LocationLoadRow(SQLModel, table=True):
    """Fulfillments assigned per location and local day, counted against daily capacity."""

    __tablename__ = "location_load"
    __table_args__ = (sa.CheckConstraint("assigned >= 0", name="ck_location_load"),)
    location: str = Field(primary_key=True, foreign_key="locations.code", max_length=64)
    day: str = Field(primary_key=True, max_length=10)  # ISO date in the location's zone
    assigned: int


class ReturnRow(SQLModel, table=True):
    """A return (RMA) of some delivered units of an order."""

    __tablename__ = "returns"
    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(max_length=40, unique=True)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    status: str = Field(max_length=16)
    resolution: str = Field(max_length=16)
    method: str = Field(max_length=16)
    currency: str = Field(max_length=3)
    receiving_location: str = Field(foreign_key="locations.code", max_length=64)
    fee_minor: int = Field(sa_type=sa.BigInteger)
    shipping_refund_minor: int = Field(sa_type=sa.BigInteger)
    refund_minor: int = Field(sa_type=sa.BigInteger)
    auto_approved: bool = False
    carrier: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=128)
    drop_off_code: str | None = Field(default=None, max_length=16)
    replacement_order_id: str | None = Field(default=None, foreign_key="orders.id",
                                             max_length=36)
    requested_at: datetime = utc()
    requested_by: str = Field(max_length=200)
    received_at: datetime | None = utc(default=None, nullable=True)
    updated_at: datetime = utc()


class ReturnLineRow(SQLModel, table=True):
    __tablename__ = "return_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0 AND restocked >= 0 AND written_off >= 0 "
                           "AND restocked + written_off <= quantity", name="ck_return_lines"),
    )
    id: str = Field(primary_key=True, max_length=36)
    return_id: str = Field(foreign_key="returns.id", max_length=36, index=True)
    position: int
    order_line_id: str = Field(foreign_key="order_lines.id", max_length=36)
    sku: str = Field(max_length=64)
    quantity: int
    reason: str = Field(max_length=64)
    refund_minor: int = Field(sa_type=sa.BigInteger)
    exchange_sku: str | None = Field(default=None, max_length=64)
    restocked: int = 0
    written_off: int = 0


class RefundRow(SQLModel, table=True):
    """Money given back for a return. Without a reference it is pending: claimed against what
    the order paid before the payment provider is asked, outside any transaction."""

    __tablename__ = "refunds"
    id: str = Field(primary_key=True, max_length=36)
    return_id: str = Field(foreign_key="returns.id", max_length=36, index=True)
    order_id: str = Field(foreign_key="orders.id", max_length=36, index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    provider: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=128, unique=True)
    refunded_at: datetime = utc()
    actor: str = Field(max_length=200)


METADATA = SQLModel.metadata


class ConsumerPositionRow(SQLModel, table=True):
    """How far each outbox consumer has read the `all` stream (persistence/consumers.py)."""

    __tablename__ = "consumer_positions"
    consumer: str = Field(primary_key=True, max_length=64)
    position: int = Field(sa_type=sa.BigInteger)
    updated_at: datetime = utc()


class ConsumerJobRow(SQLModel, table=True):
    """One event to hand to one consumer's handler (for webhooks: to one endpoint).

    `partition` orders work: a job waits while an earlier one (lower `position`, the event's
    place in the `all` stream) of the same consumer, target and partition is still pending.
    `stream`/`sequence` name the event's first copy, as subscriptions number it.
    """

    __tablename__ = "consumer_jobs"
    __table_args__ = (
        sa.UniqueConstraint("consumer", "target", "event_id", name="uq_consumer_jobs_event"),
        # both partial, over pending jobs only: the claim's scan and its "nothing earlier
        # pending in this partition" probe stay small however many jobs are done, and the
        # planner needs no fresh statistics to pick them
        sa.Index("ix_consumer_jobs_pending", "consumer", "position",
                 postgresql_where=sa.text("status = 'PENDING'"),
                 sqlite_where=sa.text("status = 'PENDING'")),
        sa.Index("ix_consumer_jobs_partition", "consumer", "target", "partition", "position",
                 postgresql_where=sa.text("status = 'PENDING'"),
                 sqlite_where=sa.text("status = 'PENDING'")),
        sa.Index("ix_consumer_jobs_log", "consumer", "target", "id"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(
        sa.Integer, "sqlite"))
    consumer: str = Field(max_length=64)
    target: str = Field(max_length=64)
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=64)
    partition: str = Field(max_length=128)
    position: int = Field(sa_type=sa.BigInteger)
    stream: str = Field(max_length=128)
    sequence: int = Field(sa_type=sa.BigInteger)
    event_at: datetime = utc()
    payload: str = Field(sa_type=sa.Text)  # a copy: the outbox may be pruned before a retry
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = utc()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = utc(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_status: int | None = None
    created_at: datetime = utc()
    done_at: datetime | None = utc(default=None)
    parked_at: datetime | None = utc(default=None)


class WebhookEndpointRow(SQLModel, table=True):
    """A receiver of signed webhook POSTs. The secret signs; it is never read back out."""

    __tablename__ = "webhook_endpoints"
    id: str = Field(primary_key=True, max_length=36)
    url: str = Field(max_length=2048)
    event_types: str = Field(sa_type=sa.Text)  # JSON list; [] = every type
    description: str = Field(max_length=500)
    secret: str = Field(max_length=128)
    previous_secret: str | None = Field(default=None, max_length=128)
    previous_until: datetime | None = utc(default=None)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    failing_since: datetime | None = utc(default=None)
    created_by: str = Field(max_length=200)
    created_at: datetime = utc()
    updated_at: datetime = utc()
