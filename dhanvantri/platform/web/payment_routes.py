"""Payments: checkout confirmation, the sandbox checkout, webhooks, refunds; settlements."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import MAX_BODY, Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.errors import Conflict, NotFound
from ...http.permissions import Perm
from ...http.principal import Role
from ..commerce import payments, settlement
from ..domain.money import money
from ..domain.payments import PaymentStatus
from ..gateways import SandboxGateway
from ..uow import UnitOfWork
from . import idempotent
from .commerce_responses import PaymentOut, SandboxCheckoutOut, SettlementsOut, WebhookOut
from .commerce_schemas import ConfirmIn, RefundIn, SandboxCheckoutIn, SettlementQuery
from .common import actor_for, services


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    async with services(request).uow() as uow:
        payment = await payments.load(uow, payment_id, lock=False)
        if principal.role == Role.PATIENT and payment.user_id != principal.user_id:
            raise NotFound("no such payment")
        return ok(payments.describe(payment))


async def confirm(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    body = await parse_body(request, ConfirmIn)
    svc = services(request)
    return ok(await svc.cashier.confirm(svc.uow(), actor_for(request, principal), payment_id,
                                        body.razorpay_payment_id, body.razorpay_signature))


async def sandbox_checkout(request: web.Request) -> web.Response:
    """What the hosted checkout page hands the client after the patient pays (sandbox only).

    ``{"outcome": "failed"}`` plays a declined card instead: the payment is marked failed
    (audited) and the answer carries the gateway-style error, so a client's failure path runs.
    """
    principal = caller(request)
    payment_id = path_uuid(request)
    # body_exists, not can_read_body: the error middleware has already read the body.
    body = (await parse_body(request, SandboxCheckoutIn) if request.body_exists
            else SandboxCheckoutIn())
    svc = services(request)
    gateway = svc.gateway
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("the sandbox gateway is not in use")
    async with svc.uow() as uow:
        payment = await payments.load(uow, payment_id, lock=False)
        if payment.user_id != principal.user_id or payment.gateway_order_id is None:
            raise NotFound("no such payment")
    if payment.status == PaymentStatus.FAILED:
        raise Conflict("this payment was declined; start a new payment", code="INVALID_STATE",
                       details={"status": payment.status.value})
    if body.outcome == "failed":
        await svc.cashier.decline(svc.uow(), actor_for(request, principal), payment_id,
                                  "declined at the sandbox checkout")
        return ok(gateway.decline(payment.gateway_order_id))
    return ok(gateway.checkout(payment.gateway_order_id))


async def webhook(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise NotFound("no such event")
    body = await request.read()
    svc = services(request)
    # Without the gateway's event id, the body's hash names the event.
    event_id = (request.headers.get("X-Razorpay-Event-Id", "")
                or "sha256:" + hashlib.sha256(body).hexdigest())
    return ok(await svc.cashier.webhook(svc.uow(), body,
                                        request.headers.get("X-Razorpay-Signature", ""),
                                        event_id))


async def refund(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    body = await parse_body(request, RefundIn)
    amount = money(body.amount) if body.amount is not None else None
    actor, svc = actor_for(request, principal), services(request)

    async def work(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        payment = await payments.load(uow, payment_id)
        await svc.cashier.refund(uow, actor, payment, amount, body.destination, body.reason)
        return 201, payments.describe(payment)

    return await idempotent.respond(request, principal, "refund",
                                    {"payment": str(payment_id), **body.model_dump()}, work)


async def settlements(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, SettlementQuery)
    return ok({"items": await settlement.report(services(request).uow(),
                                                actor_for(request, principal),
                                                query.merchant_id)})


TAG = "payments"
ENDPOINTS = [
    Endpoint("GET", "/payments/{id}", get_one, "One payment", TAG, Perm.PAYMENTS_READ,
             responses={200: "payment"}, response=PaymentOut),
    Endpoint("POST", "/payments/{id}/confirm", confirm,
             "Checkout callback: verify the gateway signature and capture", TAG, Perm.SHOP,
             ConfirmIn, responses={200: "payment"}, response=PaymentOut),
    Endpoint("POST", "/payments/{id}/sandbox-checkout", sandbox_checkout,
             "Pay at the built-in sandbox checkout (embedded mode only)", TAG, Perm.SHOP,
             SandboxCheckoutIn, responses={200: "checkout result (or the decline's error)"},
             response=SandboxCheckoutOut, body_optional=True,
             description="Without a body, or with outcome \"paid\", the answer is what "
             "/payments/{id}/confirm takes. With outcome \"failed\" the payment is marked "
             "failed and the answer carries the gateway's error instead of a signature."),
    Endpoint("POST", "/payments/webhook", webhook,
             "Gateway webhook (X-Razorpay-Signature over the raw body)", TAG, None,
             responses={200: "processed, duplicate or ignored", 400: "bad signature"},
             response=WebhookOut),
    Endpoint("POST", "/payments/{id}/refund", refund, "Refund all or part of a payment", TAG,
             Perm.PAYMENTS_REFUND, RefundIn, responses={201: "payment"}, response=PaymentOut,
             headers=(idempotent.HEADER,)),
    Endpoint("GET", "/settlements", settlements, "Settlement report per merchant", TAG,
             Perm.SETTLEMENTS_READ, query=SettlementQuery, responses={200: "settlements"},
             response=SettlementsOut),
]
