"""Initial schema: catalog, network, inventory and ledger, orders, idempotency, outbox.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 00:08:48.916574
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('channels',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currencies', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('idempotency_keys',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('inventory_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inventory_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_ledger_level', ['sku', 'location'], unique=False)

    op.create_table('locations',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=16), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('capabilities', sa.String(length=200), nullable=False),
    sa.Column('handling_classes', sa.String(length=200), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('cutoff_time', sa.String(length=5), nullable=False),
    sa.Column('processing_hours', sa.Integer(), nullable=False),
    sa.Column('daily_capacity', sa.Integer(), nullable=True),
    sa.Column('cost_per_shipment_minor', sa.Integer(), nullable=False),
    sa.Column('cost_per_kg_minor', sa.Integer(), nullable=False),
    sa.Column('carbon_factor', sa.Float(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=True),
    sa.Column('customer_phone', sa.String(length=40), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_method', sa.String(length=8), nullable=False),
    sa.Column('service_level', sa.String(length=16), nullable=True),
    sa.Column('ship_line1', sa.String(length=200), nullable=True),
    sa.Column('ship_line2', sa.String(length=200), nullable=True),
    sa.Column('ship_city', sa.String(length=200), nullable=True),
    sa.Column('ship_postal_code', sa.String(length=16), nullable=True),
    sa.Column('ship_country', sa.String(length=2), nullable=True),
    sa.Column('ship_region', sa.String(length=200), nullable=True),
    sa.Column('ship_latitude', sa.Float(), nullable=True),
    sa.Column('ship_longitude', sa.Float(), nullable=True),
    sa.Column('pickup_location', sa.String(length=64), nullable=True),
    sa.Column('promise_option_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('shipping_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_customer_email'), ['customer_email'], unique=False)
        batch_op.create_index('ix_orders_placed_at', ['placed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_status'), ['status'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('stream', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream', 'sequence', name='uq_outbox_stream_seq')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_created_at', ['created_at'], unique=False)

    op.create_table('outbox_streams',
    sa.Column('stream', sa.String(length=128), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('stream')
    )
    op.create_table('skus',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('product_group', sa.String(length=64), nullable=False),
    sa.Column('handling', sa.String(length=16), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=False),
    sa.Column('backorderable', sa.Boolean(), nullable=False),
    sa.Column('preorderable', sa.Boolean(), nullable=False),
    sa.Column('is_kit', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sku')
    )
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skus_product_group'), ['product_group'], unique=False)

    op.create_table('fulfillments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('service_level', sa.String(length=16), nullable=True),
    sa.Column('carrier', sa.String(length=64), nullable=True),
    sa.Column('tracking_number', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillments_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_fulfillments_queue', ['location', 'status', 'created_at'], unique=False)

    op.create_table('incoming',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('expected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('allocated >= 0 AND allocated <= quantity', name='ck_incoming_alloc'),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.ForeignKeyConstraint(['sku'], ['skus.sku'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incoming', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_sku', ['sku', 'expected_at'], unique=False)

    op.create_table('inventory_levels',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('on_hand - reserved - safety_stock >= 0', name='ck_levels_no_oversell'),
    sa.CheckConstraint('reserved >= 0 AND safety_stock >= 0', name='ck_levels_non_negative'),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.ForeignKeyConstraint(['sku'], ['skus.sku'], ),
    sa.PrimaryKeyConstraint('sku', 'location')
    )
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_levels_location', ['location'], unique=False)

    op.create_table('kit_components',
    sa.Column('kit', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['component'], ['skus.sku'], ),
    sa.ForeignKeyConstraint(['kit'], ['skus.sku'], ),
    sa.PrimaryKeyConstraint('kit', 'component')
    )
    op.create_table('location_channels',
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.PrimaryKeyConstraint('location', 'channel')
    )
    with op.batch_alter_table('location_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_channels_channel'), ['channel'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('backordered', sa.Integer(), nullable=False),
    sa.Column('incoming_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)

    op.create_table('order_timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('message', sa.String(length=1000), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_timeline_order_id'), ['order_id'], unique=False)

    op.create_table('sku_prices',
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sku'], ['skus.sku'], ),
    sa.PrimaryKeyConstraint('sku', 'currency')
    )
    op.create_table('fulfillment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fulfillment_id', sa.String(length=36), nullable=False),
    sa.Column('order_line_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fulfillment_id'], ['fulfillments.id'], ),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fulfillment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillment_lines_fulfillment_id'), ['fulfillment_id'], unique=False)



    # Reference data: the channels of SPEC §1, and the order number counter.
    channels = sa.table("channels", sa.column("code"), sa.column("name"),
                        sa.column("currencies"))
    op.bulk_insert(channels, [
        {"code": "web", "name": "Web shop", "currencies": "EUR"},
        {"code": "store", "name": "Stores (point of sale)", "currencies": "EUR"},
        {"code": "call_center", "name": "Call centre", "currencies": "EUR"},
        {"code": "marketplace:amazon", "name": "Amazon marketplace", "currencies": "EUR"},
    ])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE order_number_seq START 1")
    else:
        counters = sa.table("counters", sa.column("name"), sa.column("value"))
        op.bulk_insert(counters, [{"name": "order_number", "value": 0}])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE order_number_seq")

    with op.batch_alter_table('fulfillment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fulfillment_lines_fulfillment_id'))

    op.drop_table('fulfillment_lines')
    op.drop_table('sku_prices')
    with op.batch_alter_table('order_timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_timeline_order_id'))

    op.drop_table('order_timeline')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('location_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_channels_channel'))

    op.drop_table('location_channels')
    op.drop_table('kit_components')
    with op.batch_alter_table('inventory_levels', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_levels_location')

    op.drop_table('inventory_levels')
    with op.batch_alter_table('incoming', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_sku')

    op.drop_table('incoming')
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfillments_queue')
        batch_op.drop_index(batch_op.f('ix_fulfillments_order_id'))

    op.drop_table('fulfillments')
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skus_product_group'))

    op.drop_table('skus')
    op.drop_table('outbox_streams')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_created_at')

    op.drop_table('outbox')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_status'))
        batch_op.drop_index('ix_orders_placed_at')
        batch_op.drop_index(batch_op.f('ix_orders_customer_email'))
        batch_op.drop_index(batch_op.f('ix_orders_channel'))

    op.drop_table('orders')
    op.drop_table('locations')
    with op.batch_alter_table('inventory_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_ledger_level')

    op.drop_table('inventory_ledger')
    op.drop_table('idempotency_keys')
    op.drop_table('counters')
    op.drop_table('channels')

