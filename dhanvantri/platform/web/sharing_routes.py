"""Emergency cards, family access and record shares over HTTP.

The public endpoints (a card's view, a share's link, code and view) take their token in the
body, never the path: the link carries it in its fragment, so it reaches no access log. Their
answers are never cached (``Cache-Control: no-store``) nor indexed, and each client address is
rate-limited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from limits.aio.storage import RedisStorage

from ...http import pages
from ...http.auth import REQUEST_ID, caller
from ...http.endpoint import Endpoint, client_ip, ok, parse_body, path_uuid
from ...http.errors import ValidationFailed
from ...http.permissions import Perm
from .. import keys
from ..accounts import normalize_phone
from ..bootstrap import Services
from ..otp import CodeHasher
from ..ratelimit import RateLimits
from ..sharing import emergency_card, family, shares
from ..sharing.domain import CardField, Level, ShareKind
from . import sharing_schemas as s
from .common import actor_for, services

LIMITS = web.AppKey("dhanvantri.platform.sharing_limits", RateLimits)
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow",
           "Referrer-Policy": "no-referrer"}


def install(app: web.Application, svc: Services) -> None:
    """The public endpoints' per-address limits (in Redis when the deployment runs on it), and
    the public pages a card's or share's link opens."""
    settings = svc.settings
    folder = pages.web_client_dir(settings.web_client_dir)
    for route, name in ((emergency_card.PAGE, "emergency_card.html"),
                        (shares.PAGE, "shared_view.html")):
        if (folder / name).is_file():
            app.router.add_get(route, _page(folder / name))
    storage = None
    if settings.bus == "redis":
        storage = RedisStorage(f"async+{settings.redis_url}", implementation="redispy",
                               key_prefix=f"{settings.bus_prefix}sharing")
    app[LIMITS] = RateLimits({"card": settings.emergency_card_rate_limit,
                              "share": settings.share_rate_limit},
                             svc.limits.lockouts, storage)


def _page(file: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(file, headers=PRIVATE)

    return page


def _private(body: object, status: int = 200) -> web.Response:
    response = ok(body, status)
    response.headers.update(PRIVATE)
    return response


def _base_url(request: web.Request) -> str:
    return services(request).settings.public_base_url or f"{request.scheme}://{request.host}"


def _codes(request: web.Request) -> CodeHasher:
    return CodeHasher(keys.derived_key(services(request).settings, "dhanvantri/share-code"))


async def _limit(request: web.Request, rule: str) -> None:
    await request.app[LIMITS].hit(rule, f"{rule}:{client_ip(request)}")


# ------------------------------------------------------------------ emergency card
async def make_card(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.EmergencyCardIn)
    if CardField.BLOOD_GROUP in body.fields and body.blood_group is None:
        raise ValidationFailed.field("blood_group", "choose it, or leave it off the card")
    if CardField.CONTACTS in body.fields and not body.contacts:
        raise ValidationFailed.field("contacts", "add one, or leave them off the card")
    fields = list(dict.fromkeys(body.fields))
    return _private(await emergency_card.make(
        services(request).uow(), actor_for(request, principal), _base_url(request), fields,
        body.blood_group if CardField.BLOOD_GROUP in fields else None,
        [c.model_dump() for c in body.contacts] if CardField.CONTACTS in fields else []), 201)


async def get_card(request: web.Request) -> web.Response:
    principal = caller(request)
    return _private(await emergency_card.current(services(request).uow(),
                                                 actor_for(request, principal)))


async def revoke_card(request: web.Request) -> web.Response:
    principal = caller(request)
    await emergency_card.revoke(services(request).uow(), actor_for(request, principal))
    return web.Response(status=204, headers=PRIVATE)


async def view_card(request: web.Request) -> web.Response:
    await _limit(request, "card")
    body = await parse_body(request, s.LinkTokenIn)
    return _private(await emergency_card.open_card(services(request).uow(), body.token,
                                                   request.get(REQUEST_ID)))


# ------------------------------------------------------------------ family
async def get_family(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await family.overview(services(request).uow(), actor_for(request, principal)))


async def invite(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.FamilyInviteIn)
    svc = services(request)
    phone = normalize_phone(body.phone, svc.settings.phone_region)  # one number, one count
    # Each invitation texts someone else: limited per inviter and per number, apart from the
    # login codes' own limits (so inviting cannot block the invitee's sign-in).
    await svc.limits.hit("otp", f"family-inviter:{principal.user_id}",
                         f"family-invitee:{phone}")
    return ok(await family.invite(svc.uow(), svc.otps, svc.notifier,
                                  actor_for(request, principal), phone, Level(body.level),
                                  region=svc.settings.phone_region), 202)


async def accept(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.FamilyAcceptIn)
    svc = services(request)
    return ok(await family.accept(svc.uow(), svc.otps, actor_for(request, principal),
                                  path_uuid(request), body.code, lockouts=svc.limits.lockouts))


async def add_dependent(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.FamilyDependentIn)
    return ok(await family.add_dependent(services(request).uow(), actor_for(request, principal),
                                         body.full_name, body.date_of_birth, body.sex,
                                         body.relation), 201)


async def set_level(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.FamilyLevelIn)
    return ok(await family.set_level(services(request).uow(), actor_for(request, principal),
                                     path_uuid(request), Level(body.level)))


async def revoke_member(request: web.Request) -> web.Response:
    principal = caller(request)
    await family.revoke(services(request).uow(), actor_for(request, principal),
                        path_uuid(request))
    return web.Response(status=204)


async def leave(request: web.Request) -> web.Response:
    principal = caller(request)
    await family.leave(services(request).uow(), actor_for(request, principal),
                       path_uuid(request))
    return web.Response(status=204)


async def member_record(request: web.Request) -> web.Response:
    principal = caller(request)
    return _private(await family.record(services(request).uow(), actor_for(request, principal),
                                        path_uuid(request)))


async def consult_for(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await family.authorise_consultation(
        services(request).uow(), actor_for(request, principal), path_uuid(request)))


# ------------------------------------------------------------------ shares
async def make_share(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, s.RecordShareIn)
    if (body.kind == ShareKind.RECORD) != (body.reference_id is None):
        raise ValidationFailed.field("reference_id",
                                     "give it for one prescription or lab report, only then")
    return _private(await shares.create(
        services(request).uow(), _codes(request), actor_for(request, principal),
        _base_url(request), body.kind, body.reference_id, body.minutes), 201)


async def list_shares(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok({"items": await shares.mine(services(request).uow(),
                                          actor_for(request, principal))})


async def revoke_share(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await shares.revoke(services(request).uow(), actor_for(request, principal),
                                  path_uuid(request)))


async def open_share(request: web.Request) -> web.Response:
    await _limit(request, "share")
    body = await parse_body(request, s.LinkTokenIn)
    return _private(await shares.open_link(services(request).uow(), body.token,
                                            request.get(REQUEST_ID)))


async def unlock_share(request: web.Request) -> web.Response:
    await _limit(request, "share")
    body = await parse_body(request, s.ShareUnlockIn)
    return _private(await shares.unlock(services(request).uow(), _codes(request), body.token,
                                        body.code, request.get(REQUEST_ID)))


async def view_share(request: web.Request) -> web.Response:
    await _limit(request, "share")
    body = await parse_body(request, s.ShareSessionIn)
    return _private(await shares.view(services(request).uow(), body.session,
                                      request.get(REQUEST_ID)))


async def close_limits(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: nothing to open; the limiter's storage closes with the app."""
    yield
    if LIMITS in app:
        await app[LIMITS].close()


