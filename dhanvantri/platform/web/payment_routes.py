"""Payments: checkout confirmation, the sandbox checkout, webhooks, refunds; settlements."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import MAX_BODY, Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.errors import NotFound
from ...http.permissions import Perm
from ...http.principal import Role
from .. import payments, settlement
from ..domain.commerce import money
from ..gateways import SandboxGateway
from . import idempotent
from .commerce_schemas import ConfirmIn, RefundIn, SettlementQuery
from .common import actor_for, services


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    async with services(request).uow() as uow:
        row = await payments.load(uow, payment_id, lock=False)
        if principal.role == Role.PATIENT and row.user_id != principal.user_id:
            raise NotFound("no such payment")
        return ok(payments.describe(row))


async def confirm(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    body = await parse_body(request, ConfirmIn)
    svc = services(request)
    assert svc.gateway is not None
    return ok(await payments.confirm(svc.uow(), svc.gateway, actor_for(request, principal),
                                     payment_id, body.razorpay_payment_id,
                                     body.razorpay_signature))


async def sandbox_checkout(request: web.Request) -> web.Response:
    """What the hosted checkout page hands the client after the patient pays (sandbox only)."""
    principal = caller(request)
    payment_id = path_uuid(request)
    gateway = services(request).gateway
    if not isinstance(gateway, SandboxGateway):
        raise NotFound("the sandbox gateway is not in use")
    async with services(request).uow() as uow:
        row = await payments.load(uow, payment_id, lock=False)
        if row.user_id != principal.user_id or row.gateway_order_id is None:
            raise NotFound("no such payment")
    return ok(gateway.checkout(row.gateway_order_id))


async def webhook(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise NotFound("no such event")
    body = await request.read()
    svc = services(request)
    assert svc.gateway is not None
    event_id = request.headers.get("X-Razorpay-Event-Id", "")
    if not event_id:
        import hashlib

        event_id = "sha256:" + hashlib.sha256(body).hexdigest()
    return ok(await payments.webhook(svc.uow(), svc.gateway, body,
                                     request.headers.get("X-Razorpay-Signature", ""), event_id))


async def refund(request: web.Request) -> web.Response:
    principal = caller(request)
    payment_id = path_uuid(request)
    body = await parse_body(request, RefundIn)
    amount = money(body.amount) if body.amount is not None else None
    actor, svc = actor_for(request, principal), services(request)
    assert svc.gateway is not None

    async def work(uow):  # type: ignore[no-untyped-def]
        row = await payments.load(uow, payment_id)
        row = await payments.refund(uow, svc.gateway, actor, row, amount, body.destination,
                                    body.reason)
        return 201, payments.describe(row)

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
             responses={200: "payment"}),
    Endpoint("POST", "/payments/{id}/confirm", confirm,
             "Checkout callback: verify the gateway signature and capture", TAG, Perm.SHOP,
             ConfirmIn, responses={200: "payment"}),
    Endpoint("POST", "/payments/{id}/sandbox-checkout", sandbox_checkout,
             "Pay at the built-in sandbox checkout (embedded mode only)", TAG, Perm.SHOP,
             responses={200: "checkout result"}),
    Endpoint("POST", "/payments/webhook", webhook,
             "Gateway webhook (X-Razorpay-Signature over the raw body)", TAG, None,
             responses={200: "processed, duplicate or ignored", 400: "bad signature"}),
    Endpoint("POST", "/payments/{id}/refund", refund, "Refund all or part of a payment", TAG,
             Perm.PAYMENTS_REFUND, RefundIn, responses={201: "payment"},
             headers=(idempotent.HEADER,)),
    Endpoint("GET", "/settlements", settlements, "Settlement report per merchant", TAG,
             Perm.SETTLEMENTS_READ, query=SettlementQuery, responses={200: "settlements"}),
]
