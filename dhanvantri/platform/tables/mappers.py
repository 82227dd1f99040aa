"""The imperative mapping of the plain domain classes onto the tables.

The domain never imports this package; ``start_mappers()`` is called once by the bootstrap.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import relationship

from ..domain.accounts import OtpChallenge, PatientProfile, PhysicianProfile, RefreshToken, User
from ..domain.appointments import Appointment, Availability, Leave
from ..domain.audit import AuditEvent
from ..domain.catalog import Medicine, Merchant, Stock
from ..domain.consultations import Consultation, Turn
from ..domain.labs import LabBooking, LabSlot, LabTest
from ..domain.orders import Order, OrderLine
from ..domain.payments import Payment, Refund
from ..domain.prescriptions import Acknowledgement, Prescription, PrescriptionDocument
from ..domain.settlement import Payout
from ..domain.wallet import FamilyLink
from .accounts import otp_challenges, patients, physicians, refresh_tokens, users
from .audit import audit_events
from .base import mapper_registry
from .commerce import (
    lab_bookings,
    lab_catalog,
    lab_slots,
    medicines,
    merchants,
    order_items,
    orders,
    stock,
)
from .consultations import consultation_turns, consultations
from .money import family_links, payments, payouts, refunds
from .prescriptions import acknowledgements, prescription_documents, prescriptions
from .scheduling import appointments, physician_availability, physician_leave

_started = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (idempotent)."""
    global _started
    if _started:
        return
    for cls, table in [
        (User, users), (PatientProfile, patients), (PhysicianProfile, physicians),
        (OtpChallenge, otp_challenges), (RefreshToken, refresh_tokens),
        (Prescription, prescriptions), (PrescriptionDocument, prescription_documents),
        (Acknowledgement, acknowledgements), (AuditEvent, audit_events),
        (Medicine, medicines), (Merchant, merchants), (Stock, stock),
        (OrderLine, order_items), (LabTest, lab_catalog), (LabSlot, lab_slots),
        (LabBooking, lab_bookings), (Payment, payments), (Refund, refunds),
        (Payout, payouts), (FamilyLink, family_links),
        (Consultation, consultations), (Turn, consultation_turns),
        (Availability, physician_availability), (Leave, physician_leave),
        (Appointment, appointments),
    ]:
        mapper_registry.map_imperatively(cls, table)
    # An order's lines load with it in one extra query (async sessions cannot lazy-load).
    mapper_registry.map_imperatively(Order, orders, properties={
        "lines": relationship(OrderLine, lazy="selectin", order_by=order_items.c.name)})
    # A user's e-mail and phone are sealed; their blind index (hashed at bind time by the
    # column type) follows every assignment, so lookups and the unique constraint stay right.
    for name in ("email", "phone"):
        event.listen(getattr(User, name), "set", _follow(f"{name}_index"))
    _started = True


def _follow(index: str) -> Any:
    def copy(target: Any, value: Any, _old: Any, _initiator: Any) -> None:
        setattr(target, index, value)
    return copy
