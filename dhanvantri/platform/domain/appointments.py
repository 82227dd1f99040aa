"""Appointments with a physician: weekly hours, leave, the slots they make, and a booking's life.

Weekly hours are wall-clock times in the physician's own zone (a physician abroad keeps their
local hours); every instant is stored in UTC. Booking states::

    booked ──complete──> completed
      ├──cancel──> cancelled        (the slot is free again; a paid fee is refunded per policy)
      ├──expire──> cancelled        (a fee left unpaid past the hold: the slot is offered again)
      └──no_show──> no_show         (after the start, by the physician; nothing is refunded)

Rescheduling moves a booked appointment to another free slot and keeps its id. Two active
bookings can never hold one physician's slot: the database refuses it (a partial unique index
over booked rows, ``tables/scheduling.py``), so no check-then-insert race can let one through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...http.errors import Conflict, ValidationFailed
from .base import Identified, Tracked
from .money import CENT, ZERO

IST = "Asia/Kolkata"
# A visit shorter than this cannot hold a consultation; longer than two hours is not a slot.
MIN_SLOT_MINUTES, MAX_SLOT_MINUTES = 5, 120


class AppointmentStatus(StrEnum):
    """Where an appointment is."""

    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class AppointmentSource(StrEnum):
    """What led to the booking (the intake's advice, a physician's follow-up, or the patient)."""

    INTAKE = "intake"
    FOLLOW_UP = "follow_up"
    DIRECT = "direct"


def zone(name: str, field_name: str = "time_zone") -> ZoneInfo:
    """An IANA time zone; 422 naming ``field_name`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.field(field_name, "unknown time zone") from exc


@dataclass(frozen=True)
class Window:
    """Working hours on one weekday (0 Monday … 6 Sunday), local wall-clock times."""

    weekday: int
    start: time
    end: time

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Window:
        """From ``{"weekday": 0, "start": "09:00", "end": "13:00"}`` (as stored)."""
        return cls(int(raw["weekday"]), time.fromisoformat(raw["start"]),
                   time.fromisoformat(raw["end"]))

    def stored(self) -> dict[str, Any]:
        """As stored (JSON)."""
        return {"weekday": self.weekday, "start": self.start.strftime("%H:%M"),
                "end": self.end.strftime("%H:%M")}


@dataclass(frozen=True)
class Slot:
    """A bookable interval, in UTC."""

    physician_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether it shares any instant with ``[starts_at, ends_at)``."""
        return self.starts_at < ends_at and starts_at < self.ends_at


@dataclass(kw_only=True, eq=False)
class Availability(Tracked):
    """A physician's weekly hours, slot length, zone and consultation fee. ``id`` is theirs."""

    time_zone: str = IST
    slot_minutes: int = 15
    fee: Decimal = ZERO
    weekly: list[dict[str, Any]] = field(default_factory=list)  # ``Window.stored()`` items

    @property
    def physician_id(self) -> uuid.UUID:
        """The physician these hours belong to."""
        return self.id

    def windows(self) -> list[Window]:
        """The weekly hours, parsed."""
        return [Window.parse(raw) for raw in self.weekly]

    def change(self, *, time_zone: str, slot_minutes: int, fee: Decimal,
               windows: list[Window], now: datetime) -> None:
        """Set new hours; windows on one weekday may not overlap and must end after they start."""
        zone(time_zone)
        if not MIN_SLOT_MINUTES <= slot_minutes <= MAX_SLOT_MINUTES:
            raise ValidationFailed.field(
                "slot_minutes", f"must be {MIN_SLOT_MINUTES} to {MAX_SLOT_MINUTES}")
        if fee < 0 or fee != fee.quantize(CENT):
            raise ValidationFailed.field("fee", "must be zero or more, in rupees and paise")
        ordered = sorted(windows, key=lambda w: (w.weekday, w.start))
        for i, window in enumerate(ordered):
            if not 0 <= window.weekday <= 6:
                raise ValidationFailed.field(f"weekly[{i}].weekday", "must be 0 (Mon) to 6 (Sun)")
            if window.end <= window.start:
                raise ValidationFailed.field(f"weekly[{i}].end", "must be after start")
            if i and ordered[i - 1].weekday == window.weekday and ordered[i - 1].end > window.start:
                raise ValidationFailed.field(f"weekly[{i}].start", "overlaps another window")
        self.time_zone, self.slot_minutes, self.fee = time_zone, slot_minutes, fee
        self.weekly = [w.stored() for w in ordered]
        self.touch(now)

    def slots(self, start: datetime, end: datetime) -> Iterator[Slot]:
        """Slots starting in ``[start, end)`` (UTC), in order, never overlapping.

        Each local day the range touches is walked in the physician's zone. A wall time that
        does not exist (a spring-forward gap) is skipped; an ambiguous one (autumn) takes its
        first occurrence, and a slot that would begin before the previous one ended is dropped,
        so a zone with daylight saving never yields two slots over one instant.
        """
        tz, step = zone(self.time_zone), timedelta(minutes=self.slot_minutes)
        windows = self.windows()
        day, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date()
        previous_end = datetime.min.replace(tzinfo=UTC)
        while day <= last:
            for window in (w for w in windows if w.weekday == day.weekday()):
                for slot in self._day_slots(day, window, tz, step):
                    if slot.starts_at >= previous_end and start <= slot.starts_at < end:
                        previous_end = slot.ends_at
                        yield slot
            day += timedelta(days=1)

    def _day_slots(self, day: date, window: Window, tz: ZoneInfo, step: timedelta
                   ) -> Iterator[Slot]:
        local = datetime.combine(day, window.start)
        close = datetime.combine(day, window.end)
        while local + step <= close:
            starts = local.replace(tzinfo=tz).astimezone(UTC)
            # A time in a spring-forward gap does not survive the round trip: not a real time.
            # The length is counted in real time, so a slot across a change is not stretched.
            if starts.astimezone(tz).replace(tzinfo=None) == local:
                yield Slot(self.id, starts, starts + step)
            local += step


@dataclass(kw_only=True, eq=False)
class Leave(Identified):
    """Time a physician is away (``[starts_at, ends_at)`` in UTC): no slots fall in it."""

    physician_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    created_at: datetime | None = None


def free_slots(slots: Iterable[Slot], leave: Iterable[Leave],
               taken: Iterable[tuple[datetime, datetime]]) -> list[Slot]:
    """``slots`` minus those that touch leave or an active booking."""
    busy = [(item.starts_at, item.ends_at) for item in leave] + list(taken)
    return [slot for slot in slots if not any(slot.overlaps(s, e) for s, e in busy)]


ACTIVE = frozenset({AppointmentStatus.BOOKED})


@dataclass(kw_only=True, eq=False)
class Appointment(Tracked):
    """A patient's booked time with a physician, its fee and how it ended."""

    patient_id: uuid.UUID
    physician_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: AppointmentStatus = AppointmentStatus.BOOKED
    source: AppointmentSource = AppointmentSource.DIRECT
    consultation_id: uuid.UUID | None = None  # the intake (or review) it follows from
    booked_by: uuid.UUID | None = None  # a physician booking a follow-up, or the patient
    fee: Decimal = ZERO
    payment_id: uuid.UUID | None = None
    paid_at: datetime | None = None
    refunded: Decimal = ZERO
    reschedules: int = 0
    reminders_sent: int = 0
    ended_at: datetime | None = None

    @classmethod
    def book(cls, *, patient_id: uuid.UUID, slot: Slot, fee: Decimal, source: AppointmentSource,
             consultation_id: uuid.UUID | None, booked_by: uuid.UUID | None,
             now: datetime) -> Appointment:
        """A new booking of ``slot``."""
        appointment = cls(patient_id=patient_id, physician_id=slot.physician_id,
                          starts_at=slot.starts_at, ends_at=slot.ends_at, fee=fee, source=source,
                          consultation_id=consultation_id, booked_by=booked_by)
        appointment.touch(now)
        return appointment

    @property
    def active(self) -> bool:
        """Whether it holds its slot."""
        return self.status in ACTIVE

    @property
    def paid(self) -> bool:
        """Whether its fee was captured."""
        return self.paid_at is not None

    def _require_booked(self, action: str) -> None:
        if self.status != AppointmentStatus.BOOKED:
            raise Conflict(f"cannot {action} an appointment that is {self.status}",
                           code="INVALID_STATE")

    def _require_future(self, action: str, now: datetime) -> None:
        if now >= self.starts_at:
            raise Conflict(f"cannot {action} an appointment that has begun",
                           code="APPOINTMENT_STARTED")

    def ensure_payable(self) -> None:
        """A booked, unpaid appointment with a fee can be paid."""
        self._require_booked("pay for")
        if self.paid or self.fee <= 0:
            raise Conflict("nothing to pay for this appointment", code="NOTHING_TO_PAY")

    def await_payment(self, payment_id: uuid.UUID) -> None:
        """Remember the payment started for it."""
        self.payment_id = payment_id

    def pay(self, payment_id: uuid.UUID, now: datetime) -> None:
        """Its fee was captured."""
        self.ensure_payable()
        self.payment_id, self.paid_at = payment_id, now
        self.touch(now)

    def reschedule(self, slot: Slot, now: datetime) -> None:
        """Move to ``slot`` (of the same physician) before the appointment begins."""
        self._require_booked("reschedule")
        self._require_future("reschedule", now)
        if slot.physician_id != self.physician_id:
            raise ValidationFailed.field("starts_at", "not a slot of this physician")
        self.starts_at, self.ends_at = slot.starts_at, slot.ends_at
        self.reschedules += 1
        self.reminders_sent = 0  # the new time gets its own reminders
        self.touch(now)

    def cancel(self, now: datetime) -> None:
        """Cancelled before it began; the slot is free again."""
        self._require_booked("cancel")
        self._require_future("cancel", now)
        self.status = AppointmentStatus.CANCELLED
        self.touch(now)

    def no_show(self, now: datetime) -> None:
        """The patient did not come; only once the time has begun."""
        self._require_booked("mark as no-show")
        if now < self.starts_at:
            raise Conflict("the appointment has not begun", code="APPOINTMENT_NOT_STARTED")
        self.status = AppointmentStatus.NO_SHOW
        self.touch(now)

    def complete(self, now: datetime) -> None:
        """The visit took place and ended."""
        self._require_booked("complete")
        self.status, self.ended_at = AppointmentStatus.COMPLETED, now
        self.touch(now)

    def expire(self, now: datetime) -> None:
        """Booked but its fee never paid within the hold: the slot goes back on offer."""
        self._require_booked("expire")
        if self.paid:
            raise Conflict("a paid appointment does not expire", code="INVALID_STATE")
        self.status = AppointmentStatus.CANCELLED
        self.touch(now)

    def withdraw(self, now: datetime) -> None:
        """The whole fee was refunded (by support, at any time): the slot is given up."""
        self._require_booked("withdraw")
        self.status = AppointmentStatus.CANCELLED
        self.touch(now)

    def note_refunded(self, total: Decimal, now: datetime) -> None:
        """``total`` of the fee has gone back to the patient so far."""
        self.refunded = total
        self.touch(now)


# The video visit opens this early (the patient settles in the waiting room) and closes at the
# slot's end: ten minutes lets a patient test the microphone before the doctor comes.
VISIT_EARLY = timedelta(minutes=10)


def visit_window(appointment: Appointment) -> tuple[datetime, datetime]:
    """When the appointment's video visit may be joined: ``[opens, closes)`` in UTC."""
    return appointment.starts_at - VISIT_EARLY, appointment.ends_at


def visit_state(appointment: Appointment, now: datetime) -> dict[str, Any]:
    """The visit as the pages show it: its window and whether it is open now."""
    opens, closes = visit_window(appointment)
    return {"opens_at": opens.isoformat(), "closes_at": closes.isoformat(),
            "open": appointment.active and opens <= now < closes}


@dataclass(frozen=True)
class CancellationPolicy:
    """How much of a paid fee a cancellation returns.

    A patient cancelling at least ``full_refund_hours`` before the start gets all of it back,
    later ``late_refund_percent`` of it; a physician cancelling always refunds in full.
    """

    full_refund_hours: int = 24
    late_refund_percent: Decimal = Decimal("50")

    def refund(self, fee: Decimal, starts_at: datetime, now: datetime, *, by_physician: bool
               ) -> Decimal:
        """The amount to give back (two places, rounded down to the paisa)."""
        if by_physician or starts_at - now >= timedelta(hours=self.full_refund_hours):
            return fee
        return (fee * self.late_refund_percent / 100).quantize(CENT, rounding="ROUND_DOWN")
