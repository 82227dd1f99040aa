"""Family access with consent, emergency cards and shares by QR (issue 20)

Revision ID: 0009_family_shares
Revises: 0008_health_record
Create Date: 2026-11-30 17:00:00

Three new tables; sealed columns (``types.Sealed``) are TEXT of ciphertext. Link tokens and
codes are stored only as digests.
"""

# ruff: noqa: E501  (written in alembic autogenerate's form)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_family_shares'
down_revision = '0008_health_record'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emergency_cards',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('blood_group', sa.Text(), nullable=True),
    sa.Column('contacts', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_emergency_cards_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_cards')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_emergency_cards_token_hash'))
    )
    with op.batch_alter_table('emergency_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_cards_patient_id'), ['patient_id'], unique=False)

    op.create_table('family_members',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.Column('challenge_id', sa.Uuid(), nullable=True),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_family_members_member_id_users')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_family_members_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_members')),
    sa.UniqueConstraint('owner_id', 'member_id', name='uq_family_members_owner_member')
    )
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_members_member_id'), ['member_id'], unique=False)

    op.create_table('record_shares',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reference_id', sa.Uuid(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unlocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_record_shares_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_shares')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_record_shares_session_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_record_shares_token_hash'))
    )
    with op.batch_alter_table('record_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_shares_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_shares_patient_id'))
    op.drop_table('record_shares')
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_members_member_id'))
    op.drop_table('family_members')
    with op.batch_alter_table('emergency_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_cards_patient_id'))
    op.drop_table('emergency_cards')
