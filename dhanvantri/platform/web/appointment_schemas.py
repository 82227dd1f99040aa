"""Request and response bodies of the appointment endpoints."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from ..domain.appointments import (
    MAX_SLOT_MINUTES,
    MIN_SLOT_MINUTES,
    AppointmentSource,
    AppointmentStatus,
)
from .commerce_responses import Id, Money, PaymentStartOut, Strict
from .commerce_schemas import Method
from .schemas import Body, Query, Text

HhMm = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
Fee = Field(pattern=r"^[0-9]{1,8}(\.[0-9]{1,2})?$")


class HoursWindowIn(Body):
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday")
    start: str = HhMm  # local wall-clock time in the physician's zone
    end: str = HhMm


class HoursIn(Body):
    physician_id: uuid.UUID | None = None  # an admin names the physician; a physician: own
    time_zone: Text(64, 1) = "Asia/Kolkata"  # type: ignore[valid-type]
    slot_minutes: int = Field(15, ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES)
    fee: str = Fee  # rupees, e.g. "300.00"
    weekly: list[HoursWindowIn] = Field(max_length=50)


class PhysicianLeaveIn(Body):
    physician_id: uuid.UUID | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class ScheduleRangeQuery(Query):
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    physician_id: uuid.UUID | None = None


class AppointmentSlotQuery(ScheduleRangeQuery):
    limit: int = Field(50, ge=1, le=500)


class AppointmentBookIn(Body):
    physician_id: uuid.UUID
    starts_at: AwareDatetime  # a slot's start, as the slots list gives it
    source: AppointmentSource = AppointmentSource.DIRECT
    consultation_id: uuid.UUID | None = None  # the intake or review it follows from
    patient_id: uuid.UUID | None = None  # staff booking a follow-up for a patient


class AppointmentRescheduleIn(Body):
    starts_at: AwareDatetime


class FeePayIn(Body):
    method: Method


class AppointmentListQuery(Query):
    from_: AwareDatetime | None = Field(None, alias="from")  # calendars (staff)
    to: AwareDatetime | None = None
    physician_id: uuid.UUID | None = None  # admin and support name the physician
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class BookablePhysicianOut(Strict):
    id: Id
    name: str
    qualification: str
    specialty: str
    registration_number: str
    council: str


class HoursWindowOut(Strict):
    weekday: int
    start: str
    end: str


class HoursOut(Strict):
    physician_id: Id
    time_zone: str
    slot_minutes: int
    fee: Money
    weekly: list[HoursWindowOut]
    physician: BookablePhysicianOut | None = None


class HoursListOut(Strict):
    items: list[HoursOut]


class PhysicianLeaveOut(Strict):
    id: Id
    physician_id: Id
    starts_at: str
    ends_at: str
    booked_in_leave: list[Id] | None = None  # on creation: bookings left inside it


class PhysicianLeaveListOut(Strict):
    items: list[PhysicianLeaveOut]


class AppointmentSlotOut(Strict):
    physician_id: Id
    starts_at: str
    ends_at: str
    time_zone: str
    fee: Money
    physician: BookablePhysicianOut


class AppointmentSlotsOut(Strict):
    items: list[AppointmentSlotOut]


class CancellationPolicyOut(Strict):
    full_refund_hours: int  # a patient cancelling this long ahead gets all of the fee back
    late_refund_percent: str  # of the fee, when later


class VisitStateOut(Strict):
    """When the video visit may be joined (from ten minutes before to the slot's end)."""

    opens_at: str
    closes_at: str
    open: bool


class AppointmentOut(Strict):
    id: Id
    status: AppointmentStatus
    patient_id: Id
    physician_id: Id
    starts_at: str
    ends_at: str
    source: AppointmentSource
    consultation_id: Id | None
    fee: Money
    paid: bool
    payment_id: Id | None
    refunded: Money
    reschedules: int
    physician_name: str | None = None
    patient_name: str | None = None
    cancellation_policy: CancellationPolicyOut | None = None  # one appointment's view
    pay_by: str | None = None  # an owed fee unpaid by then gives the slot up
    visit: VisitStateOut | None = None  # lists and one appointment's view


class AppointmentsOut(Strict):
    items: list[AppointmentOut]


class AppointmentPaymentOut(PaymentStartOut):
    appointment: AppointmentOut
