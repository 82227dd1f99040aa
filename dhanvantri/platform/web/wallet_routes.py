"""The patient's wallet: balance, top-up, family members, transfers."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query
from ...http.permissions import Perm
from ..commerce import wallet
from ..domain.money import money
from . import idempotent
from .commerce_responses import MemberOut, PaymentStartOut, TransferOut, WalletOut
from .commerce_schemas import FamilyIn, ListQuery, TopUpIn, TransferIn
from .common import actor_for, services


async def get_wallet(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, ListQuery)
    return ok(await wallet.view(services(request).uow(), actor_for(request, principal),
                                query.limit))


async def top_up(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, TopUpIn)
    amount = money(body.amount)
    actor, svc = actor_for(request, principal), services(request)
    return await idempotent.respond(
        request, principal, "wallet_topup", {"amount": str(amount)},
        lambda uow: wallet.top_up(uow, svc.cashier, actor, amount))


async def add_family(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, FamilyIn)
    return ok(await wallet.add_family(services(request).uow(), actor_for(request, principal),
                                      body.phone), status=201)


async def transfer(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, TransferIn)
    amount = money(body.amount)
    actor = actor_for(request, principal)
    return await idempotent.respond(
        request, principal, "wallet_transfer",
        {"member_id": str(body.member_id), "amount": str(amount)},
        lambda uow: wallet.transfer(uow, actor, body.member_id, amount))


TAG = "wallet"
ENDPOINTS = [
    Endpoint("GET", "/wallet", get_wallet, "Wallet balance and entries", TAG, Perm.WALLET,
             query=ListQuery, responses={200: "wallet"}, response=WalletOut),
    Endpoint("POST", "/wallet/topup", top_up, "Top up through the payment gateway", TAG,
             Perm.WALLET, TopUpIn, responses={201: "payment"}, response=PaymentStartOut,
             headers=(idempotent.HEADER,)),
    Endpoint("POST", "/wallet/family", add_family, "Add a family member by phone", TAG,
             Perm.WALLET, FamilyIn, responses={201: "member"}, response=MemberOut),
    Endpoint("POST", "/wallet/transfer", transfer, "Transfer to a family member", TAG,
             Perm.WALLET, TransferIn, responses={201: "transfer"}, response=TransferOut,
             headers=(idempotent.HEADER,)),
]
