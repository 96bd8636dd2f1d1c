"""Integration: durable outbox consumers (positions, jobs) and webhook endpoints.

Revision ID: 0004i
Revises: 0003r
Create Date: 2026-12-05 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004i'
down_revision = '0003r'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_event_id', 'outbox', ['event_id'], unique=False)
    op.create_table('consumer_positions',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer')
    )
    op.create_table('consumer_jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('partition', sa.String(length=128), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('stream', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('consumer', 'target', 'event_id', name='uq_consumer_jobs_event')
    )
    pending = sa.text("status = 'PENDING'")
    op.create_index('ix_consumer_jobs_pending', 'consumer_jobs', ['consumer', 'position'],
                    unique=False, postgresql_where=pending, sqlite_where=pending)
    op.create_index('ix_consumer_jobs_partition', 'consumer_jobs',
                    ['consumer', 'target', 'partition', 'position'], unique=False,
                    postgresql_where=pending, sqlite_where=pending)
    op.create_index('ix_consumer_jobs_log', 'consumer_jobs', ['consumer', 'target', 'id'],
                    unique=False)
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('event_types', sa.Text(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('previous_secret', sa.String(length=128), nullable=True),
    sa.Column('previous_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('webhook_endpoints')
    op.drop_index('ix_consumer_jobs_log', table_name='consumer_jobs')
    op.drop_index('ix_consumer_jobs_partition', table_name='consumer_jobs')
    op.drop_index('ix_consumer_jobs_pending', table_name='consumer_jobs')
    op.drop_table('consumer_jobs')
    op.drop_table('consumer_positions')
    op.drop_index('ix_outbox_event_id', table_name='outbox')
