"""Escalation routing: raise, offer to available physicians, accept by one, time out, resolve.

``EscalationService`` runs in every server process. The process holding a consultation raises
its escalations and runs their timers; any process may accept or resolve one, because state
lives in the shared store (see ``store.py``) and news travels over the bus:

* channel ``escalations``: ``{"type": "escalation", "event": "raised"|"offered"|"updated"|
  "accepted"|"timed_out"|"resolved", "escalation": <summary>, "published_at": <epoch ms>}``,
  read by every physician dashboard;
* channel ``consultation.<id>``: ``{"type": "escalation_timeout", "advice": ..., ...}``,
  ``{"type": "escalation_accepted", ...}`` and ``{"type": "escalation_resolved", "advice": ...,
  ...}`` for the consultation itself, which shows them to the patient and speaks the advice.
  Later commands for the live consultation (listen, take over, hand back) are addressed to the
  same channel, so they reach whichever process holds it.

Every state change is written to the back office's audit trail (entity type ``escalation``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from dhanvantri.desk.cluster.bus import EventBus
from dhanvantri.desk.cluster.directory import Directory
from dhanvantri.desk.store import WAITING, Escalation, EscalationStore, Status
from dhanvantri.http.errors import Conflict, Forbidden
from dhanvantri.platform.domain.audit import SYSTEM, Actor

log = logging.getLogger(__name__)

QUEUE_CHANNEL = "escalations"
RESOLVED_KEEP_S = 3600.0  # resolved escalations leave the shared store after this
AuditSink = Callable[[Actor, str, str, dict[str, Any]], Awaitable[None]]


def consultation_channel(consultation_id: str) -> str:
    """The bus channel addressed to one live consultation (wherever it is held)."""
    return f"consultation.{consultation_id}"


def advice(emergency: bool, emergency_number: str) -> str:
    """What the patient is told when no physician accepted in time."""
    if emergency:
        return (f"A doctor could not join yet. This may be an emergency: call {emergency_number} "
                "now, or go to the nearest hospital emergency department. Do not wait.")
    return ("A doctor could not join yet; one will call you back. If you feel worse, call "
            f"{emergency_number} or go to the nearest hospital.")


def resolved_advice(answered: bool, emergency: bool, emergency_number: str) -> str:
    """What the patient is told when their escalation is closed.

    Args:
        answered: a physician had accepted it (else an admin closed it unanswered).
        emergency: the escalation is an emergency.
        emergency_number: the number the patient is told to call.
    """
    if not answered:
        if emergency:
            return advice(True, emergency_number)
        return ("No doctor can join this call. If you feel worse, call "
                f"{emergency_number} or go to the nearest hospital.")
    return ("The doctor has finished with your request. If you feel worse, call "
            f"{emergency_number} or go to the nearest hospital.")


class EscalationService:
    """Raises, routes and settles escalations; one per server process.

    Args:
        bus: where events go.
        store: where escalations live (shared across processes with Redis).
        physicians: physicians online now (dashboards register there).
        node: this process's id.
        timeout_s: seconds a physician has to accept before the patient is told what to do.
        audit: records one audit event (None: log only, for apps without the back office).
        emergency_number: the number the patient is told to call.
        clock: wall-clock seconds since the epoch.
    """

    def __init__(self, bus: EventBus, store: EscalationStore, physicians: Directory, *,
                 node: str, timeout_s: float = 60.0, audit: AuditSink | None = None,
                 emergency_number: str = "112", clock: Callable[[], float] = time.time
                 ) -> None:
        self.bus, self.store, self.physicians = bus, store, physicians
        self.node = node
        self.timeout_s = timeout_s
        self.emergency_number = emergency_number
        self.clock = clock
        self._audit = audit
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._raising: dict[str, asyncio.Lock] = {}  # one raise at a time per consultation

    async def raise_escalation(self, consultation_id: str, *, reason: str,
                               red_flags: Iterable[str] = (), emergency: bool = False,
                               topics: Iterable[str] = (), turn: int | None = None) -> Escalation:
        """Raise (or add to) the consultation's escalation and offer it to physicians.

        A consultation has at most one open escalation: a later red flag in the same
        consultation joins it (and can make it an emergency) rather than queue twice.
        """
        current = await self._open_for(consultation_id)
        if current is not None:
            return await self._merge(current, reason, red_flags, emergency, topics)
        now = self.clock()
        escalation = Escalation(consultation_id=consultation_id, node=self.node, reason=reason,
                                red_flags=list(red_flags), topics=list(topics),
                                emergency=emergency, turn=turn, raised_at=now,
                                deadline=now + self.timeout_s)
        await self.store.add(escalation)
        log.info("escalation %s raised for consultation %s (emergency=%s)", escalation.id,
                 consultation_id, emergency)
        await self.record(SYSTEM, "escalation_raised", escalation,
                           {"reason": escalation.reason, "red_flags": escalation.red_flags,
                            "emergency": emergency, "topics": escalation.topics})
        await self._announce("raised", escalation)
        self._timers[escalation.id] = asyncio.get_running_loop().create_task(
            self._expire_later(escalation.id), name=f"escalation-timeout-{escalation.id}")
        return await self._offer(escalation)

    async def reserve(self, consultation_id: str, *, appointment_id: str, physician_id: str
                      ) -> Escalation:
        """Hand a booked visit's call to its physician: accepted by them from the start.

        It never enters the open queue's waiting part and has no timeout: no other physician
        can accept it (the state machine refuses a second accept), and the booked physician
        joins through the accepted escalation's path (join, take over, end). Idempotent per
        consultation.
        """
        current = await self._open_for(consultation_id)
        if current is not None:
            return current
        now = self.clock()
        escalation = Escalation(consultation_id=consultation_id, node=self.node,
                                reason="appointment", status=Status.ACCEPTED, raised_at=now,
                                deadline=now, accepted_by=physician_id, accepted_at=now,
                                appointment_id=appointment_id)
        await self.store.add(escalation)
        log.info("escalation %s reserved for appointment %s", escalation.id, appointment_id)
        await self.record(SYSTEM, "escalation_reserved", escalation,
                          {"accepted_by": physician_id, "appointment_id": appointment_id})
        await self._announce("accepted", escalation)
        return escalation

    async def for_appointment(self, appointment_id: str) -> Escalation | None:
        """The open escalation reserved for an appointment's visit, if its patient is on."""
        for escalation in await self.store.open():
            if escalation.appointment_id == appointment_id:
                return escalation
        return None

    async def accept(self, escalation_id: str, physician: Actor) -> Escalation:
        """The physician takes the escalation; exactly one wins (others get 409 ``Conflict``)."""
        now = self.clock()

        def take(escalation: Escalation) -> None:
            escalation.move(Status.ACCEPTED)
            escalation.accepted_by = str(physician.user_id)
            escalation.accepted_at = now

        escalation = await self.store.update(escalation_id, take)
        self._cancel_timer(escalation_id)
        log.info("escalation %s accepted", escalation_id)
        await self.record(physician, "escalation_accepted", escalation,
                           {"accepted_by": escalation.accepted_by,
                            "waited_s": round(now - escalation.raised_at, 3)})
        await self._announce("accepted", escalation)
        await self.bus.publish(consultation_channel(escalation.consultation_id), {
            "type": "escalation_accepted", "escalation_id": escalation.id,
            "physician_id": escalation.accepted_by})
        return escalation

    async def resolve(self, escalation_id: str, actor: Actor, *, admin: bool = False
                      ) -> Escalation:
        """Close the escalation and tell the patient (spoken and shown) what happens next.

        Only the physician who accepted it may resolve it, or an admin. One nobody accepted
        yet is refused (409 ``NOT_ACCEPTED``) unless an admin closes it: an emergency must
        never leave the queue with the patient unanswered.

        Raises:
            Conflict: not accepted yet (``NOT_ACCEPTED``), or resolved already.
            Forbidden: another physician accepted it.
        """
        now, was = self.clock(), Status.RESOLVED

        def close(escalation: Escalation) -> None:
            nonlocal was
            was = escalation.status
            if not admin and was in WAITING:
                raise Conflict("accept the escalation first", code="NOT_ACCEPTED",
                               details={"status": was.value})
            if not admin and was is Status.ACCEPTED \
                    and escalation.accepted_by != str(actor.user_id):
                raise Forbidden("another physician accepted this escalation")
            escalation.move(Status.RESOLVED)
            escalation.resolved_at = now

        escalation = await self.store.update(escalation_id, close)
        self._cancel_timer(escalation_id)
        answered = was is Status.ACCEPTED
        await self.record(actor, "escalation_resolved", escalation,
                          {"was": was.value, "by_admin": admin,
                           "patient_told": "resolved" if answered else "no_doctor"})
        await self._announce("resolved", escalation)
        await self.bus.publish(consultation_channel(escalation.consultation_id), {
            "type": "escalation_resolved", "escalation_id": escalation.id,
            "consultation_id": escalation.consultation_id, "emergency": escalation.emergency,
            "emergency_number": self.emergency_number,
            "advice": resolved_advice(answered, escalation.emergency, self.emergency_number)})
        return escalation

    async def queue(self) -> list[dict[str, Any]]:
        """Open escalations as dashboards show them, emergencies first."""
        return [e.summary() for e in await self.store.open()]

    async def sweep(self) -> int:
        """Time out every waiting escalation past its deadline, whichever process raised it.

        The raising process's timer does this normally; the sweep covers a process that died
        before its timer fired. Safe to run in every process at once: ``expire`` fires once.
        """
        now, fired = self.clock(), 0
        for escalation in await self.store.open():
            if escalation.status in (Status.RAISED, Status.OFFERED) and escalation.deadline <= now:
                fired += await self.expire(escalation.id) is not None
        await self.store.prune(resolved_before=now - RESOLVED_KEEP_S)
        return fired

    def forget(self, consultation_id: str) -> None:
        """Drop per-consultation bookkeeping once the consultation has ended."""
        self._raising.pop(consultation_id, None)

    async def close(self) -> None:
        """Stop this process's timers (the escalations stay in the shared store)."""
        timers, self._timers = list(self._timers.values()), {}
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    # ------------------------------------------------------------------ steps
    async def _open_for(self, consultation_id: str) -> Escalation | None:
        for escalation in await self.store.open():
            if escalation.consultation_id == consultation_id:
                return escalation
        return None

    async def _merge(self, current: Escalation, reason: str, red_flags: Iterable[str],
                     emergency: bool, topics: Iterable[str]) -> Escalation:
        flags, extra_topics = list(red_flags), list(topics)

        def add(escalation: Escalation) -> None:
            escalation.red_flags = list(dict.fromkeys([*escalation.red_flags, *flags]))
            escalation.topics = list(dict.fromkeys([*escalation.topics, *extra_topics]))
            escalation.emergency = escalation.emergency or emergency
            escalation.__post_init__()  # keeps the redaction rule for the merged lists

        before = (list(current.red_flags), current.emergency)
        escalation = await self.store.update(current.id, add)
        if (escalation.red_flags, escalation.emergency) != before:
            await self.record(SYSTEM, "escalation_updated", escalation,
                               {"reason": reason, "red_flags": escalation.red_flags,
                                "emergency": escalation.emergency})
            await self._announce("updated", escalation)
        return escalation

    async def _offer(self, escalation: Escalation) -> Escalation:
        online = sorted(await self.physicians.items())

        def offer(item: Escalation) -> None:
            if item.status is Status.RAISED:
                item.move(Status.OFFERED)
                item.offered_to = online

        escalation = await self.store.update(escalation.id, offer)
        if escalation.status is Status.OFFERED:
            await self.record(SYSTEM, "escalation_offered", escalation,
                               {"physicians": online})
            await self._announce("offered", escalation)
        return escalation

    async def _expire_later(self, escalation_id: str) -> None:
        try:
            await asyncio.sleep(max(0.0, self.timeout_s))
            await self.expire(escalation_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("escalation %s: timeout handling failed", escalation_id)
        finally:
            self._timers.pop(escalation_id, None)

    async def expire(self, escalation_id: str) -> Escalation | None:
        """Time the escalation out if no physician has accepted it yet.

        Tells the consultation what to say to the patient; the escalation stays in the queue.
        Returns the escalation if it timed out now, else None.
        """
        now, fired = self.clock(), False

        def time_out(escalation: Escalation) -> None:
            nonlocal fired
            fired = escalation.status in (Status.RAISED, Status.OFFERED)
            if fired:
                escalation.move(Status.TIMED_OUT)
                escalation.timed_out_at = now

        escalation = await self.store.update(escalation_id, time_out)
        if not fired:
            return None
        log.info("escalation %s timed out", escalation_id)
        await self.record(SYSTEM, "escalation_timed_out", escalation,
                           {"waited_s": round(now - escalation.raised_at, 3),
                            "patient_told": "emergency_number" if escalation.emergency
                            else "call_back"})
        await self.bus.publish(consultation_channel(escalation.consultation_id), {
            "type": "escalation_timeout", "escalation_id": escalation.id,
            "consultation_id": escalation.consultation_id, "emergency": escalation.emergency,
            "emergency_number": self.emergency_number,
            "advice": advice(escalation.emergency, self.emergency_number)})
        await self._announce("timed_out", escalation)
        return escalation

    # ------------------------------------------------------------------ plumbing
    def _cancel_timer(self, escalation_id: str) -> None:
        task = self._timers.pop(escalation_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _announce(self, event: str, escalation: Escalation) -> None:
        # published_at lets dashboards (and the latency benchmark) see how long delivery took.
        await self.bus.publish(QUEUE_CHANNEL, {
            "type": "escalation", "event": event, "escalation": escalation.summary(),
            "published_at": time.time() * 1000.0})

    async def record(self, actor: Actor, action: str, escalation: Escalation,
                     new: dict[str, Any]) -> None:
        """Audit one step on the escalation (raised, accepted, a physician taking over, ...)."""
        values = {"status": escalation.status.value,
                  "consultation_id": escalation.consultation_id, **new}
        if self._audit is None:
            log.info("audit (no back office): %s %s", action, escalation.id)
            return
        try:
            await self._audit(actor, action, escalation.id, values)
        except Exception:
            # The patient's path must not fail on the audit trail; the error is loud in logs.
            log.exception("escalation %s: writing audit event %s failed", escalation.id, action)


def uow_audit(uow_factory: Callable[[], Any]) -> AuditSink:
    """An audit sink writing each event in its own unit of work (``app[SERVICES].uow``)."""

    async def record(actor: Actor, action: str, escalation_id: str,
                     values: dict[str, Any]) -> None:
        async with uow_factory() as uow:
            uow.record(actor, action, "escalation", escalation_id, new=values)
            await uow.commit()

    return record
