"""Live updates for patients, pharmacies and labs: ``GET /api/v1/me/events`` (WebSocket).

The back office's ``ChangeFeed`` (``platform/changes.py``) hands over every committed change of
an order, lab booking, payment, prescription or wallet; :func:`publisher` puts it on the event
bus, on one channel per user it concerns. Each socket listens to its own user's channel, so a
change made through any server process reaches a page connected to any other (``RedisBus``).

The socket, for any signed-in user:

* the access token comes as ``Authorization: Bearer`` or as the first message
  ``{"type": "auth", "token": "..."}`` (browsers cannot set headers on a WebSocket);
* once subscribed the server sends ``{"type": "ready"}``: from then on nothing is missed, so a
  page fetches what it shows then (and again after every reconnect);
* then one ``{"type": "change", "kind", "id", "status"}`` per change that concerns the user;
  ``kind`` is ``order``, ``lab_booking``, ``payment``, ``prescription`` or ``wallet`` (whose
  ``id`` is the owner's user id and ``status`` ``credited``, ``debited`` or ``moved``);
* ``{"type": "ping"}`` is answered with ``{"type": "pong", "sent_at"}``; the server also pings
  at the WebSocket level every ``HEARTBEAT_S``.

Close codes: 4401 when the token is bad, or no longer valid when a change comes (signed out,
expired, account disabled: the change is not sent); 4403 when the role may not listen; 1011
when the event bus was lost (reconnect). Delivery is at most once, as the bus's is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from dhanvantri.desk.cluster.bus import EventBus
from dhanvantri.http.auth import authorize, bearer_token, optional_caller
from dhanvantri.http.endpoint import Endpoint, install_endpoints
from dhanvantri.http.errors import ApiError
from dhanvantri.http.permissions import Perm
from dhanvantri.http.sockets import (
    HEARTBEAT_S,
    MAX_MESSAGE,
    first_message_auth,
    pump,
    refuse,
)
from dhanvantri.platform.bootstrap import SERVICES
from dhanvantri.platform.changes import KINDS, Change, ChangeListener

log = logging.getLogger(__name__)

LIVE_BUS = web.AppKey("dhanvantri.live_updates.bus", EventBus)


def channel(user_id: object) -> str:
    """The bus channel of one user's changes."""
    return f"changes:{user_id}"


def publisher(bus: EventBus) -> ChangeListener:
    """A ``ChangeFeed`` listener that tells each user a change concerns on their channel."""

    async def publish(change: Change) -> None:
        message = change.message()
        for user in sorted(change.users):
            await bus.publish(channel(user), message)

    return publish


async def my_events(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/me/events``: the caller's changes as they are committed."""
    bus = request.app[LIVE_BUS]
    principal, token = optional_caller(request), bearer_token(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    if principal is None or token is None:
        authorized = await first_message_auth(request, ws)
        if authorized is None:
            return ws
        principal, token = authorized
    async with await bus.subscribe(channel(principal.user_id)) as changes:
        await ws.send_json({"type": "ready"})  # subscribed: the page may fetch now
        await pump(ws, _forward(request, ws, token, changes))
    return ws


async def _forward(request: web.Request, ws: web.WebSocketResponse, token: str,
                   changes: AsyncIterator[dict[str, Any]]) -> None:
    try:
        async for event in changes:
            if event.get("type") != "change" or event.get("kind") not in KINDS:
                continue
            try:
                # A signed-out (or expired, or disabled) session hears nothing more. The check
                # is the one every request makes: the database at most every few seconds.
                await authorize(request, token)
            except ApiError as exc:
                await refuse(ws, exc)
                return
            await ws.send_json(event)
    except (ConnectionError, RuntimeError):
        log.info("live-updates socket gone while sending")


TAG = "accounts"
DESCRIPTION = (
    "Token as a bearer header or the first message {\"type\":\"auth\",\"token\":...}. Sends "
    "{\"type\":\"ready\"} once subscribed (fetch then, and after every reconnect), then "
    "{\"type\":\"change\",\"kind\",\"id\",\"status\"} per committed change that concerns the "
    "caller: kind order, lab_booking, payment, prescription or wallet (id: the owner's user "
    "id; status: credited, debited or moved). Ids and states only. {\"type\":\"ping\"} is "
    "answered with {\"type\":\"pong\"}. Close codes 4401 (bad token, or the session ended "
    "before a change was sent), 4403 (role not allowed), 1011 (event bus lost: reconnect).")
ENDPOINTS = [
    Endpoint("GET", "/me/events", my_events, "Live changes to my records (WebSocket)", TAG,
             Perm.PROFILE_READ, description=DESCRIPTION,
             responses={101: "switching to WebSocket"}, token_message=True),
]


def install_live_updates(app: web.Application, bus: EventBus) -> None:
    """Serve ``/api/v1/me/events`` and announce the back office's changes on ``bus``.

    Call after the back office is installed; ``bus`` is shared with the physician desk, which
    opens and closes it.
    """
    app[LIVE_BUS] = bus
    services = app.get(SERVICES)
    if services is not None:
        services.changes.listen(publisher(bus))
    install_endpoints(app, ENDPOINTS)
