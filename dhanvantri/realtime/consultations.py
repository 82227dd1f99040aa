"""The registry of consultations: created by the API, joined by one transport, then closed.

A consultation holds a slot from creation until its transport hangs up, so ``max_sessions``
bounds the work the server takes on. One created but never joined gives its slot back after
``consultation_connect_timeout_s``, and one whose start failed gives it back at once. A
signed-in patient holds at most ``consultations_per_patient`` slots, a guest's address
``consultations_per_address``: one caller cannot take every slot.

When the process is told to stop (``dhanvantri serve`` on SIGTERM) the registry drains: it
takes no new consultation, and :meth:`ConsultationRegistry.wait_empty` returns once the live
ones have hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dhanvantri.http.errors import ApiError, Conflict, NotFound, RateLimited
from dhanvantri.realtime.admission import RETRY_AFTER_S, ReplyPace

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


class ServerBusy(ApiError):
    """Every session slot is taken."""

    status = 503
    code = "SERVER_BUSY"


class Draining(ApiError):
    """The server is shutting down: new consultations go to another server.

    The code of a full server, as the client does the same (retries; the proxy sends the retry
    elsewhere); ``details.draining`` tells the two apart. Not a :class:`ServerBusy`: it is not
    counted as a consultation refused for want of room.
    """

    status = 503
    code = "SERVER_BUSY"


# The proxy stops sending new consultations here after one failed health check (every 2 s in
# deploy/haproxy.cfg).
DRAIN_RETRY_AFTER_S = 2


class NotReady(ApiError):
    """The models are still loading."""

    status = 503
    code = "NOT_READY"


@dataclass(frozen=True)
class Visit:
    """The appointment a consultation is the video visit of (checked by the back office)."""

    appointment_id: str
    physician_id: str  # the booked physician: the only one who may take the call


@dataclass(eq=False)
class Consultation:
    """One consultation's live state.

    Attributes:
        id: unguessable id; its URLs act as the capability to join.
        owner: the signed-in caller's user id, else None (guest); only they join or hang up.
        patient_id: whose consultation it is when not the owner's own (a family member's
            dependent, allowed by the back office's permission layer); see :attr:`patient`.
        address: the client address that created it (guests are limited per address).
        transport: "webrtc" or "ws" once a transport claimed it (one transport, once).
        live: its :class:`~dhanvantri.realtime.live.LiveSession` once joined (a physician
            joining the call attaches to it).
        visit: the appointment it is the video visit of (None: an intake).
    """

    id: str
    owner: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    address: str | None = None
    created: float = field(default_factory=time.monotonic)
    transport: str | None = None
    live: Any = None
    visit: Visit | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _closer: Closer | None = None

    def claim(self, transport: str) -> None:
        """Reserve the consultation for ``transport``, before any work on it starts.

        Synchronous, so two transports racing for one consultation cannot both win; the loser
        is refused and the winner's session is untouched.

        Raises:
            Conflict: already claimed (``ALREADY_JOINED``).
            NotFound: the consultation has ended (or expired unjoined).
        """
        if self.closed.is_set():
            raise NotFound("consultation ended")
        if self.transport is not None:
            raise Conflict("consultation already joined", code="ALREADY_JOINED")
        self.transport = transport

    def join(self, transport: str, closer: Closer, live: Any = None) -> None:
        """Attach the transport (claiming it if not yet done); ``closer`` tears it down."""
        if self.transport is None:
            self.claim(transport)
        elif self.transport != transport or self._closer is not None:
            raise Conflict("consultation already joined", code="ALREADY_JOINED")
        if self.closed.is_set():
            raise NotFound("consultation ended")
        self.live = live
        self._closer = closer

    @property
    def patient(self) -> uuid.UUID | None:
        """Whose record the consultation goes to: the dependent it is for, else the owner."""
        return self.patient_id or self.owner


class ConsultationRegistry:
    """Live consultations by id.

    Args:
        max_sessions: consultations allowed at once.
        connect_timeout: seconds a created consultation may wait to be joined.
        pace: the recent replies; while they are slow no consultation is taken.
    """

    def __init__(self, max_sessions: int, connect_timeout: float = 60.0,
                 pace: ReplyPace | None = None) -> None:
        self.max_sessions = max_sessions
        self.pace = pace
        self.connect_timeout = connect_timeout
        self._items: dict[str, Consultation] = {}
        self.draining = False
        self._closed_one = asyncio.Event()  # wakes wait_empty when a consultation closes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, consultation_id: str) -> bool:
        return consultation_id in self._items

    def create(self, owner: uuid.UUID | None = None, *, patient: uuid.UUID | None = None,
               address: str | None = None, per_owner: int = 0, per_address: int = 0,
               visit: Visit | None = None) -> Consultation:
        """A new consultation.

        Args:
            owner: the signed-in caller (None: a guest).
            patient: whom it is for, when not the owner (the caller checked that they may).
            address: the client's address.
            per_owner: live or reserved consultations one patient may hold (0: no limit).
            per_address: the same for guests from one address (0: no limit).
            visit: the appointment it is the video visit of (the caller checked the window).

        Raises:
            ServerBusy: every slot is taken, or the recent replies are slow.
            RateLimited: the patient (or the guest's address) holds its share already.
            Draining: the server is shutting down.
        """
        if self.draining:
            raise Draining("this server is shutting down; try again",
                           details={"draining": True, "retry_after": DRAIN_RETRY_AFTER_S})
        self._expire_unjoined()
        if len(self._items) >= self.max_sessions:
            raise ServerBusy("too many live consultations; try again shortly",
                             details={"reason": "full", "max_sessions": self.max_sessions,
                                      "retry_after": RETRY_AFTER_S})
        if self.pace is not None and self.pace.slow():
            raise ServerBusy("replies are slow here; try again shortly",
                             details={"reason": "slow_replies", "p95_ms": self.pace.p95_ms(),
                                      "retry_after": RETRY_AFTER_S})
        self._check_share(owner, address, per_owner, per_address)
        consultation = Consultation(id=secrets.token_urlsafe(16), owner=owner,
                                    patient_id=patient if patient != owner else None,
                                    address=address, visit=visit)
        self._items[consultation.id] = consultation
        log.info("consultation %s created (%d live)", consultation.id, len(self._items))
        return consultation

    def get(self, consultation_id: str) -> Consultation:
        """The live consultation; raises :class:`NotFound`."""
        consultation = self._items.get(consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        return consultation

    async def close(self, consultation_id: str) -> None:
        """Tear down the transport (if any) and free the slot; safe to call twice."""
        consultation = self._items.pop(consultation_id, None)
        if consultation is None or consultation.closed.is_set():
            return
        consultation.closed.set()
        self._closed_one.set()
        closer, consultation._closer = consultation._closer, None
        if closer is not None:
            try:
                await closer()
            except Exception:
                log.exception("consultation %s: error while closing", consultation_id)
        log.info("consultation %s closed (%d live)", consultation_id, len(self._items))

    def drain(self) -> None:
        """Take no new consultation from now on; the live ones (and those created but not yet
        joined) carry on."""
        self.draining = True

    async def wait_empty(self) -> None:
        """Return once no consultation is left: every live one hung up, every unjoined one
        joined and hung up, or expired."""
        while True:
            self._expire_unjoined()
            if not self._items:
                return
            self._closed_one.clear()
            # Expiry is checked, not scheduled: wake at the next one if nothing closes first.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed_one.wait(), self._next_expiry())

    async def close_all(self) -> None:
        """Close every consultation (server shutdown)."""
        await asyncio.gather(*(self.close(cid) for cid in list(self._items)))

    def _check_share(self, owner: uuid.UUID | None, address: str | None, per_owner: int,
                     per_address: int) -> None:
        if owner is not None:
            held = sum(c.owner == owner for c in self._items.values())
            limit, per = per_owner, "patient"
        else:
            held = sum(c.owner is None and c.address == address for c in self._items.values())
            limit, per = per_address, "address"
        if limit and held >= limit:
            # Retry-After: an unjoined one expires by then; a live one ends when hung up.
            raise RateLimited(f"at most {limit} consultations at once per {per}; hang up first",
                              details={"limit": limit, "per": per,
                                       "retry_after": max(1, math.ceil(self.connect_timeout))})

    def _next_expiry(self) -> float | None:
        """Seconds until the first unjoined consultation expires (None: all are joined)."""
        unjoined = [c.created for c in self._items.values() if c.transport is None]
        if not unjoined:
            return None
        return max(0.0, min(unjoined) + self.connect_timeout - time.monotonic())

    def _expire_unjoined(self) -> None:
        deadline = time.monotonic() - self.connect_timeout
        for cid, consultation in list(self._items.items()):
            if consultation.transport is None and consultation.created < deadline:
                del self._items[cid]
                consultation.closed.set()
                log.info("consultation %s expired unjoined", cid)
