"""Appointments: physician availability, slots and bookings (issue 21)

Revision ID: 0010_appointments
Revises: 0009_family_shares
Create Date: 2026-11-30 17:00:00
"""

# ruff: noqa: E501  (written in alembic autogenerate's form)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Money is NUMERIC(12, 2) on PostgreSQL and integer paise on SQLite (see tables/types.py).
from dhanvantri.platform.tables.types import Money

revision = '0010_appointments'
down_revision = '0009_family_shares'
branch_labels = None
depends_on = None

# Only booked rows hold a slot: of two bookings of one slot the second insert fails.
BOOKED = sa.text("status = 'booked'")


def upgrade() -> None:
    op.create_table('physician_availability',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('fee', Money(), nullable=False),
    sa.Column('weekly', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['users.id'], name=op.f('fk_physician_availability_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physician_availability'))
    )
    op.create_table('physician_leave',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('physician_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['physician_id'], ['users.id'], name=op.f('fk_physician_leave_physician_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physician_leave'))
    )
    with op.batch_alter_table('physician_leave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physician_leave_physician_id'), ['physician_id'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('physician_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('consultation_id', sa.Uuid(), nullable=True),
    sa.Column('booked_by', sa.Uuid(), nullable=True),
    sa.Column('fee', Money(), nullable=False),
    sa.Column('payment_id', sa.Uuid(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded', Money(), nullable=False),
    sa.Column('reschedules', sa.Integer(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_appointments_patient_id_users')),
    sa.ForeignKeyConstraint(['physician_id'], ['users.id'], name=op.f('fk_appointments_physician_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_appointments_physician_starts', ['physician_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_status_starts', ['status', 'starts_at'], unique=False)
        batch_op.create_index('uq_appointments_physician_slot', ['physician_id', 'starts_at'], unique=True, sqlite_where=BOOKED, postgresql_where=BOOKED)


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('uq_appointments_physician_slot', sqlite_where=BOOKED, postgresql_where=BOOKED)
        batch_op.drop_index('ix_appointments_status_starts')
        batch_op.drop_index('ix_appointments_physician_starts')
        batch_op.drop_index(batch_op.f('ix_appointments_patient_id'))

    op.drop_table('appointments')
    with op.batch_alter_table('physician_leave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physician_leave_physician_id'))

    op.drop_table('physician_leave')
    op.drop_table('physician_availability')
