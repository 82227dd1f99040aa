"""Lab tests at home: the test catalogue, collection slots, and a booking's life.

Booking states::

    placed ──pay──> paid ──collect──> sample_collected ──report──> reported
      └──(slot full at payment)──> refunded   paid/sample_collected ──refund──> refunded
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ...http.errors import Conflict
from .base import Identified, Tracked
from .money import ZERO


class BookingStatus(StrEnum):
    """Where a lab booking is."""

    PLACED = "placed"
    PAID = "paid"
    SAMPLE_COLLECTED = "sample_collected"
    REPORTED = "reported"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# States in which the booking holds a place in its slot.
HOLDING = frozenset({BookingStatus.PAID, BookingStatus.SAMPLE_COLLECTED})


@dataclass(kw_only=True, eq=False)
class LabTest:
    """A test on sale: catalogue ``code`` (from its name), specimen, preparation, price."""

    code: str
    name: str
    specimen: str
    preparation: str
    price: Decimal


@dataclass(kw_only=True, eq=False)
class LabSlot(Identified):
    """A home-collection window of one lab at one PIN code, for ``capacity`` bookings."""

    merchant_id: uuid.UUID
    pin_code: str
    starts_at: datetime
    capacity: int
    booked: int = 0

    @property
    def free(self) -> int:
        """Places left."""
        return self.capacity - self.booked

    def hold(self) -> bool:
        """Take a place for a paid booking; False when the slot is full."""
        if self.booked >= self.capacity:
            return False
        self.booked += 1
        return True

    def release(self) -> None:
        """Give a place back (the booking was refunded)."""
        self.booked -= 1


@dataclass(kw_only=True, eq=False)
class LabBooking(Tracked):
    """Tests booked in a slot; results and the PDF report arrive from the lab."""

    patient_id: uuid.UUID
    merchant_id: uuid.UUID
    slot_id: uuid.UUID
    prescription_id: uuid.UUID | None = None
    tests: list[str] = field(default_factory=list)  # lab test codes
    address: str
    status: BookingStatus = BookingStatus.PLACED
    total: Decimal = ZERO
    payment_id: uuid.UUID | None = None
    results: list[dict[str, Any]] | None = None
    report_pdf: bytes | None = None
    report_sha256: str | None = None

    @classmethod
    def book(cls, *, patient_id: uuid.UUID, slot: LabSlot, tests: list[LabTest],
             address: str, prescription_id: uuid.UUID | None, now: datetime) -> LabBooking:
        """A new booking totalling its tests."""
        booking = cls(patient_id=patient_id, merchant_id=slot.merchant_id, slot_id=slot.id,
                      prescription_id=prescription_id,
                      tests=sorted({t.code for t in tests}), address=address,
                      total=sum((t.price for t in tests), ZERO))
        booking.touch(now)
        return booking

    @property
    def holds_slot(self) -> bool:
        """Whether it has a place in its slot."""
        return self.status in HOLDING

    def _require(self, allowed: frozenset[BookingStatus], action: str) -> None:
        if self.status not in allowed:
            raise Conflict(f"cannot {action} a booking that is {self.status}",
                           code="INVALID_STATE")

    def ensure_payable(self) -> None:
        """Only a placed booking can be paid."""
        self._require(frozenset({BookingStatus.PLACED}), "pay")

    def await_payment(self, payment_id: uuid.UUID) -> None:
        """Remember the payment started for it."""
        self.payment_id = payment_id

    def pay(self, payment_id: uuid.UUID, now: datetime) -> None:
        """The payment was captured and a place in the slot held."""
        self.ensure_payable()
        self.status = BookingStatus.PAID
        self.payment_id = payment_id
        self.touch(now)

    def collect(self, now: datetime) -> None:
        """The lab has collected the sample."""
        self._require(frozenset({BookingStatus.PAID}), "collect for")
        self.status = BookingStatus.SAMPLE_COLLECTED
        self.touch(now)

    def ensure_reportable(self) -> None:
        """A report needs a paid booking."""
        self._require(HOLDING, "report")

    def report(self, results: list[dict[str, Any]], pdf: bytes, sha256: str,
               now: datetime) -> None:
        """The lab's PDF and flagged values; the service is delivered."""
        self.ensure_reportable()
        self.status = BookingStatus.REPORTED
        self.results, self.report_pdf, self.report_sha256 = results, pdf, sha256
        self.touch(now)

    def ensure_refundable(self) -> None:
        """After the report the lab has been paid: the money is no longer held."""
        if self.status == BookingStatus.REPORTED:
            raise Conflict("the lab has been paid for this booking", code="ALREADY_SETTLED")

    def refund(self, now: datetime, payment_id: uuid.UUID | None = None) -> None:
        """The money went back (refunded by support, or the slot was full)."""
        self.ensure_refundable()
        self.status = BookingStatus.REFUNDED
        if payment_id is not None:
            self.payment_id = payment_id
        self.touch(now)


def flag(value: float, low: float | None, high: float | None) -> str:
    """``"low"``, ``"high"`` or ``"normal"`` against a reference range (open ends allowed)."""
    if low is not None and value < low:
        return "low"
    if high is not None and value > high:
        return "high"
    return "normal"
