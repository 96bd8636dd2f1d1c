"""Opening hours of locations: a weekly schedule and dated exceptions, as one JSON text
(persistence/mapping.py); NULL keeps a location open around the clock, as before.

Revision ID: 0008h
Revises: 0007n
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008h'
down_revision = '0007n'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('locations', sa.Column('opening_hours', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('locations') as batch:
        batch.drop_column('opening_hours')
