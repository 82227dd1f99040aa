"""The patient's health record: uploaded documents (issue 20)

Revision ID: 0008_health_record
Revises: 0007_delivery_code
Create Date: 2026-11-30 17:00:00
"""

# ruff: noqa: E501  (written in alembic autogenerate's form)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_health_record'
down_revision = '0007_delivery_code'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_documents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('lab_report', 'prescription', 'discharge_summary', 'imaging', 'vaccination', 'other', name='record_document_kind', native_enum=False, length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('dated', sa.String(length=10), nullable=True),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_record_documents_patient_id_users')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_record_documents_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_documents'))
    )
    with op.batch_alter_table('record_documents', schema=None) as batch_op:
        batch_op.create_index('ix_record_documents_patient_created', ['patient_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_record_documents_patient_created')

    op.drop_table('record_documents')
