"""A payment's life and the refunds taken from it.

States::

    created ──capture──> captured ──refund (part)──> partially_refunded ──refund (rest)──> refunded
      │                     └──────────────refund (all)──────────────────────────────────────┘
      └──decline (at checkout)──> failed

Money paid for a service is held in ``escrow`` until delivery; a wallet top-up goes straight to
the wallet. Where the money comes from and goes to are ledger legs the payment names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ...http.errors import Conflict
from .base import Identified, Tracked
from .ledger import ESCROW, GATEWAY, WALLET, Leg
from .money import ZERO, text

WALLET_TOPUP = "wallet_topup"


class PaymentStatus(StrEnum):
    """Where a payment is."""

    CREATED = "created"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


REFUNDABLE = frozenset({PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED})


@dataclass(kw_only=True, eq=False)
class Payment(Tracked):
    """Money for an order, a lab booking or a wallet top-up, by gateway or from the wallet."""

    user_id: uuid.UUID
    purpose: str  # "order", "lab_booking" or "wallet_topup"
    reference_id: uuid.UUID | None = None  # what is paid for (none for a top-up)
    method: str  # "gateway" or "wallet"
    gateway: str | None = None
    gateway_order_id: str | None = None
    gateway_payment_id: str | None = None
    amount: Decimal
    refunded: Decimal = ZERO
    status: PaymentStatus = PaymentStatus.CREATED

    @property
    def held(self) -> Decimal:
        """What was paid and not refunded."""
        return self.amount - self.refunded

    def source(self) -> Leg:
        """Where the money came from."""
        if self.method == "wallet":
            return Leg.account(WALLET, str(self.user_id))
        return Leg.account(GATEWAY)

    def target(self) -> Leg:
        """Where captured money waits: the payer's wallet for a top-up, else escrow."""
        if self.purpose == WALLET_TOPUP:
            return Leg.account(WALLET, str(self.user_id))
        return Leg.account(ESCROW)

    def refund_target(self, destination: str) -> Leg:
        """Where refunded money goes: the wallet when asked (or paid from it), else the source."""
        if self.refunds_to_wallet(destination):
            return Leg.account(WALLET, str(self.user_id))
        return self.source()

    def refunds_to_wallet(self, destination: str) -> bool:
        """Wallet payments always go back to the wallet."""
        return destination == "wallet" or self.method == "wallet"

    def capture(self, gateway_payment_id: str | None, now: datetime) -> None:
        """The money arrived (gateway) or left the wallet."""
        if self.status != PaymentStatus.CREATED:
            raise Conflict(f"cannot capture a payment that is {self.status}",
                           code="INVALID_STATE")
        self.status = PaymentStatus.CAPTURED
        self.gateway_payment_id = gateway_payment_id
        self.touch(now)

    def fail(self, now: datetime) -> None:
        """The checkout was declined: nothing was taken and this payment is over."""
        if self.status != PaymentStatus.CREATED:
            raise Conflict(f"cannot fail a payment that is {self.status}", code="INVALID_STATE")
        self.status = PaymentStatus.FAILED
        self.touch(now)

    def refund(self, amount: Decimal | None, now: datetime) -> Decimal:
        """Give back ``amount`` (None: all that remains); returns the amount refunded."""
        if self.status not in REFUNDABLE:
            raise Conflict(f"cannot refund a payment that is {self.status}",
                           code="INVALID_STATE")
        remaining = self.held
        amount = remaining if amount is None else amount
        if amount <= 0 or amount > remaining:
            raise Conflict("refund exceeds what remains", code="REFUND_TOO_LARGE",
                           details={"remaining": text(remaining)})
        self.refunded += amount
        self.status = (PaymentStatus.REFUNDED if self.refunded == self.amount
                       else PaymentStatus.PARTIALLY_REFUNDED)
        self.touch(now)
        return amount

    @property
    def fully_refunded(self) -> bool:
        """Nothing is held any more."""
        return self.status == PaymentStatus.REFUNDED

    def snapshot(self) -> dict[str, Any]:
        """State for audit old/new values."""
        return {"status": self.status.value, "refunded": text(self.refunded)}


@dataclass(kw_only=True, eq=False)
class Refund(Identified):
    """Money given back from a payment, to its source or to the wallet."""

    payment_id: uuid.UUID
    amount: Decimal
    destination: str  # "source" or "wallet"
    gateway_refund_id: str | None = None
    reason: str
    created_at: datetime