CARD, FAMILY, SHARE = "emergency_card", "family", "shares"
GONE = {410: "revoked, expired or locked (the page says which)"}
MEMBER = s.FamilyMembershipOut
ENDPOINTS = [
    Endpoint("GET", "/emergency-card", get_card, "Your live emergency card", CARD,
             Perm.EMERGENCY_CARD, responses={200: "card"}, response=s.EmergencyCardOut),
    Endpoint("PUT", "/emergency-card", make_card,
             "Make a new emergency card (the previous one stops working)", CARD,
             Perm.EMERGENCY_CARD, s.EmergencyCardIn,
             responses={201: "card with its link and QR code"}, response=s.EmergencyCardMadeOut,
             description="The link and QR code are shown only now; only their digest is kept."),
    Endpoint("POST", "/emergency-card/revoke", revoke_card,
             "Revoke your emergency card: its link and every printed QR stop working", CARD,
             Perm.EMERGENCY_CARD, responses={204: "revoked"}),
    Endpoint("POST", "/emergency-card/view", view_card,
             "Open an emergency card by its link's token (no sign-in)", CARD, None,
             s.LinkTokenIn, responses={200: "only the fields its patient chose", **GONE},
             response=s.EmergencyCardViewOut, rate_limited=True,
             description="Every view is audited."),
    Endpoint("GET", "/family", get_family, "Your family, families you are in, invitations",
             FAMILY, Perm.FAMILY, responses={200: "family"}, response=s.FamilyOverviewOut),
    Endpoint("POST", "/family/invitations", invite,
             "Invite a patient by phone as manager or viewer", FAMILY, Perm.FAMILY,
             s.FamilyInviteIn, responses={202: "invited"}, response=s.FamilyInvitedOut,
             rate_limited=True,
             description="The same answer whether or not the number is a patient's. They "
                         "accept in their own app with the code sent to them."),
    Endpoint("POST", "/family/invitations/{id}/accept", accept,
             "Accept an invitation with the code sent to you (your consent)", FAMILY,
             Perm.FAMILY, s.FamilyAcceptIn, responses={200: "membership"}, response=MEMBER,
             rate_limited=True),
    Endpoint("POST", "/family/dependents", add_dependent,
             "Add a dependent without a phone (a child, an elderly parent)", FAMILY,
             Perm.FAMILY, s.FamilyDependentIn, responses={201: "dependent"}, response=MEMBER),
    Endpoint("PATCH", "/family/members/{id}", set_level, "Change a member's level (owner)",
             FAMILY, Perm.FAMILY, s.FamilyLevelIn, responses={200: "member"}, response=MEMBER),
    Endpoint("POST", "/family/members/{id}/revoke", revoke_member,
             "Remove a member (owner): their access ends at once", FAMILY, Perm.FAMILY,
             responses={204: "removed"}),
    Endpoint("POST", "/family/members/{id}/leave", leave, "Leave a family", FAMILY,
             Perm.FAMILY, responses={204: "left"}),
    Endpoint("GET", "/family/people/{id}/record", member_record,
             "A dependent's record (owner, manager, viewer)", FAMILY, Perm.FAMILY,
             responses={200: "record"}, response=s.FamilyRecordOut,
             description="Checked by family level and audited, allowed or not."),
    Endpoint("POST", "/family/people/{id}/consultations/authorise", consult_for,
             "May you start a consultation for this dependent (owner, manager)?", FAMILY,
             Perm.FAMILY, responses={200: "allowed"}, response=s.FamilyConsultOut),
    Endpoint("GET", "/shares", list_shares, "Your record shares", SHARE, Perm.SHARES,
             responses={200: "shares"}, response=s.RecordShareListOut),
    Endpoint("POST", "/shares", make_share, "Share part of your record for a while", SHARE,
             Perm.SHARES, s.RecordShareIn, responses={201: "share with its link, QR and code"},
             response=s.RecordShareMadeOut,
             description="The link, QR code and six-digit code are shown only now."),
    Endpoint("POST", "/shares/{id}/revoke", revoke_share, "End a share at once", SHARE,
             Perm.SHARES, responses={200: "share"}, response=s.RecordShareOut),
    Endpoint("POST", "/shares/open", open_share, "What a share link is (no sign-in)", SHARE,
             None, s.LinkTokenIn, responses={200: "waiting for its code", **GONE},
             response=s.ShareLinkOut, rate_limited=True),
    Endpoint("POST", "/shares/unlock", unlock_share,
             "Enter the code the patient reads out (no sign-in)", SHARE, None, s.ShareUnlockIn,
             responses={200: "a read-only session until the share ends", **GONE},
             response=s.ShareSessionOut, rate_limited=True,
             description="Three wrong codes lock the share for good."),
    Endpoint("POST", "/shares/view", view_share, "The shared record, read-only", SHARE, None,
             s.ShareSessionIn, responses={200: "shared content", **GONE},
             response=s.SharedContentOut, rate_limited=True,
             description="Every view is audited."),
]
