"""What every authenticated WebSocket shares: the first-message token, close codes, pings.

Browsers cannot set headers on a WebSocket, so a token may come as the first message
``{"type": "auth", "token": "..."}`` (never in the URL, which logs and proxies keep). A refused
socket is sent ``{"type": "error", "code", "message"}`` and closed with ``CLOSE_UNAUTHORIZED``
(bad, expired or ended token) or ``CLOSE_FORBIDDEN`` (the role lacks the permission).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from .auth import authorize
from .errors import ApiError, Forbidden, Unauthorized
from .principal import Principal

AUTH_TIMEOUT_S = 10.0  # a client that connects and says nothing is let go
HEARTBEAT_S = 20.0  # under the 30-60 s idle cut-off of common proxies and load balancers
MAX_MESSAGE = 64 * 1024  # clients send only auth and pings
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BUS_LOST = 1011  # internal error: reconnect


async def first_message_auth(request: web.Request, ws: web.WebSocketResponse
                             ) -> tuple[Principal, str] | None:
    """The caller and token of the socket's first message, checked against the endpoint's
    permission; None once the socket has been refused and closed."""
    try:
        msg = await ws.receive(timeout=AUTH_TIMEOUT_S)
        message = json.loads(msg.data) if msg.type is WSMsgType.TEXT else {}
        token = message.get("token") if isinstance(message, dict) else None
        if not isinstance(token, str) or message.get("type") != "auth":
            raise Unauthorized('the first message must be {"type": "auth", "token": "..."}')
        return await authorize(request, token), token  # as for a header
    except (TimeoutError, ValueError, ApiError) as exc:
        await refuse(ws, exc)
        return None


async def refuse(ws: web.WebSocketResponse, exc: Exception) -> None:
    """Tell the client why and close with the matching code (no-op once closed)."""
    unauthorized = not isinstance(exc, Forbidden)
    code = "UNAUTHORIZED" if unauthorized else "FORBIDDEN"
    text = exc.message if isinstance(exc, ApiError) else "no valid auth message"
    if not ws.closed:
        await ws.send_json({"type": "error", "code": code, "message": text})
        await ws.close(code=CLOSE_UNAUTHORIZED if unauthorized else CLOSE_FORBIDDEN,
                       message=code.encode())


async def answer_pings(ws: web.WebSocketResponse) -> None:
    """Read until the client goes, answering ``{"type": "ping"}`` with a pong."""
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            try:
                kind = json.loads(msg.data).get("type")
            except (ValueError, AttributeError):
                kind = None
            if kind == "ping":
                await ws.send_json({"type": "pong", "sent_at": time.time() * 1000.0})
        elif msg.type is WSMsgType.ERROR:
            return


async def pump(ws: web.WebSocketResponse, forward: Coroutine[Any, Any, None]) -> None:
    """Run ``forward`` (bus events to the client) beside :func:`answer_pings` until either ends.

    When ``forward`` ends first the bus dropped the subscription (Redis went away): the socket is
    closed with ``CLOSE_BUS_LOST`` so that the page reconnects and fetches afresh, rather than
    silently missing events.
    """
    sender = asyncio.ensure_future(forward)
    reader = asyncio.ensure_future(answer_pings(ws))
    try:
        await asyncio.wait([sender, reader], return_when=asyncio.FIRST_COMPLETED)
        if sender.done() and not ws.closed:
            await ws.close(code=CLOSE_BUS_LOST, message=b"event bus lost")
    finally:
        for task in (sender, reader):
            task.cancel()
        await asyncio.gather(sender, reader, return_exceptions=True)
