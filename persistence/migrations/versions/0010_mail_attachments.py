"""Mail attachments: the numbers of the documents a customer mail carries (the invoice of a
parcel with "shipped", the credit note of a refund with "refund issued"), chosen when the
message is written so a retry or a resend attaches the same ones.

Revision ID: 0010a
Revises: 0009d
Create Date: 2026-12-06 01:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010a'
down_revision = '0009d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column('attachments', sa.String(length=200),
                                             nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('attachments')
