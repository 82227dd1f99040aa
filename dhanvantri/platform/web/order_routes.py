"""Pharmacy orders: place, pay, fulfil, deliver with the patient's code, cancel."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, Handler, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from ..commerce import delivery, orders
from . import idempotent
from .commerce_responses import (
    DeliveredOrderOut,
    DeliveryCodeOut,
    OrderOut,
    OrderPaymentOut,
    OrdersOut,
    QuoteOut,
)
from .commerce_schemas import CancelIn, DeliverIn, ListQuery, OrderIn, PayIn, QuoteIn
from .common import actor_for, services


async def place(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, OrderIn)
    items = [(item.medicine_id, item.quantity) for item in body.items]
    return ok(await orders.place(services(request).uow(), actor_for(request, principal),
                                 body.pharmacy_id, body.pin_code, body.address, items,
                                 body.prescription_id), status=201)


async def quote(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, QuoteIn)
    items = [(item.medicine_id, item.quantity) for item in body.items]
    return ok(await orders.quote(services(request).uow(), actor_for(request, principal),
                                 body.pharmacy_id, body.pin_code, items, body.prescription_id))


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
    return await idempotent.respond(
        request, principal, "order_pay", {"order": str(order_id), "method": body.method},
        lambda uow: orders.pay(uow, svc.cashier, actor, order_id, body.method))


def _step(step: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        principal = caller(request)
        return ok(await orders.advance(services(request).uow(), actor_for(request, principal),
                                       path_uuid(request), step))
    handler.__name__ = step
    return handler


async def dispatch(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await delivery.dispatch(svc.uow(), svc.notifier, svc.delivery_codes,
                                      actor_for(request, principal), path_uuid(request)))


async def deliver(request: web.Request) -> web.Response:
    principal = caller(request)
    order_id = path_uuid(request)
    body = await parse_body(request, DeliverIn)
    svc = services(request)
    return ok(await delivery.confirm(svc.uow(), svc.delivery_codes,
                                     svc.settings.platform_commission_percent,
                                     actor_for(request, principal), order_id, body.otp))


async def resend(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await delivery.resend(svc.uow(), svc.notifier, svc.delivery_codes,
                                    actor_for(request, principal), path_uuid(request)))


async def delivery_code(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await delivery.code_for_patient(services(request).uow(),
                                              actor_for(request, principal), path_uuid(request)))


async def cancel(request: web.Request) -> web.Response:
    principal = caller(request)
    order_id = path_uuid(request)
    body = await parse_body(request, CancelIn)
    svc = services(request)
    return ok(await orders.cancel(svc.uow(), svc.cashier, actor_for(request, principal),
                                  order_id, body.reason))


TAG = "orders"
KEY = (idempotent.HEADER,)
ENDPOINTS = [
    Endpoint("POST", "/orders", place, "Place a pharmacy order", TAG, Perm.SHOP, OrderIn,
             responses={201: "order"}, response=OrderOut),
    Endpoint("POST", "/orders/quote", quote,
             "Price an order before placing it (the catalogue totals it)", TAG, Perm.SHOP,
             QuoteIn, responses={200: "priced lines and total"}, response=QuoteOut),
    Endpoint("GET", "/orders", list_all, "Orders the caller may see", TAG, Perm.ORDERS_READ,
             query=ListQuery, responses={200: "orders"}, response=OrdersOut),
    Endpoint("GET", "/orders/{id}", get_one, "One order", TAG, Perm.ORDERS_READ,
             responses={200: "order"}, response=OrderOut),
    Endpoint("POST", "/orders/{id}/pay", pay, "Pay an order (gateway or wallet)", TAG,
             Perm.SHOP, PayIn, responses={201: "payment"}, response=OrderPaymentOut,
             headers=KEY),
    Endpoint("POST", "/orders/{id}/pack", _step("pack"), "The pharmacy has packed it", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}, response=OrderOut),
    Endpoint("POST", "/orders/{id}/ship", _step("ship"), "The pharmacy has shipped it", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}, response=OrderOut),
    Endpoint("POST", "/orders/{id}/dispatch", dispatch,
             "Out for delivery: the delivery code goes to the patient", TAG,
             Perm.ORDERS_FULFIL, responses={200: "order"}, response=OrderOut),
    Endpoint("POST", "/orders/{id}/deliver", deliver,
             "Deliver with the patient's code; the pharmacy is paid", TAG, Perm.ORDERS_FULFIL,
             DeliverIn, responses={200: "order with payout"}, response=DeliveredOrderOut,
             rate_limited=True),
    Endpoint("POST", "/orders/{id}/delivery-otp", resend,
             "Send a fresh delivery code (support after escalation)", TAG,
             Perm.DELIVERY_OTP_RESEND, responses={200: "order"}, response=OrderOut),
    Endpoint("GET", "/orders/{id}/delivery-code", delivery_code,
             "The patient's own delivery code, while out for delivery", TAG, Perm.SHOP,
             responses={200: "the code to read out at the door",
                        409: "INVALID_STATE (not out for delivery), ESCALATED_TO_SUPPORT or "
                             "DELIVERY_CODE_PENDING (expired: a fresh one is on its way)"},
             response=DeliveryCodeOut,
             description="Only the order's patient gets it (404 for anyone else, staff "
             "included): the pharmacy hears it at the door. Each read is audited."),
    Endpoint("POST", "/orders/{id}/cancel", cancel,
             "Cancel before shipping (paid: stock released and refunded)", TAG,
             Perm.ORDERS_CANCEL, CancelIn, responses={200: "order"}, response=OrderOut),
]
