"""A pharmacy order's life, from placing to the door (or back to the patient's money).

States::

    placed ─pay─> paid ─pack─> packed ─ship─> shipped ─dispatch─> out_for_delivery ─code─> delivered
      │              │               │
      └──cancel──> cancelled         └──cancel (paid: refund to source)──> refunded

Out for delivery, the order holds a one-time code's keyed hash: the medicines change hands only
when the patient reads out the code; too many wrong codes escalate the order to support.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ...http.errors import ApiError, Conflict, RateLimited, Unauthorized
from .base import Identified, Tracked
from .catalog import Medicine
from .money import ZERO


class OrderStatus(StrEnum):
    """Where a pharmacy order is."""

    PLACED = "placed"
    PAID = "paid"
    PACKED = "packed"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


STEPS: dict[str, tuple[OrderStatus, OrderStatus]] = {
    "pay": (OrderStatus.PLACED, OrderStatus.PAID),
    "pack": (OrderStatus.PAID, OrderStatus.PACKED),
    "ship": (OrderStatus.PACKED, OrderStatus.SHIPPED),
    "dispatch": (OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY),
    "deliver": (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED),
}
# Once shipped the medicines are out of the pharmacy's hands: cancelling needs support.
CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PACKED})
# States in which the order's packs are reserved on the pharmacy's shelf.
RESERVING = frozenset({OrderStatus.PAID, OrderStatus.PACKED})
ESCALATED_RETRY_SECONDS = 600


@dataclass(kw_only=True, eq=False)
class OrderLine(Identified):
    """One medicine of an order at the catalogue price of the moment it was placed."""

    order_id: uuid.UUID | None = None  # set from the order when stored
    medicine_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal

    @classmethod
    def of(cls, medicine: Medicine, quantity: int) -> OrderLine:
        """A line for ``quantity`` packs; prices come from the catalogue, never the client."""
        return cls(medicine_id=medicine.id, name=medicine.label, quantity=quantity,
                   unit_price=medicine.price, line_total=medicine.price * quantity)


@dataclass(kw_only=True, eq=False)
class Order(Tracked):
    """An order at one pharmacy; every state change is a method that checks the step."""

    patient_id: uuid.UUID
    merchant_id: uuid.UUID
    prescription_id: uuid.UUID | None = None
    status: OrderStatus = OrderStatus.PLACED
    pin_code: str
    address: str
    total: Decimal = ZERO
    payment_id: uuid.UUID | None = None
    otp_hash: str | None = None
    # The current code itself, for the patient's own screen: sealed at rest like other PHI
    # (the hash above is what a delivery is checked against).
    delivery_code: str | None = None
    otp_expires_at: datetime | None = None
    otp_attempts: int = 0
    otp_escalated: bool = False
    delivered_at: datetime | None = None
    lines: list[OrderLine] = field(default_factory=list)

    @classmethod
    def place(cls, *, patient_id: uuid.UUID, merchant_id: uuid.UUID,
              prescription_id: uuid.UUID | None, pin_code: str, address: str,
              lines: list[OrderLine], now: datetime) -> Order:
        """A new order totalling its lines."""
        order = cls(patient_id=patient_id, merchant_id=merchant_id,
                    prescription_id=prescription_id, pin_code=pin_code, address=address,
                    total=sum((line.line_total for line in lines), ZERO), lines=lines)
        order.touch(now)
        return order

    def packs(self) -> dict[uuid.UUID, int]:
        """Packs per medicine (one medicine may be on several lines)."""
        counts: Counter[uuid.UUID] = Counter()
        for line in self.lines:
            counts[line.medicine_id] += line.quantity
        return dict(counts)

    @property
    def reserves_stock(self) -> bool:
        """Whether its packs are held on the shelf."""
        return self.status in RESERVING

    def _step(self, step: str, now: datetime) -> None:
        before, after = STEPS[step]
        if self.status != before:
            raise Conflict(f"cannot {step} an order that is {self.status}",
                           code="INVALID_STATE", details={"status": self.status.value})
        self.status = after
        self.touch(now)

    def ensure_payable(self) -> None:
        """Only a placed order can be paid."""
        if self.status != OrderStatus.PLACED:
            raise Conflict(f"cannot pay an order that is {self.status}", code="INVALID_STATE")

    def await_payment(self, payment_id: uuid.UUID) -> None:
        """Remember the payment started for it (captured later, or at once from the wallet)."""
        self.payment_id = payment_id

    def pay(self, payment_id: uuid.UUID, now: datetime) -> None:
        """The payment was captured and the packs reserved."""
        self._step("pay", now)
        self.payment_id = payment_id

    def pack(self, now: datetime) -> None:
        """The pharmacy has packed it."""
        self._step("pack", now)

    def ship(self, now: datetime) -> None:
        """The pharmacy has handed it to delivery."""
        self._step("ship", now)

    def dispatch(self, now: datetime) -> None:
        """Out for delivery (a code is issued next)."""
        self._step("dispatch", now)

    def issue_code(self, code_hash: str, expires_at: datetime, code: str | None = None
                   ) -> None:
        """A fresh delivery code: new expiry, attempts start again, escalation cleared."""
        self.otp_hash, self.otp_expires_at = code_hash, expires_at
        self.delivery_code = code
        self.otp_attempts, self.otp_escalated = 0, False

    def reissue_code(self, code_hash: str, expires_at: datetime, *, by_support: bool,
                     code: str | None = None) -> None:
        """Another code for an order out for delivery; after escalation only support may."""
        if self.status != OrderStatus.OUT_FOR_DELIVERY:
            raise Conflict("the order is not out for delivery", code="INVALID_STATE")
        if self.otp_escalated and not by_support:
            raise Conflict("escalated to support", code="ESCALATED_TO_SUPPORT")
        self.issue_code(code_hash, expires_at, code)

    def code_for_patient(self, now: datetime) -> str:
        """The current delivery code, for the patient to read out at the door.

        Raises:
            Conflict: not out for delivery (``INVALID_STATE``), escalated to support
                (``ESCALATED_TO_SUPPORT``), or the code has expired (``DELIVERY_CODE_PENDING``:
                the pharmacy or support sends a fresh one).
        """
        if self.status != OrderStatus.OUT_FOR_DELIVERY or self.delivery_code is None:
            raise Conflict("the order is not out for delivery", code="INVALID_STATE",
                           details={"status": self.status.value})
        if self.otp_escalated:
            raise Conflict("too many wrong codes: support will send a fresh one",
                           code="ESCALATED_TO_SUPPORT")
        if self.otp_expires_at is None or now >= self.otp_expires_at:
            # Not DELIVERY_OTP_EXPIRED (a 401 for the agent who typed it): nothing to show yet.
            raise Conflict("the delivery code has expired; the pharmacy sends a fresh one",
                           code="DELIVERY_CODE_PENDING")
        return self.delivery_code

    def ensure_awaiting_code(self, now: datetime) -> None:
        """Raise unless a delivery code may be tried now."""
        if self.status != OrderStatus.OUT_FOR_DELIVERY or self.otp_hash is None:
            raise Conflict("the order is not out for delivery", code="INVALID_STATE",
                           details={"status": self.status.value})
        if self.otp_escalated:
            raise _escalated()
        if self.otp_expires_at is None or now >= self.otp_expires_at:
            raise Unauthorized("the delivery code has expired", code="DELIVERY_OTP_EXPIRED")

    def wrong_code(self, max_attempts: int, now: datetime) -> ApiError:
        """Count a wrong code; returns the error to raise once the count is saved."""
        self.otp_attempts += 1
        self.otp_escalated = self.otp_attempts >= max_attempts
        self.touch(now)
        if self.otp_escalated:
            return _escalated()
        return Unauthorized("wrong delivery code", code="DELIVERY_OTP_INVALID",
                            details={"attempts_left": max_attempts - self.otp_attempts})

    def deliver(self, now: datetime) -> None:
        """The right code: the medicines are the patient's; the code is spent."""
        self._step("deliver", now)
        self.otp_hash = self.delivery_code = None
        self.delivered_at = now

    def ensure_cancellable(self) -> None:
        """Cancelling is for orders not yet shipped."""
        if self.status not in CANCELLABLE:
            raise Conflict(f"cannot cancel an order that is {self.status}", code="INVALID_STATE")

    def cancel(self, now: datetime) -> None:
        """Cancel an unpaid order (a paid one is refunded instead)."""
        self.ensure_cancellable()
        if self.status != OrderStatus.PLACED:
            raise Conflict("a paid order is refunded, not cancelled", code="INVALID_STATE")
        self.status = OrderStatus.CANCELLED
        self.touch(now)

    def ensure_refundable(self) -> None:
        """After delivery the pharmacy has been paid: the money is no longer held."""
        if self.status == OrderStatus.DELIVERED:
            raise Conflict("the pharmacy has been paid for this order", code="ALREADY_SETTLED")

    def refund(self, now: datetime, payment_id: uuid.UUID | None = None) -> None:
        """The money went back (cancelled when paid, refunded by support, or unfulfillable)."""
        self.ensure_refundable()
        self.status = OrderStatus.REFUNDED
        if payment_id is not None:
            self.payment_id = payment_id
        self.touch(now)


def _escalated() -> RateLimited:
    return RateLimited("too many wrong codes; support has been alerted",
                       code="DELIVERY_ESCALATED",
                       details={"retry_after": ESCALATED_RETRY_SECONDS})
