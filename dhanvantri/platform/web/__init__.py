"""The back office's HTTP API under ``/api/v1/``: ``install(app, settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ...http import openapi
from ...http.auth import AUTHENTICATOR
from ...http.endpoint import Endpoint, install_endpoints
from ...http.middleware import error_middleware
from ...settings import Settings
from ..accounts import authenticator
from ..bootstrap import SERVICES, Services, bootstrap
from ..clock import Clock
from ..esign import ESignProvider
from ..notifier import Notifier
from ..record_cipher import RecordCipher
from ..safety import SafetyGate
from . import (
    appointment_routes,
    audit_routes,
    auth_routes,
    consultation_routes,
    lab_routes,
    order_routes,
    payment_routes,
    pharmacy_routes,
    prescription_routes,
    profile_routes,
    record_routes,
    sharing_routes,
    user_routes,
    wallet_routes,
)

__all__ = ["ENDPOINTS", "SERVICES", "Services", "install"]

ENDPOINTS: list[Endpoint] = [*auth_routes.ENDPOINTS, *user_routes.ENDPOINTS,
                             *prescription_routes.ENDPOINTS, *audit_routes.ENDPOINTS,
                             *pharmacy_routes.ENDPOINTS, *order_routes.ENDPOINTS,
                             *lab_routes.ENDPOINTS, *payment_routes.ENDPOINTS,
                             *wallet_routes.ENDPOINTS, *consultation_routes.ENDPOINTS,
                             *profile_routes.ENDPOINTS, *appointment_routes.ENDPOINTS]
ENDPOINTS += sharing_routes.ENDPOINTS
ENDPOINTS += record_routes.ENDPOINTS


META = Endpoint("GET", "/openapi.json", openapi.openapi_document, "This OpenAPI document", "meta",
                None, responses={200: "OpenAPI 3.1 document"})


def install(app: web.Application, settings: Settings, *, notifier: Notifier | None = None,
            clock: Clock | None = None, safety_gate: SafetyGate | None = None,
            signer: ESignProvider | None = None, migrate: bool = True) -> Services:
    """Add the back office to ``app``: routes, error middleware, OpenAPI, database lifecycle.

    Args:
        app: the application being built (not yet started).
        settings: server settings (database URL, secrets, limits).
        notifier: where one-time codes go (default: the server console).
        clock: time source (tests pass a ``ManualClock``).
        safety_gate: the clinical safety gate used when a physician edits a draft.
        signer: the e-sign provider (default: local Ed25519 with OTP).
        migrate: run migrations to head when the application starts.

    Returns:
        The services, also stored as ``app[SERVICES]``.
    """
    services = bootstrap(settings, notifier=notifier, clock=clock, safety_gate=safety_gate,
                         signer=signer)
    app[SERVICES] = services
    app[consultation_routes.CIPHER] = RecordCipher.from_settings(settings)
    app[AUTHENTICATOR] = authenticator(services.uow, services.tokens)
    sharing_routes.install(app, services)
    app.cleanup_ctx.append(sharing_routes.close_limits)
    app.middlewares.append(error_middleware)
    install_endpoints(app, [*ENDPOINTS, META])

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await services.start(migrate=migrate)
        yield
        await services.close()

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(audit_routes.anchor_writer)  # after start-up: migrated
    app.cleanup_ctx.append(appointment_routes.reminder_sweep)  # after start-up: migrated
    return services
