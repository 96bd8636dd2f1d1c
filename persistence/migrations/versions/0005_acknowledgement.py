"""Acknowledgement window: minutes a THIRD_PARTY location has to accept work offered to it.

Revision ID: 0005a
Revises: 0004i
Create Date: 2026-12-06 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005a'
down_revision = '0004i'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('locations', sa.Column('ack_minutes', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('locations', 'ack_minutes')
