"""Paying a merchant after delivery: the held amount less the platform's commission."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .base import Identified
from .ledger import ESCROW, MERCHANT, PLATFORM, SYSTEM_OWNER, Leg
from .money import commission


@dataclass(kw_only=True, eq=False)
class Payout(Identified):
    """One order's or booking's payout; one per reference (a second payout is impossible)."""

    merchant_id: uuid.UUID
    reference_type: str  # "order" or "lab_booking"
    reference_id: uuid.UUID
    gross: Decimal
    commission: Decimal
    net: Decimal
    transaction_id: uuid.UUID | None = None  # the ledger posting, set once posted
    created_at: datetime

    @classmethod
    def split(cls, *, merchant_id: uuid.UUID, reference_type: str, reference_id: uuid.UUID,
              gross: Decimal, percent: Decimal, now: datetime) -> Payout:
        """``gross`` split into the platform's commission and the merchant's net."""
        fee = commission(gross, percent)
        return cls(merchant_id=merchant_id, reference_type=reference_type,
                   reference_id=reference_id, gross=gross, commission=fee, net=gross - fee,
                   created_at=now)

    def legs(self) -> list[Leg]:
        """Escrow pays the merchant and the platform."""
        return [Leg(ESCROW, SYSTEM_OWNER, -self.gross),
                Leg(MERCHANT, str(self.merchant_id), self.net),
                Leg(PLATFORM, SYSTEM_OWNER, self.commission)]
