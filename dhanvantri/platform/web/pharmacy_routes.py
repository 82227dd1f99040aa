"""Medicine catalogue, pharmacies and their stock, and the cart built from a prescription."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from ..commerce import catalog, pharmacy
from ..domain.catalog import MerchantKind
from .commerce_responses import CartOut, MedicinesOut, MedicineViewOut, MerchantOut, StockOut
from .commerce_schemas import CartIn, MedicineQuery, MedicineSearchQuery, MerchantIn, StockIn
from .common import actor_for, services


async def search(request: web.Request) -> web.Response:
    query = parse_query(request, MedicineSearchQuery)
    return ok({"items": await catalog.search(services(request).uow(), query.q, query.limit)})


async def medicine(request: web.Request) -> web.Response:
    query = parse_query(request, MedicineQuery)
    return ok(await catalog.view(services(request).uow(), path_uuid(request), query.pin_code))


async def create_pharmacy(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, MerchantIn)
    return ok(await pharmacy.create_merchant(
        services(request).uow(), actor_for(request, principal), MerchantKind.PHARMACY,
        body.name, body.user_id, body.pin_codes), status=201)


async def put_stock(request: web.Request) -> web.Response:
    principal = caller(request)
    merchant_id = path_uuid(request)
    body = await parse_body(request, StockIn)
    items = [(item.sku, item.quantity) for item in body.items]
    return ok({"items": await pharmacy.set_stock(services(request).uow(),
                                                 actor_for(request, principal), merchant_id,
                                                 items)})


async def cart(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, CartIn)
    return ok(await pharmacy.cart_from_prescription(
        services(request).uow(), actor_for(request, principal), body.prescription_id,
        body.pin_code))


TAG = "pharmacy"
ENDPOINTS = [
    Endpoint("GET", "/medicines", search, "Search the medicine catalogue", TAG, None,
             query=MedicineSearchQuery, responses={200: "medicines"}, response=MedicinesOut),
    Endpoint("GET", "/medicines/{id}", medicine,
             "A medicine with generic alternatives (and stock near a PIN code)", TAG, None,
             query=MedicineQuery, responses={200: "medicine"}, response=MedicineViewOut),
    Endpoint("POST", "/pharmacies", create_pharmacy, "Register a pharmacy", TAG,
             Perm.MERCHANTS_MANAGE, MerchantIn, responses={201: "pharmacy"},
             response=MerchantOut),
    Endpoint("PUT", "/pharmacies/{id}/stock", put_stock, "Set a pharmacy's stock by SKU", TAG,
             Perm.STOCK_WRITE, StockIn, responses={200: "stock"}, response=StockOut),
    Endpoint("POST", "/carts/from-prescription", cart,
             "Propose a cart for a released prescription", TAG, Perm.SHOP, CartIn,
             responses={200: "cart"}, response=CartOut),
]
