"""The patient's wallet: balance, top-up, family members, transfers."""

from __future__ import annotations

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query
from ...http.permissions import Perm
from ..accounts import normalize_phone
from ..commerce import wallet
from ..domain.money import money
from . import idempotent
from .commerce_responses import (
    FamilyAskedOut,
    FamilyMembersOut,
    MemberOut,
    PaymentStartOut,
    TransferOut,
    WalletOut,
)
from .commerce_schemas import FamilyConfirmIn, FamilyIn, ListQuery, TopUpIn, TransferIn
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


async def ask_family(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, FamilyIn)
    svc = services(request)
    region = svc.settings.phone_region
    phone = normalize_phone(body.phone, region)
    # Each ask sends an SMS to someone else: limited per asker and per number, apart from
    # the login codes' own limits (so asking cannot block the member's sign-in).
    await svc.limits.hit("otp", f"family-asker:{principal.user_id}", f"family-phone:{phone}")
    return ok(await wallet.ask_family(svc.uow(), svc.otps, svc.notifier,
                                      actor_for(request, principal), phone, region=region,
                                      lockouts=svc.limits.lockouts), status=202)


async def confirm_family(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, FamilyConfirmIn)
    svc = services(request)
    return ok(await wallet.confirm_family(svc.uow(), svc.otps, actor_for(request, principal),
                                          body.challenge_id, body.code,
                                          lockouts=svc.limits.lockouts), status=201)


async def members(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok({"items": await wallet.family(services(request).uow(),
                                            actor_for(request, principal))})


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
    Endpoint("GET", "/wallet/family", members, "Family members you may transfer to", TAG,
             Perm.WALLET, responses={200: "members"}, response=FamilyMembersOut),
    Endpoint("POST", "/wallet/family", ask_family,
             "Ask to add a family member: a patient with this number is sent a code", TAG,
             Perm.WALLET, FamilyIn, responses={202: "asked"}, response=FamilyAskedOut,
             description="The answer is the same whether or not the number is a patient's. "
                         "The member reads the code out to you; confirm it to link them."),
    Endpoint("POST", "/wallet/family/confirm", confirm_family,
             "Link the family member with the code they received (their consent)", TAG,
             Perm.WALLET, FamilyConfirmIn, responses={201: "member"}, response=MemberOut),
    Endpoint("POST", "/wallet/transfer", transfer, "Transfer to a family member", TAG,
             Perm.WALLET, TransferIn, responses={201: "transfer"}, response=TransferOut,
             headers=(idempotent.HEADER,)),
]
