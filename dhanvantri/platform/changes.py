"""State changes of a person's records, announced to the people they concern once committed.

Every change of an order, lab booking, payment or prescription is audited through the unit of
work, and every wallet movement is a ledger posting made through it. So the unit of work, not
each use case, tells this feed what it is about to commit (``gather``, inside the transaction,
where the records are at hand) and, once the commit succeeded, hands the result to a listener
(``announce``). Whoever composes the server sets the listener (the live-updates socket's bus);
the back office knows nothing of it, as with ``ReviewFeed``.

A change names a kind, an id and a state, never patient words: pages refetch what they show.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from .domain.audit import AuditEvent
from .domain.ledger import WALLET, Leg

log = logging.getLogger(__name__)


class UnitOfWork(Protocol):
    """The repositories a change is read from (``uow.UnitOfWork``, which imports this module)."""

    orders: Any
    labs: Any
    payments: Any
    prescriptions: Any
    merchants: Any
    appointments: Any

ORDER, LAB_BOOKING, PAYMENT, PRESCRIPTION = "order", "lab_booking", "payment", "prescription"
APPOINTMENT = "appointment"
KINDS = frozenset({ORDER, LAB_BOOKING, PAYMENT, PRESCRIPTION, WALLET, APPOINTMENT})
# Reading a record is audited too, but changes nothing; announcing it would also loop: a page
# refetches on a change, and its fetch would be announced as the next change.
READ_SUFFIXES = ("_viewed", "_downloaded")


@dataclass(frozen=True, slots=True)
class Change:
    """One record's new state, for the users it concerns.

    Attributes:
        kind: one of ``KINDS``.
        id: the record's id (a wallet's is its owner's user id).
        status: the record's state after the commit; a wallet's is ``credited``, ``debited``
            or ``moved`` (money in and out, netting to nothing).
        users: ids of the users to tell.
    """

    kind: str
    id: str
    status: str
    users: frozenset[str]

    def message(self) -> dict[str, str]:
        """What a user is sent: the change without its audience."""
        return {"type": "change", "kind": self.kind, "id": self.id, "status": self.status}


ChangeListener = Callable[[Change], Awaitable[None]]
Found = tuple[str, Iterable[Any]] | None  # a record's state and the users it concerns


class ChangeFeed:
    """Gathers what a transaction changes and announces it after commit to one listener."""

    def __init__(self) -> None:
        self._listener: ChangeListener | None = None

    def listen(self, listener: ChangeListener | None) -> None:
        """Send every committed change to ``listener`` (None: to nobody)."""
        self._listener = listener

    @property
    def listening(self) -> bool:
        """Whether anyone listens (when nobody does, nothing is gathered)."""
        return self._listener is not None

    async def gather(self, uow: UnitOfWork, events: Iterable[AuditEvent], legs: Iterable[Leg]
                     ) -> list[Change]:
        """The changes ``events`` and ledger ``legs`` make, read inside ``uow``'s transaction.

        Never raises: a change that cannot be described is logged and left out (pages also
        refetch when their socket reconnects), and the transaction commits regardless.
        """
        if not self.listening:
            return []
        try:
            changes = {(c.kind, c.id): c for c in await _records(uow, events)}
            for change in _wallets(legs):
                changes[(change.kind, change.id)] = change
            return list(changes.values())
        except Exception:
            log.exception("gathering the changes to announce failed")
            return []

    async def announce(self, changes: Iterable[Change]) -> None:
        """Hand committed changes to the listener; never raises (the change is stored)."""
        listener = self._listener
        if listener is None:
            return
        for change in changes:
            try:
                await listener(change)
            except Exception:
                log.exception("%s %s: announcing the change failed", change.kind, change.id)


async def _records(uow: UnitOfWork, events: Iterable[AuditEvent]) -> list[Change]:
    found: dict[tuple[str, str], Change] = {}
    for event in events:
        describe = _DESCRIBE.get(event.entity_type)
        if describe is None or event.action.endswith(READ_SUFFIXES):
            continue
        try:
            record_id = uuid.UUID(event.entity_id)
        except ValueError:
            continue
        # The records were loaded by the use case: these reads come from the session's
        # identity map, with a query only for the merchant behind an order or booking.
        described = await describe(uow, record_id)
        if described is not None:
            status, users = described
            found[(event.entity_type, str(record_id))] = Change(
                event.entity_type, str(record_id), status,
                frozenset(str(u) for u in users if u is not None))
    return list(found.values())


async def _order(uow: UnitOfWork, record_id: uuid.UUID) -> Found:
    order = await uow.orders.get(record_id)
    if order is None:
        return None
    return order.status.value, [order.patient_id, await _owner(uow, order.merchant_id)]


async def _lab_booking(uow: UnitOfWork, record_id: uuid.UUID) -> Found:
    booking = await uow.labs.booking(record_id)
    if booking is None:
        return None
    return booking.status.value, [booking.patient_id, await _owner(uow, booking.merchant_id)]


async def _payment(uow: UnitOfWork, record_id: uuid.UUID) -> Found:
    payment = await uow.payments.get(record_id, lock=False)
    return None if payment is None else (payment.status.value, [payment.user_id])


async def _prescription(uow: UnitOfWork, record_id: uuid.UUID) -> Found:
    rx = await uow.prescriptions.get(record_id)
    return None if rx is None else (rx.status.value, [rx.patient_id])


async def _appointment(uow: UnitOfWork, record_id: uuid.UUID) -> Found:
    # The patient, the physician, and a family manager who booked it for a dependent.
    item = await uow.appointments.get(record_id)
    return None if item is None else (
        item.status.value, [item.patient_id, item.physician_id, item.booked_by])


async def _owner(uow: UnitOfWork, merchant_id: uuid.UUID) -> uuid.UUID | None:
    """The staff user who runs the pharmacy or lab."""
    merchant = await uow.merchants.get(merchant_id)
    return None if merchant is None else merchant.user_id


_DESCRIBE: dict[str, Callable[[UnitOfWork, uuid.UUID], Awaitable[Found]]] = {
    ORDER: _order, LAB_BOOKING: _lab_booking, PAYMENT: _payment, PRESCRIPTION: _prescription,
    APPOINTMENT: _appointment}


def _wallets(legs: Iterable[Leg]) -> list[Change]:
    """One change per wallet the postings moved: a wallet's owner is its account's owner."""
    net: dict[str, Decimal] = {}
    for leg in legs:
        if leg.kind == WALLET:
            net[leg.owner] = net.get(leg.owner, Decimal(0)) + leg.amount
    return [Change(WALLET, owner, "credited" if amount > 0 else "debited" if amount < 0
                   else "moved", frozenset({owner}))
            for owner, amount in net.items()]
