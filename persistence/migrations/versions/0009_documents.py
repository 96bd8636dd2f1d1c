"""Documents: invoices and credit notes with gap-free numbers per series (a counter row per
series, incremented in the transaction that issues the document), SKUs' tax classes and the
VAT rate each order line was sold at.

Revision ID: 0009d
Revises: 0008h
Create Date: 2026-12-05 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009d'
down_revision = '0008h'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('skus') as batch:
        batch.add_column(sa.Column('tax_class', sa.String(length=16), nullable=False,
                                   server_default='STANDARD'))
    op.add_column('order_lines', sa.Column('vat_rate_bp', sa.Integer(), nullable=True))
    op.create_table(
        'document_counters',
        sa.Column('series', sa.String(length=8), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series'))
    op.create_table(
        'documents',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('series', sa.String(length=8), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=120), nullable=False),
        sa.Column('refers_to', sa.String(length=20), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
        sa.UniqueConstraint('source'),
        sa.UniqueConstraint('series', 'sequence'))
    op.create_index('ix_documents_order_id', 'documents', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_documents_order_id', table_name='documents')
    op.drop_table('documents')
    op.drop_table('document_counters')
    op.drop_column('order_lines', 'vat_rate_bp')
    with op.batch_alter_table('skus') as batch:
        batch.drop_column('tax_class')
