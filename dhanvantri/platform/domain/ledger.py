"""Double-entry rules: accounts by kind and owner, legs that sum to zero, no overdrawn wallet.

System accounts: ``escrow`` holds what patients paid until delivery, ``platform`` collects
commission, ``gateway`` is the counterpart of money that came in or went out through the payment
gateway (it goes negative as patients pay in; the whole ledger always sums to zero).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ...http.errors import Conflict
from .money import CENT

WALLET, MERCHANT = "wallet", "merchant"
ESCROW, PLATFORM, GATEWAY = "escrow", "platform", "gateway"
NON_NEGATIVE = frozenset({WALLET, MERCHANT})  # accounts of people and merchants
SYSTEM_OWNER = "system"


@dataclass(frozen=True)
class Leg:
    """One side of a posting: ``amount`` is added to the account (negative: taken from it)."""

    kind: str
    owner: str
    amount: Decimal

    @classmethod
    def account(cls, kind: str, owner: str = SYSTEM_OWNER) -> Leg:
        """An account as a leg with no amount yet (see ``move``)."""
        return cls(kind, owner, Decimal(0))


@dataclass(frozen=True)
class Entry:
    """One line of an account's history."""

    amount: Decimal
    kind: str  # the transaction's kind: payment, refund, transfer, payout ...
    reference: str
    created_at: datetime


class InsufficientFunds(Conflict):
    """A wallet or merchant account would go below zero."""

    code = "INSUFFICIENT_FUNDS"


def move(frm: Leg, to: Leg, amount: Decimal) -> list[Leg]:
    """Two legs taking ``amount`` from one account to another."""
    return [Leg(frm.kind, frm.owner, -amount), Leg(to.kind, to.owner, amount)]


def check_balanced(legs: Sequence[Leg]) -> None:
    """Raise ``ValueError`` (a programming error) unless the legs sum to zero in whole paise."""
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise ValueError("ledger legs must sum to zero")
    if any(leg.amount != leg.amount.quantize(CENT) for leg in legs):
        raise ValueError("ledger amounts are whole paise")
