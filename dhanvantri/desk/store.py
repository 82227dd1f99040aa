"""Escalations and their states, kept where every server process can see them.

State machine::

    raised ──► offered ──► accepted ──► resolved
       │          │           ▲
       └──────────┴──► timed_out ──► resolved

``timed_out`` means the patient was told what to do (emergency number, nearest hospital); the
escalation stays in the queue and a physician may still accept it. Every change goes through
:meth:`EscalationStore.update`, a compare-and-set on a version number, so two physicians
accepting at once cannot both win, in one process (a lock) or across processes (a Redis script).

An escalation holds a redacted summary only: the reason, red-flag ids and intake topic ids,
each checked to be a short identifier, never free text from the patient.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from dhanvantri.desk.cluster.bus import EventBus, RedisBus
from dhanvantri.http.errors import Conflict, NotFound

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class Status(StrEnum):
    """Where an escalation stands."""

    RAISED = "raised"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    TIMED_OUT = "timed_out"
    RESOLVED = "resolved"


NEXT: dict[Status, frozenset[Status]] = {
    Status.RAISED: frozenset({Status.OFFERED, Status.ACCEPTED, Status.TIMED_OUT,
                              Status.RESOLVED}),
    Status.OFFERED: frozenset({Status.ACCEPTED, Status.TIMED_OUT, Status.RESOLVED}),
    Status.TIMED_OUT: frozenset({Status.ACCEPTED, Status.RESOLVED}),
    Status.ACCEPTED: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset(),
}
WAITING = frozenset({Status.RAISED, Status.OFFERED, Status.TIMED_OUT})  # no physician yet


def identifiers(values: Iterable[object]) -> list[str]:
    """Keep only short lower-case identifiers (``chest_pain``): free text never gets through."""
    out: list[str] = []
    for value in values:
        if isinstance(value, str) and _IDENT.match(value) and value not in out:
            out.append(value)
    return out


@dataclass(kw_only=True)
class Escalation:
    """One request for a physician in one consultation.

    Times are wall-clock seconds since the epoch (processes share no other clock).
    """

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    consultation_id: str
    node: str  # the server process holding the consultation
    reason: str
    red_flags: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    emergency: bool = False
    turn: int | None = None
    status: Status = Status.RAISED
    raised_at: float
    deadline: float
    offered_to: list[str] = field(default_factory=list)
    accepted_by: str | None = None
    accepted_at: float | None = None
    timed_out_at: float | None = None
    resolved_at: float | None = None
    appointment_id: str | None = None  # a booked visit's call, reserved for its physician
    version: int = 0

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        self.reason = (identifiers([self.reason]) or ["other"])[0]
        self.red_flags = identifiers(self.red_flags)
        self.topics = identifiers(self.topics)

    def move(self, to: Status) -> None:
        """Change state; raises ``Conflict`` (409) when the state machine does not allow it."""
        if to not in NEXT[self.status]:
            raise Conflict(f"escalation is {self.status.value}; cannot become {to.value}",
                           code="ESCALATION_STATE", details={"status": self.status.value})
        self.status = to

    def summary(self) -> dict[str, Any]:
        """What physicians' dashboards show (redacted by construction)."""
        return {"id": self.id, "consultation_id": self.consultation_id, "reason": self.reason,
                "red_flags": list(self.red_flags), "topics": list(self.topics),
                "emergency": self.emergency, "status": self.status.value,
                "raised_at": self.raised_at, "deadline": self.deadline,
                "offered_to": len(self.offered_to), "accepted_by": self.accepted_by,
                "accepted_at": self.accepted_at, "timed_out_at": self.timed_out_at}

    def dumps(self) -> str:
        """JSON for storage."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, data: str) -> Escalation:
        """From :meth:`dumps`."""
        return cls(**json.loads(data))


def queue_order(items: Iterable[Escalation]) -> list[Escalation]:
    """Emergencies first, then those still waiting for a physician, oldest first."""
    return sorted(items, key=lambda e: (not e.emergency, e.status not in WAITING, e.raised_at))


Change = Callable[[Escalation], None]


class EscalationStore(Protocol):
    """Escalations shared by every process."""

    async def add(self, escalation: Escalation) -> None:
        """Store a new escalation."""

    async def get(self, escalation_id: str) -> Escalation:
        """The escalation; raises ``NotFound``."""

    async def update(self, escalation_id: str, change: Change) -> Escalation:
        """Apply ``change`` atomically (it may raise to refuse); returns the new state."""

    async def open(self) -> list[Escalation]:
        """Every escalation not yet resolved, in queue order."""

    async def prune(self, resolved_before: float) -> int:
        """Forget escalations resolved before then (the audit trail keeps their history)."""


class MemoryEscalationStore:
    """Escalations in this process; updates run one at a time under a lock."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def add(self, escalation: Escalation) -> None:
        """See :meth:`EscalationStore.add`."""
        self._items[escalation.id] = escalation.dumps()

    async def get(self, escalation_id: str) -> Escalation:
        """See :meth:`EscalationStore.get`."""
        data = self._items.get(escalation_id)
        if data is None:
            raise NotFound("no such escalation")
        return Escalation.loads(data)

    async def update(self, escalation_id: str, change: Change) -> Escalation:
        """See :meth:`EscalationStore.update`."""
        async with self._lock:
            escalation = await self.get(escalation_id)
            change(escalation)
            escalation.version += 1
            self._items[escalation_id] = escalation.dumps()
            return escalation

    async def open(self) -> list[Escalation]:
        """See :meth:`EscalationStore.open`."""
        items = (Escalation.loads(d) for d in self._items.values())
        return queue_order(e for e in items if e.status is not Status.RESOLVED)

    async def prune(self, resolved_before: float) -> int:
        """See :meth:`EscalationStore.prune`."""
        async with self._lock:
            old = [key for key, data in self._items.items()
                   if _resolved_before(Escalation.loads(data), resolved_before)]
            for key in old:
                del self._items[key]
            return len(old)


