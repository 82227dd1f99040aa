"""Pharmacy orders: place, pay, fulfil, deliver with the patient's code, cancel."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from .. import delivery_otp, keys, orders
from . import idempotent
from .commerce_schemas import CancelIn, DeliverIn, ListQuery, OrderIn, PayIn
from .common import actor_for, services


def _otp_key(request: web.Request) -> bytes:
    return keys.jwt_secret(services(request).settings)


async def place(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, OrderIn)
    items = [(item.medicine_id, item.quantity) for item in body.items]
    return ok(await orders.place(services(request).uow(), actor_for(request, principal),
                                 body.pharmacy_id, body.pin_code, body.address, items,
                                 body.prescription_id), status=201)


async def list_all(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, ListQuery)
    return ok({"items": await orders.list_orders(services(request).uow(),
                                                 actor_for(request, principal), query.limit,
                                                 query.offset)})


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await orders.view(services(request).uow(), actor_for(request, principal),
                                path_uuid(request)))


async def pay(request: web.Request) -> web.Response:
    principal = caller(request)
    order_id = path_uuid(request)
    body = await parse_body(request, PayIn)
    actor, svc = actor_for(request, principal), services(request)
    assert svc.gateway is not None
    return await idempotent.respond(
        request, principal, "order_pay", {"order": str(order_id), "method": body.method},
        lambda uow: orders.pay(uow, svc.gateway, actor, order_id, body.method))  # type: ignore[arg-type]


def _step(step: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        principal = caller(request)
        return ok(await orders.advance(services(request).uow(), actor_for(request, principal),
                                       path_uuid(request), step))
    handler.__name__ = step
    return handler


async def dispatch(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await delivery_otp.dispatch(
        svc.uow(), svc.notifier, _otp_key(request), svc.settings.delivery_otp_ttl_seconds,
        actor_for(request, principal), path_uuid(request)))


async def deliver(request: web.Request) -> web.Response:
    principal = caller(request)
    order_id = path_uuid(request)
    body = await parse_body(request, DeliverIn)
    svc = services(request)
    return ok(await delivery_otp.confirm(
        svc.uow(), _otp_key(request), svc.settings.delivery_otp_max_attempts,
        svc.settings.platform_commission_percent, actor_for(request, principal), order_id,
        body.otp))


async def resend(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await delivery_otp.resend(
        svc.uow(), svc.notifier, _otp_key(request), svc.settings.delivery_otp_ttl_seconds,
        actor_for(request, principal), path_uuid(request)))


async def cancel(request: web.Request) -> web.Response:
    principal = caller(request)
    order_id = path_uuid(request)
    body = await parse_body(request, CancelIn)
    svc = services(request)
    assert svc.gateway is not None
    return ok(await orders.cancel(svc.uow(), svc.gateway, actor_for(request, principal),
                                  order_id, body.reason))


TAG = "orders"
KEY = (idempotent.HEADER,)
ENDPOINTS = [
    Endpoint("POST", "/orders", place, "Place a pharmacy order", TAG, Perm.SHOP, OrderIn,
             responses={201: "order"}),
    Endpoint("GET", "/orders", list_all, "Orders the caller may see", TAG, Perm.ORDERS_READ,
             query=ListQuery, responses={200: "orders"}),
    Endpoint("GET", "/orders/{id}", get_one, "One order", TAG, Perm.ORDERS_READ,
             responses={200: "order"}),
    Endpoint("POST", "/orders/{id}/pay", pay, "Pay an order (gateway or wallet)", TAG,
             Perm.SHOP, PayIn, responses={201: "payment"}, headers=KEY),
    Endpoint("POST", "/orders/{id}/pack", _step("pack"), "The pharmacy has packed it", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}),
    Endpoint("POST", "/orders/{id}/ship", _step("ship"), "The pharmacy has shipped it", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}),
    Endpoint("POST", "/orders/{id}/dispatch", dispatch,
             "Out for delivery: the delivery code goes to the patient", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}),
    Endpoint("POST", "/orders/{id}/deliver", deliver,
             "Deliver with the patient's code; the pharmacy is paid", TAG, Perm.ORDERS_FULFIL,
             DeliverIn, responses={200: "order with payout"}, rate_limited=True),
    Endpoint("POST", "/orders/{id}/delivery-otp", resend,
             "Send a fresh delivery code (support after escalation)", TAG,
             Perm.DELIVERY_OTP_RESEND, responses={200: "order"}),
    Endpoint("POST", "/orders/{id}/cancel", cancel,
             "Cancel before shipping (paid: stock released and refunded)", TAG,
             Perm.ORDERS_CANCEL, CancelIn, responses={200: "order"}),
]
