"""One place that wires the back office's real parts together (tests swap some of them)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..settings import Settings
from . import audit, db, keys
from .changes import ChangeFeed
from .clinical_gate import default_gate
from .clock import Clock, utcnow
from .commerce import labs, orders
from .commerce.delivery import DeliveryCodes
from .commerce.payments import Cashier
from .domain.audit import AuditKeys
from .esign import ESignProvider, LocalSigner
from .gateways import PaymentGateway, make_gateway
from .notifier import ConsoleNotifier, Notifier
from .otp import CodeHasher, OtpIssuer
from .ratelimit import RateLimits
from .safety import SafetyGate
from .scheduling import bookings as appointments
from .tables import start_mappers
from .tokens import TokenService
from .uow import UnitOfWork

log = logging.getLogger(__name__)

ReviewListener = Callable[[dict[str, Any]], Awaitable[None]]


class ReviewFeed:
    """Tells a listener (the physician desk, set at composition) that the review queue changed.

    The back office knows nothing of the desk or its bus: whoever composes the server calls
    :meth:`listen` once. A change carries ids and states only, never patient words.
    """

    def __init__(self) -> None:
        self._listener: ReviewListener | None = None

    def listen(self, listener: ReviewListener | None) -> None:
        """Send every change to ``listener`` (None: to nobody)."""
        self._listener = listener

    async def changed(self, prescription_id: uuid.UUID | str, status: str, urgent: bool
                      ) -> None:
        """A prescription entered, moved in or left the review queue; never raises."""
        if self._listener is None:
            return
        try:
            await self._listener({"prescription_id": str(prescription_id), "status": status,
                                  "urgent": bool(urgent)})
        except Exception:
            # The decision is stored already; dashboards fall back to polling. Loud in logs.
            log.exception("prescription %s: announcing the review change failed",
                          prescription_id)


@dataclass
class Services:
    """Everything the use cases need, built once per process (or per test app)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    tokens: TokenService
    otps: OtpIssuer
    notifier: Notifier
    signer: ESignProvider
    safety: SafetyGate
    limits: RateLimits
    gateway: PaymentGateway  # gateways.py; the sandbox unless Razorpay is configured
    cashier: Cashier  # takes payments through the gateway (or the wallet)
    delivery_codes: DeliveryCodes
    audit_keys: AuditKeys = field(repr=False)  # seal the audit chain; never in the database
    review: ReviewFeed = field(default_factory=ReviewFeed)  # review queue changes, announced
    # Committed changes of orders, bookings, payments, prescriptions and wallets, announced to
    # the users they concern (the live-updates socket listens, set at composition).
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    _serialize: asyncio.Lock | None = field(default=None, repr=False)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work."""
        return UnitOfWork(self.sessions, audit_keys=self.audit_keys, clock=self.clock,
                          serialize=self._serialize, changes=self.changes)

    def verify_url(self, prescription_id: Any) -> str:
        """The public verification link printed as the PDF's QR code."""
        base = self.settings.public_base_url.rstrip("/") or (
            f"http://{self.settings.host}:{self.settings.port}")
        return f"{base}/api/v1/prescriptions/{prescription_id}/verify"

    async def start(self, *, migrate: bool = True) -> None:
        """Create the schema if configured and migrate the database to head."""
        await db.create_schema_if_needed(self.engine, self.settings)
        if migrate:
            await db.migrate(self.engine)

    async def close(self) -> None:
        """Release database connections."""
        await self.limits.close()
        await self.engine.dispose()


def make_cashier(gateway: PaymentGateway) -> Cashier:
    """The cashier with every payment purpose that has something to fulfil.

    Orders reserve stock and lab bookings a slot when paid, appointments record their fee; a
    wallet top-up needs nothing.
    """
    return Cashier(gateway, {orders.ENTITY: orders.PURPOSE, labs.ENTITY: labs.PURPOSE,
                             appointments.ENTITY: appointments.PURPOSE})


SERVICES = web.AppKey("dhanvantri.platform.services", Services)


def bootstrap(settings: Settings, *, notifier: Notifier | None = None, clock: Clock | None = None,
              safety_gate: SafetyGate | None = None, signer: ESignProvider | None = None
              ) -> Services:
    """Build the services; opens no connection (``start()`` does that)."""
    start_mappers()
    clock = clock or utcnow
    notifier = notifier or ConsoleNotifier()
    engine = db.make_engine(settings)
    secret = keys.jwt_secret(settings)
    otps = OtpIssuer(secret, clock, settings.otp_ttl_seconds, settings.otp_max_attempts)
    gateway = make_gateway(settings, secret)
    audit_keys = AuditKeys.derive(keys.audit_key(settings))
    audit.attach_keys(engine, audit_keys)  # the migration re-sealing an old chain needs them
    return Services(
        settings=settings, engine=engine, sessions=db.session_factory(engine), clock=clock,
        tokens=TokenService(secret, clock, settings.access_token_minutes,
                            settings.refresh_token_days),
        otps=otps, notifier=notifier,
        signer=signer or LocalSigner(keys.signing_key(settings), otps, notifier),
        safety=safety_gate or default_gate(),
        limits=RateLimits.from_settings(settings, secret),
        gateway=gateway, cashier=make_cashier(gateway),
        delivery_codes=DeliveryCodes(CodeHasher(keys.delivery_code_key(settings)),
                                     settings.delivery_otp_ttl_seconds,
                                     settings.delivery_otp_max_attempts),
        audit_keys=audit_keys,
        _serialize=asyncio.Lock() if engine.dialect.name == "sqlite" else None)