def _resolved_before(escalation: Escalation, when: float) -> bool:
    return escalation.resolved_at is not None and escalation.resolved_at < when


# Replace the stored record only if its version is still the one the change was made from.
_CAS = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if cjson.decode(current)['version'] ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


class RedisEscalationStore:
    """Escalations in one Redis hash; updates are compare-and-set by version (a Lua script)."""

    def __init__(self, bus: RedisBus) -> None:
        self.redis = bus.redis
        self.key = f"{bus.prefix}escalations"
        self._cas = self.redis.register_script(_CAS)

    async def add(self, escalation: Escalation) -> None:
        """See :meth:`EscalationStore.add`."""
        await self.redis.hset(self.key, escalation.id, escalation.dumps())

    async def get(self, escalation_id: str) -> Escalation:
        """See :meth:`EscalationStore.get`."""
        data = await self.redis.hget(self.key, escalation_id)
        if data is None:
            raise NotFound("no such escalation")
        return Escalation.loads(data)

    async def update(self, escalation_id: str, change: Change) -> Escalation:
        """See :meth:`EscalationStore.update`."""
        while True:
            escalation = await self.get(escalation_id)
            seen = escalation.version
            change(escalation)
            escalation.version = seen + 1
            done = await self._cas(keys=[self.key],
                                   args=[escalation_id, seen, escalation.dumps()])
            if done == 1:
                return escalation
            if done == -1:
                raise NotFound("no such escalation")
            # Another process changed it first: re-read and let ``change`` decide again.

    async def open(self) -> list[Escalation]:
        """See :meth:`EscalationStore.open`."""
        items = [Escalation.loads(d) for d in (await self.redis.hgetall(self.key)).values()]
        return queue_order(e for e in items if e.status is not Status.RESOLVED)

    async def prune(self, resolved_before: float) -> int:
        """See :meth:`EscalationStore.prune`."""
        stored = await self.redis.hgetall(self.key)
        old = [key for key, data in stored.items()
               if _resolved_before(Escalation.loads(data), resolved_before)]
        if old:
            await self.redis.hdel(self.key, *old)  # resolved is final: no race to lose
        return len(old)


def make_store(bus: EventBus) -> EscalationStore:
    """The store that matches the bus."""
    if isinstance(bus, RedisBus):
        return RedisEscalationStore(bus)
    return MemoryEscalationStore()
