"""Reading the audit trail (admins; values arrive masked), and the server's anchor writer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ...http.endpoint import Endpoint, ok, parse_query
from ...http.permissions import Perm
from .. import audit
from ..bootstrap import SERVICES
from .common import services
from .schemas import AuditEvents, AuditQuery, ChainVerification


async def list_events(request: web.Request) -> web.Response:
    query = parse_query(request, AuditQuery)
    events = await audit.list_events(services(request).uow(), query.entity_type, query.entity_id,
                                     query.after_seq, query.limit)
    return ok({"items": events})


async def verify_chain(request: web.Request) -> web.Response:
    count, broken = await audit.verify_trail(services(request).uow())
    body: dict[str, Any] = {"intact": broken is None, "checked": count}
    if broken:
        body["broken_at"] = {"seq": broken.seq, "reason": broken.reason}
    return ok(body)


ENDPOINTS = [
    Endpoint("GET", "/audit/events", list_events, "Audit events in chain order", "audit",
             Perm.AUDIT_READ, query=AuditQuery, responses={200: "events"}, response=AuditEvents),
    Endpoint("GET", "/audit/verify", verify_chain, "Verify the audit HMAC chain", "audit",
             Perm.AUDIT_READ, responses={200: "verification result"},
             response=ChainVerification),
]


async def anchor_writer(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: append the audit head to ``<data dir>/audit_anchors.jsonl`` every
    ``audit_anchor_minutes`` while the server runs (README, Security: ship that file away)."""
    svc = app[SERVICES]
    minutes = svc.settings.audit_anchor_minutes
    if minutes <= 0:
        yield
        return
    path = svc.settings.resolved_data_dir() / audit.ANCHOR_FILE
    task = asyncio.get_running_loop().create_task(
        audit.keep_anchoring(svc.uow, path, minutes * 60), name="audit-anchors")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
