"""Reading the audit trail (admins)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...http.endpoint import Endpoint, ok, parse_query
from ...http.permissions import Perm
from .. import audit
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
    Endpoint("GET", "/audit/verify", verify_chain, "Verify the audit hash chain", "audit",
             Perm.AUDIT_READ, responses={200: "verification result"},
             response=ChainVerification),
]
