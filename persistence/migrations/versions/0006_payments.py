"""Payments: an order's authorisation and every movement of its money; channels that take
orders only with a payment; the customer's locale on orders.

Revision ID: 0006p
Revises: 0005a
Create Date: 2026-12-05 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006p'
down_revision = '0005a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('customer_locale', sa.String(length=16), nullable=True))
    with op.batch_alter_table('channels') as batch:
        batch.add_column(sa.Column('payment_required', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'payments',
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('authorized_minor', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('partial', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('order_id'),
        sa.UniqueConstraint('provider', 'reference', name='uq_payments_reference'))
    op.create_index('ix_payments_expires_at', 'payments', ['expires_at'], unique=False)
    op.create_table(
        'payment_transactions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fulfillment_id', sa.String(length=36), nullable=True),
        sa.Column('reference', sa.String(length=200), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'))
    op.create_index('ix_payment_transactions_order_id', 'payment_transactions', ['order_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_transactions_order_id', table_name='payment_transactions')
    op.drop_table('payment_transactions')
    op.drop_index('ix_payments_expires_at', table_name='payments')
    op.drop_table('payments')
    with op.batch_alter_table('channels') as batch:
        batch.drop_column('payment_required')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('customer_locale')
