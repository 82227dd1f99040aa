"""The physician desk of one server process: escalation routing, presence and the consultations
it holds, wired to the bus.

``PhysicianDesk.on_consultation_event`` is the hook a live consultation calls with each event it
sends to the patient; an ``{"type": "escalation", ...}`` event raises an escalation. While an
escalated consultation is live here, the desk lists it in the shared consultation directory (so
a physician connected to another process can find its holder) and relays what the bus addresses
to it (``escalation_timeout``, ``escalation_accepted``, ``escalation_resolved``, and a
physician's commands: listen, take over, hand back, leave) to the live session. Where this
process holds calls, the desk joins physicians to them through its
:class:`~dhanvantri.desk.call_host.CallHost`.

A booked appointment's video visit (:meth:`PhysicianDesk.open_visit`) is held the same way from
the patient's first event, its call reserved for the booked physician.

The desk also carries the back office's review-queue changes to every dashboard
(:meth:`PhysicianDesk.review_changed`): on the bus, so a decision taken on one process reaches
physicians connected to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from dhanvantri.background import Background
from dhanvantri.desk.call_host import CallHost, PhysicianJoin
from dhanvantri.desk.cluster.bus import EventBus
from dhanvantri.desk.cluster.directory import Directory, keep_alive, make_directory
from dhanvantri.desk.escalations import (
    QUEUE_CHANNEL,
    AuditSink,
    EscalationService,
    consultation_channel,
)
from dhanvantri.desk.store import make_store
from dhanvantri.http.errors import ApiError, Conflict, NotFound
from dhanvantri.platform.domain.audit import SYSTEM
from dhanvantri.settings import Settings

log = logging.getLogger(__name__)

EventSink = Callable[[dict[str, Any]], None]
PRESENCE_TTL_S = 15.0
# Told to the patient (shown; the advice of a timeout or resolution also spoken).
RELAYED = frozenset({"escalation_timeout", "escalation_accepted", "escalation_resolved"})
# A physician's commands to a live consultation, run by the process holding it.
COMMANDS = frozenset({"listen", "takeover", "handback", "leave", "end"})
REQUEST_TIMEOUT_S = 15.0  # a physician's join waits this long for the holding process


def node_id() -> str:
    """An id for this server process, unique across hosts and restarts."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class PhysicianDesk:
    """Everything physician-facing that one process runs.

    Args:
        bus: the event bus (in-process or Redis).
        settings: escalation timeout and emergency number.
        audit: where escalation steps are audited (None without the back office).
        node: this process's id (default: :func:`node_id`).
    """

    def __init__(self, bus: EventBus, settings: Settings, *, audit: AuditSink | None = None,
                 node: str | None = None) -> None:
        self.bus = bus
        self.node = node or node_id()
        self.physicians: Directory = make_directory(bus, "physicians")
        self.consultations: Directory = make_directory(bus, "consultations")
        self.escalations = EscalationService(
            bus, make_store(bus), self.physicians, node=self.node,
            timeout_s=settings.escalation_timeout_s, audit=audit,
            emergency_number=settings.emergency_number)
        self._online: dict[str, int] = {}  # physician id -> dashboards open in this process
        self._held: dict[str, asyncio.Task[None]] = {}
        self._tasks = Background(log, "physician desk")
        self._host: CallHost | None = None

    @property
    def host(self) -> CallHost | None:
        """The calls this process holds (None where it takes no calls)."""
        return self._host

    def serve_calls(self, host: CallHost) -> None:
        """Join physicians to the calls ``host`` holds, wherever their request arrived."""
        self._host = host

    # ------------------------------------------------------------------ consultations
    def on_consultation_event(self, consultation_id: str, event: dict[str, Any],
                              send_event: EventSink, ended: asyncio.Event | None = None
                              ) -> None:
        """Called with each event a live consultation sends its patient; must not block.

        Args:
            consultation_id: the consultation.
            event: the event (only ``escalation`` events matter here).
            send_event: takes what the bus addresses to this consultation (the live session's
                ``receive``: escalation news for the patient, a physician's commands).
            ended: set when the consultation ends (the desk stops holding it then).
        """
        if event.get("type") != "escalation":
            return
        self._spawn(self._escalate(consultation_id, event, send_event, ended),
                    name=f"escalate-{consultation_id}")

    def open_visit(self, consultation_id: str, *, appointment_id: str, physician_id: str,
                   send_event: EventSink, ended: asyncio.Event) -> None:
        """A booked visit's patient is connected: hold the call here and reserve it for the
        booked physician (an escalation accepted by them, never offered to others); settle it
        when the call ends. Must not block; a second call for the consultation does nothing.
        """
        if consultation_id in self._held:
            return
        ready = asyncio.Event()
        self._held[consultation_id] = self._spawn(
            self._hold(consultation_id, send_event, ended, ready), name=f"hold-{consultation_id}")
        self._spawn(self._reserve_visit(consultation_id, appointment_id, physician_id, ready,
                                        ended), name=f"visit-{consultation_id}")

    async def _reserve_visit(self, consultation_id: str, appointment_id: str,
                             physician_id: str, ready: asyncio.Event, ended: asyncio.Event
                             ) -> None:
        await ready.wait()
        escalation = await self.escalations.reserve(
            consultation_id, appointment_id=appointment_id, physician_id=physician_id)
        await ended.wait()
        # The call is over: the reservation leaves the open queue (already resolved: fine).
        with contextlib.suppress(Conflict):
            await self.escalations.resolve(escalation.id, SYSTEM, admin=True)

    async def _escalate(self, consultation_id: str, event: dict[str, Any],
                        send_event: EventSink, ended: asyncio.Event | None) -> None:
        if consultation_id not in self._held:
            # Hold first: the relay must be subscribed before a timeout could be published.
            ready = asyncio.Event()
            self._held[consultation_id] = self._spawn(
                self._hold(consultation_id, send_event, ended, ready),
                name=f"hold-{consultation_id}")
            await ready.wait()
        turn = event.get("turn")
        await self.escalations.raise_escalation(
            consultation_id, reason=str(event.get("reason") or "other"),
            red_flags=[str(f) for f in event.get("red_flags") or ()],
            emergency=bool(event.get("emergency")),
            topics=[str(t) for t in event.get("topics") or ()],
            turn=turn if isinstance(turn, int) else None)

    async def _hold(self, consultation_id: str, send_event: EventSink,
                    ended: asyncio.Event | None, ready: asyncio.Event) -> None:
        """List the consultation as held here and relay bus events to its patient until it ends.
        """
        try:
            async with keep_alive(self.consultations, consultation_id, {"node": self.node}), \
                    await self.bus.subscribe(consultation_channel(consultation_id)) as inbox:
                ready.set()
                relay = asyncio.ensure_future(self._relay(consultation_id, inbox, send_event))
                try:
                    if ended is None:
                        await relay
                    else:
                        await ended.wait()
                finally:
                    relay.cancel()
                    await asyncio.gather(relay, return_exceptions=True)
        finally:
            ready.set()
            self._held.pop(consultation_id, None)
            self.escalations.forget(consultation_id)

    async def _relay(self, consultation_id: str, inbox: Any, send_event: EventSink) -> None:
        async for message in inbox:
            kind = message.get("type")
            if kind in RELAYED or kind in COMMANDS:
                send_event(message)
            elif kind == "join" and isinstance(message.get("reply_to"), str):
                self._spawn(self._answer_join(consultation_id, message),
                            name=f"join-{consultation_id}")

    async def _answer_join(self, consultation_id: str, message: dict[str, Any]) -> None:
        """Join a physician (whose request reached another process) to a call held here."""
        reply: dict[str, Any]
        try:
            if self._host is None:
                raise NotFound("this process takes no calls", code="NOT_LIVE")
            answer = await self._host.join(consultation_id, PhysicianJoin.from_message(message))
            reply = dict(answer)
        except ApiError as exc:
            reply = {"error": {"status": exc.status, "code": exc.code, "message": exc.message,
                               "details": exc.details}}
        except Exception:
            log.exception("consultation %s: joining a physician failed", consultation_id)
            reply = {"error": {"status": 500, "code": "JOIN_FAILED",
                               "message": "joining the call failed"}}
        await self.bus.publish(message["reply_to"], reply)

    async def request(self, consultation_id: str, message: dict[str, Any],
                      wait_s: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
        """Send ``message`` to the process holding the consultation and wait for its reply.

        Raises:
            LookupError: no process holds the consultation.
            TimeoutError: the holder did not answer in time.
        """
        if await self.holder(consultation_id) is None:
            raise LookupError("no live consultation with that id")
        reply_to = f"reply.{secrets.token_hex(8)}"
        async with asyncio.timeout(wait_s), await self.bus.subscribe(reply_to) as inbox:
            await self.bus.publish(consultation_channel(consultation_id),
                                   {**message, "reply_to": reply_to})
            async for reply in inbox:
                return reply
        raise LookupError("the event bus closed before the reply")

    async def command(self, consultation_id: str, command: dict[str, Any]) -> str:
        """Send a physician's command to the process holding the consultation.

        Returns:
            The holder's node id.

        Raises:
            ValueError: ``command["type"]`` is not one of ``COMMANDS``.
            LookupError: no process holds the consultation (it ended).
        """
        if command.get("type") not in COMMANDS:
            raise ValueError(f"type: must be one of {sorted(COMMANDS)}")
        holder = await self.holder(consultation_id)
        if holder is None:
            raise LookupError("no live consultation with that id")
        await self.bus.publish(consultation_channel(consultation_id), command)
        return holder

    async def holder(self, consultation_id: str) -> str | None:
        """The id of the process holding the live consultation, if any holds it."""
        entry = await self.consultations.get(consultation_id)
        return None if entry is None else str(entry.get("node"))

    # ------------------------------------------------------------------ review queue
    async def review_changed(self, change: dict[str, Any]) -> None:
        """Tell every physician's dashboard that the review queue changed.

        Args:
            change: ``prescription_id``, ``status`` and ``urgent`` (ids and states only: the
                dashboards fetch the queue itself over HTTP, with its permission check).
        """
        await self.bus.publish(QUEUE_CHANNEL, {
            "type": "review_queue", "prescription_id": str(change["prescription_id"]),
            "status": str(change["status"]), "urgent": bool(change["urgent"]),
            "published_at": time.time() * 1000.0})

    # ------------------------------------------------------------------ presence
    async def physician_online(self, physician_id: str) -> None:
        """A dashboard opened (call :meth:`physician_offline` when it closes)."""
        self._online[physician_id] = self._online.get(physician_id, 0) + 1
        await self.physicians.put(physician_id, {"node": self.node}, PRESENCE_TTL_S)

    async def physician_offline(self, physician_id: str) -> None:
        """A dashboard closed; the physician stays online while another of theirs is open."""
        left = self._online.get(physician_id, 0) - 1
        if left > 0:
            self._online[physician_id] = left
            return
        self._online.pop(physician_id, None)
        await self.physicians.remove(physician_id)

    async def refresh_presence(self) -> None:
        """Heartbeat for every physician with a dashboard open here."""
        for physician_id in list(self._online):
            await self.physicians.put(physician_id, {"node": self.node}, PRESENCE_TTL_S)

    async def run_presence(self) -> None:
        """Refresh presence, and time out overdue escalations, until cancelled."""
        while True:
            await asyncio.sleep(PRESENCE_TTL_S / 3)
            try:
                await self.refresh_presence()
                await self.escalations.sweep()
            except Exception:
                log.exception("physician desk heartbeat failed")

    # ------------------------------------------------------------------ lifecycle
    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name)

    def start(self) -> None:
        """Start the presence heartbeat (call inside the running loop)."""
        self._spawn(self.run_presence(), name="physician-presence")

    async def close(self) -> None:
        """Stop timers, relays and heartbeats; close the bus."""
        await self._tasks.cancel_all()
        await self.escalations.close()
        for physician_id in list(self._online):
            await self.physicians.remove(physician_id)
        self._online.clear()
        await self.bus.close()
