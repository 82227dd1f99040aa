"""Physicians' hours and leave, and appointments.

No double booking is the database's job: ``uq_appointments_physician_slot`` is a partial unique
index over *booked* rows only (PostgreSQL and SQLite both have partial indexes), so of two
concurrent bookings of one slot the second insert fails whatever the timing, and a cancelled,
completed or missed appointment frees its row's slot for a new booking.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    text,
)

from ..domain.appointments import AppointmentSource, AppointmentStatus
from .base import metadata, stamps
from .types import EnumText, Money, UTCDateTime

physician_availability = Table(
    "physician_availability", metadata,
    Column("id", Uuid(), ForeignKey("users.id"), primary_key=True),  # the physician
    Column("time_zone", String(64), nullable=False),
    Column("slot_minutes", Integer(), nullable=False),
    Column("fee", Money(), nullable=False),
    Column("weekly", JSON(), nullable=False),  # [{"weekday", "start", "end"}] local times
    *stamps(deleted=False),
)

physician_leave = Table(
    "physician_leave", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("physician_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

BOOKED = text("status = 'booked'")

appointments = Table(
    "appointments", metadata,
    Column("id", Uuid(), primary_key=True),
    Column("patient_id", Uuid(), ForeignKey("users.id"), nullable=False, index=True),
    Column("physician_id", Uuid(), ForeignKey("users.id"), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("status", EnumText(AppointmentStatus, 16), nullable=False),
    Column("source", EnumText(AppointmentSource, 16), nullable=False),
    Column("consultation_id", Uuid(), nullable=True),
    Column("booked_by", Uuid(), nullable=True),
    Column("fee", Money(), nullable=False),
    Column("payment_id", Uuid(), nullable=True),
    Column("paid_at", UTCDateTime(), nullable=True),
    Column("refunded", Money(), nullable=False),
    Column("reschedules", Integer(), nullable=False),
    Column("reminders_sent", Integer(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    *stamps(deleted=False),
    # The physician's calendar, read by time.
    Index("ix_appointments_physician_starts", "physician_id", "starts_at"),
    # The reminder sweep: booked appointments starting soon.
    Index("ix_appointments_status_starts", "status", "starts_at"),
    Index("uq_appointments_physician_slot", "physician_id", "starts_at", unique=True,
          sqlite_where=BOOKED, postgresql_where=BOOKED),
)
