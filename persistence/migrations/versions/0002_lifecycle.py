"""Fulfillment lifecycle: holds, tags, cancelled units, carrier scans, timeline edits.

Revision ID: 0002a
Revises: 0001
Create Date: 2026-11-22 02:00:00

Written by hand. New columns are added with plain ALTER TABLE (SQLite supports ADD and, since
3.35, DROP COLUMN), so no table referenced by a foreign key is ever copied and dropped; only
`fulfillment_lines.units`, filled from the kit definitions and then made NOT NULL, goes
through batch mode (no table references `fulfillment_lines`).
"""
from alembic import op
import sqlalchemy as sa


revision = '0002a'
down_revision = '0001'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
# Words customers read for the entries order placement wrote before this revision.
PUBLIC_WORDS = {
    "ORDER_PLACED": "We received your order",
    "ALLOCATED": "Your items are reserved for you",
    "BACKORDERED": "Some items are on backorder: we will send them as soon as they arrive",
}


def upgrade() -> None:
    op.add_column('orders', sa.Column('hold_reason', sa.String(length=200), nullable=True))
    op.add_column('orders', sa.Column('tags', sa.String(length=200), server_default='',
                                      nullable=False))
    op.add_column('order_lines', sa.Column('cancelled', sa.Integer(), server_default='0',
                                           nullable=False))
    op.create_index('ix_order_lines_incoming_id', 'order_lines', ['incoming_id'], unique=False)
    op.add_column('fulfillments', sa.Column('reason', sa.String(length=200), nullable=True))
    op.add_column('fulfillments', sa.Column('shipped_at', TZ, nullable=True))
    op.add_column('fulfillments', sa.Column('delivered_at', TZ, nullable=True))
    op.add_column('incoming', sa.Column('received_quantity', sa.Integer(), nullable=True))
    for column in ('before', 'after', 'public_message'):
        op.add_column('order_timeline', sa.Column(column, sa.String(length=1000), nullable=True))

    # A row's units: its quantity, divided by the per-kit quantity when it is a kit component.
    op.add_column('fulfillment_lines', sa.Column('units', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE fulfillment_lines SET units = quantity / COALESCE(("
        "SELECT k.quantity FROM order_lines ol JOIN kit_components k "
        "ON k.kit = ol.sku AND k.component = fulfillment_lines.sku "
        "WHERE ol.id = fulfillment_lines.order_line_id), 1)")
    with op.batch_alter_table('fulfillment_lines', schema=None) as batch_op:
        batch_op.alter_column('units', existing_type=sa.Integer(), nullable=False)

    timeline = sa.table('order_timeline', sa.column('type'), sa.column('public_message'))
    for type_, words in PUBLIC_WORDS.items():
        op.execute(timeline.update().where(timeline.c.type == type_)
                   .values(public_message=words))

    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fulfillment_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('at', TZ, nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('recorded_at', TZ, nullable=False),
    sa.ForeignKeyConstraint(['fulfillment_id'], ['fulfillments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fulfillment_id', 'status', 'at', name='uq_tracking_events_scan')
    )


def downgrade() -> None:
    op.drop_table('tracking_events')
    for column in ('public_message', 'after', 'before'):
        op.drop_column('order_timeline', column)
    op.drop_column('fulfillment_lines', 'units')
    op.drop_column('incoming', 'received_quantity')
    op.drop_column('fulfillments', 'delivered_at')
    op.drop_column('fulfillments', 'shipped_at')
    op.drop_column('fulfillments', 'reason')
    op.drop_index('ix_order_lines_incoming_id', table_name='order_lines')
    op.drop_column('order_lines', 'cancelled')
    op.drop_column('orders', 'tags')
    op.drop_column('orders', 'hold_reason')
