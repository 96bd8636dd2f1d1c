"""Notifications: every message written to a customer, the addresses that turned off
non-essential updates, and how a channel's mails look (sender name, colour, language).

Revision ID: 0007n
Revises: 0006p
Create Date: 2026-12-05 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007n'
down_revision = '0006p'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channels') as batch:
        batch.add_column(sa.Column('sender_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('brand_color', sa.String(length=7), nullable=True))
        batch.add_column(sa.Column('locale', sa.String(length=16), nullable=True))
    op.create_table(
        'notifications',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('order_number', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('message_id', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('fulfillment_id', sa.String(length=36), nullable=True),
        sa.Column('resend_of', sa.String(length=36), nullable=True),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'))
    op.create_index('ix_notifications_order_number', 'notifications', ['order_number'],
                    unique=False)
    op.create_table(
        'notification_optouts',
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('email'))


def downgrade() -> None:
    op.drop_table('notification_optouts')
    op.drop_index('ix_notifications_order_number', table_name='notifications')
    op.drop_table('notifications')
    with op.batch_alter_table('channels') as batch:
        batch.drop_column('locale')
        batch.drop_column('brand_color')
        batch.drop_column('sender_name')
