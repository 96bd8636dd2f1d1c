"""Orchestration: sourcing policies and decisions, downtime, daily load, promised windows.

Revision ID: 0002c
Revises: 0001
Create Date: 2026-11-22 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002c'
down_revision = '0002a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sourcing_policies',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'version')
    )
    op.create_table('sourcing_decisions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('policy_channel', sa.String(length=64), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'sequence', name='uq_sourcing_decisions')
    )
    op.create_table('location_downtime',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_location_downtime_ends', 'location_downtime', ['ends_at'], unique=False)
    op.create_table('location_load',
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('assigned', sa.Integer(), nullable=False),
    sa.CheckConstraint('assigned >= 0', name='ck_location_load'),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], ),
    sa.PrimaryKeyConstraint('location', 'day')
    )
    # Plain ADD COLUMN on both engines (no table rebuild on SQLite).
    op.add_column('orders', sa.Column('promised_earliest', sa.DateTime(timezone=True),
                                      nullable=True))
    op.add_column('orders', sa.Column('promised_latest', sa.DateTime(timezone=True),
                                      nullable=True))
    op.add_column('fulfillments', sa.Column('transfer_to', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('fulfillments', 'transfer_to')
    op.drop_column('orders', 'promised_latest')
    op.drop_column('orders', 'promised_earliest')
    op.drop_table('location_load')
    op.drop_index('ix_location_downtime_ends', table_name='location_downtime')
    op.drop_table('location_downtime')
    op.drop_table('sourcing_decisions')
    op.drop_table('sourcing_policies')
