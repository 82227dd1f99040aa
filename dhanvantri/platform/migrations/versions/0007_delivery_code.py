"""Orders keep the current delivery code, sealed, for the patient's own screen

Revision ID: 0007_delivery_code
Revises: 0006_audit_hmac
Create Date: 2026-11-30 09:30:00

One nullable column of ``data_cipher`` ciphertext (text). Plain ``ALTER TABLE`` both ways: a
batch rebuild of ``orders`` would drop a table that ``order_items`` references (see 0005), and
SQLite has dropped columns in place since 3.35.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_delivery_code'
down_revision = '0006_audit_hmac'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('orders', sa.Column('delivery_code', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('orders', 'delivery_code')
