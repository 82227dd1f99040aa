"""Which role may do what. Routes name a permission; this table is the single place to change it."""

from __future__ import annotations

from enum import StrEnum

from .errors import Forbidden
from .principal import Principal, Role


class Perm(StrEnum):
    """Permissions checked by routes and use cases."""

    PROFILE_READ = "profile:read"
    CONSULT = "consultations:join"  # start, join and end one's own consultation
    CONSULT_READ = "consultations:read"  # patients: own; physicians and admins: all
    PATIENT_PROFILE_WRITE = "patient_profile:write"
    MFA_MANAGE = "mfa:manage"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    RX_QUEUE = "prescriptions:queue"
    RX_READ = "prescriptions:read"  # patients: own; pharmacy and lab: released, own orders
    RX_REVIEW = "prescriptions:review"
    RX_SIGN = "prescriptions:sign"
    RX_ACKNOWLEDGE = "prescriptions:acknowledge"
    RX_RELEASE = "prescriptions:release"
    # Commerce: pharmacy orders, labs, payments, wallet.
    SHOP = "commerce:shop"  # carts, orders, lab bookings and paying for them (own)
    WALLET = "wallet:use"
    ORDERS_READ = "orders:read"  # patients: own; pharmacies: theirs
    ORDERS_FULFIL = "orders:fulfil"
    ORDERS_CANCEL = "orders:cancel"
    DELIVERY_OTP_RESEND = "orders:delivery_otp"
    MERCHANTS_MANAGE = "merchants:manage"
    STOCK_WRITE = "stock:write"
    LABS_OPERATE = "labs:operate"
    LAB_BOOKINGS_READ = "lab_bookings:read"  # patients: own; labs: theirs
    PAYMENTS_READ = "payments:read"
    PAYMENTS_REFUND = "payments:refund"
    SETTLEMENTS_READ = "settlements:read"
    # The physician desk: the escalation queue, accepting, joining and steering a live call.
    ESCALATIONS = "escalations:handle"
    ESCALATIONS_RESOLVE = "escalations:resolve"  # physicians (their own), admins (any)
    # A patient's own sharing: the emergency card, family access, record shares. What a family
    # member may do for another is decided per person by platform/sharing/access.py.
    EMERGENCY_CARD = "emergency_card:manage"
    FAMILY = "family:use"
    SHARES = "shares:manage"
    # Appointments with physicians: hours and leave, booking, the visit's outcome.
    AVAILABILITY_WRITE = "availability:write"  # physicians: own; admins: any
    APPOINTMENTS_BOOK = "appointments:book"  # patients: own; staff: for a patient (follow-up)
    APPOINTMENTS_READ = "appointments:read"  # patients and physicians: own; admin, support: all
    APPOINTMENTS_ATTEND = "appointments:attend"  # mark a visit completed or missed
    # The health record: the timeline, uploaded documents, the FHIR export.
    RECORD_READ = "record:read"  # patients: their own timeline, documents, FHIR export
    RECORD_WRITE = "record:write"  # patients: upload and delete their own documents
    RECORD_EXPORT = "record:export"  # physicians: FHIR of a patient they treat


_ALL = frozenset({Perm.PROFILE_READ})
_STAFF = _ALL | {Perm.MFA_MANAGE}

_PATIENT_SHOP = {Perm.SHOP, Perm.WALLET, Perm.ORDERS_READ, Perm.ORDERS_CANCEL,
                 Perm.LAB_BOOKINGS_READ, Perm.PAYMENTS_READ}
_PHARMACY_SHOP = {Perm.ORDERS_READ, Perm.ORDERS_FULFIL, Perm.ORDERS_CANCEL,
                  Perm.DELIVERY_OTP_RESEND, Perm.STOCK_WRITE, Perm.SETTLEMENTS_READ}
_LAB_SHOP = {Perm.LABS_OPERATE, Perm.LAB_BOOKINGS_READ, Perm.SETTLEMENTS_READ}
_ADMIN_SHOP = (_PHARMACY_SHOP | _LAB_SHOP | {Perm.MERCHANTS_MANAGE, Perm.PAYMENTS_READ,
                                             Perm.PAYMENTS_REFUND})
_SUPPORT_SHOP = {Perm.ORDERS_READ, Perm.ORDERS_CANCEL, Perm.DELIVERY_OTP_RESEND,
                 Perm.LAB_BOOKINGS_READ, Perm.PAYMENTS_READ, Perm.PAYMENTS_REFUND}
_BOOKING = {Perm.APPOINTMENTS_BOOK, Perm.APPOINTMENTS_READ}
_DESK_BOOKING = _BOOKING | {Perm.AVAILABILITY_WRITE, Perm.APPOINTMENTS_ATTEND}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.PATIENT: _ALL | {Perm.CONSULT, Perm.CONSULT_READ, Perm.PATIENT_PROFILE_WRITE, Perm.RX_READ,
                          Perm.RX_ACKNOWLEDGE, Perm.RX_RELEASE} | _PATIENT_SHOP
    | {Perm.EMERGENCY_CARD, Perm.FAMILY, Perm.SHARES} | _BOOKING
    | {Perm.RECORD_READ, Perm.RECORD_WRITE},
    Role.PHYSICIAN: _STAFF | {Perm.RX_QUEUE, Perm.RX_READ, Perm.RX_REVIEW, Perm.RX_SIGN,
                              Perm.RX_RELEASE, Perm.ESCALATIONS, Perm.ESCALATIONS_RESOLVE,
                              Perm.CONSULT_READ} | _DESK_BOOKING | {Perm.RECORD_EXPORT},
    Role.PHARMACY: _STAFF | {Perm.RX_READ} | _PHARMACY_SHOP,
    Role.LAB: _STAFF | {Perm.RX_READ} | _LAB_SHOP,
    Role.ADMIN: _STAFF | {Perm.USERS_READ, Perm.USERS_WRITE, Perm.AUDIT_READ, Perm.RX_READ,
                          Perm.RX_RELEASE, Perm.CONSULT_READ, Perm.ESCALATIONS_RESOLVE}
    | _ADMIN_SHOP | _DESK_BOOKING,
    Role.SUPPORT: _STAFF | {Perm.USERS_READ} | _SUPPORT_SHOP | _BOOKING,
}


def allowed(role: Role, perm: Perm) -> bool:
    """Whether ``role`` holds ``perm``."""
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def ensure(principal: Principal, perm: Perm) -> None:
    """Raise ``Forbidden`` unless the caller's role holds ``perm``."""
    if not allowed(principal.role, perm):
        raise Forbidden(f"role {principal.role.value} may not {perm.value}",
                        details={"required": perm.value})


def roles_with(perm: Perm) -> list[Role]:
    """Roles that hold ``perm`` (for the OpenAPI document and tests)."""
    return [role for role in Role if allowed(role, perm)]
