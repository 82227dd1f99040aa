"""The consultation record, written as the call goes by an observer of the live session's events.

A :class:`Recorder` watches one signed-in caller's consultation (written for its patient: the
caller, or the dependent they consult for): every final transcript line
(patient, assistant, physician) becomes a turn, escalations and new drafts refresh the clinical
notes, and the session's ``ended`` event closes the record (which queues it for physician
review). The audio path only appends to a queue; one task per consultation drains it in order,
so turns are written in the order they were said and a slow database never stalls the call.

:class:`Recorders` routes the server's consultation events to a recorder per consultation.
The back office supplies the :class:`RecordSink` (``realtime`` never imports it).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from dhanvantri.background import Background
from dhanvantri.realtime.consultations import ConsultationRegistry

log = logging.getLogger(__name__)

ROLES = frozenset({"patient", "assistant", "physician"})
CALL_ENDED = "call_ended"  # the patient hung up or the connection went away
SHUTDOWN = "server_shutdown"


class RecordSink(Protocol):
    """Where records are kept (the back office's ``RecordWriter``)."""

    async def open(self, consultation_id: str, patient_id: uuid.UUID, *,
                   opened_by: uuid.UUID | None = None) -> None: ...

    async def turn(self, consultation_id: str, role: str, text: str, tokens: str,
                   said_at: datetime) -> None: ...

    async def notes(self, consultation_id: str, notes: dict[str, Any],
                    escalation: dict[str, Any] | None) -> None: ...

    async def close(self, consultation_id: str, reason: str, notes: dict[str, Any]) -> None: ...


class ClinicalSource(Protocol):
    """What the recorder reads from the live session."""

    def tokenize(self, text: str) -> str: ...

    def clinical_record(self) -> dict[str, Any]: ...


@runtime_checkable
class HeldSource(ClinicalSource, Protocol):
    """A visit's live session also says how the call was held (``"video"`` or ``"audio"``)."""

    @property
    def held_as(self) -> str: ...


class Recorder:
    """Writes one consultation's record from its events, in order, off the audio path.

    Args:
        consultation_id: the live consultation's id.
        patient_id: whose record it is (the owner, or the dependent the call is for).
        source: the live session (tokenised text and the clinical notes).
        sink: where the record goes.
        background: runs the drain task (it outlives the live session: the close is written
            after the call has ended).
        opened_by: the signed-in caller when not the patient (the audit names them).
        appointment_id: the appointment this consultation is the visit of: the notes then
            carry ``visit`` (the appointment and how the call was held, read from ``source``'s
            ``held_as``), which the back office puts in the record it reviews.
    """

    def __init__(self, consultation_id: str, patient_id: uuid.UUID, source: ClinicalSource,
                 sink: RecordSink, background: Background, *,
                 opened_by: uuid.UUID | None = None, appointment_id: str | None = None) -> None:
        self.id = consultation_id
        self._source, self._sink = source, sink
        self._appointment_id = appointment_id
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._escalations: list[dict[str, Any]] = []
        self._reply: list[str] = []  # the assistant reply being spoken, phrase by phrase
        self._reply_turn: object = None
        self._reply_at = datetime.now(UTC)
        self.end_reason = CALL_ENDED
        self.ended = False
        self._put(lambda: sink.open(consultation_id, patient_id, opened_by=opened_by))
        self.task = background.spawn(self._drain(), name=f"record-{consultation_id}")

    def on_event(self, event: dict[str, Any]) -> None:
        """See one event of the live session; never blocks."""
        if self.ended:
            return
        kind = event.get("type")
        if kind == "transcript" and event.get("final") and event.get("role") in ROLES:
            text = str(event.get("text") or "").strip()
            if not text:
                return
            if event["role"] == "assistant":
                self._hear_reply(text, event.get("turn"))
                return
            self._end_reply()  # the patient (or a physician) speaks: the reply before is whole
            role, said_at = str(event["role"]), datetime.now(UTC)
            self._put(lambda: self._turn(role, text, said_at))
            self._put(lambda: self._notes(None))
        elif kind == "escalation":
            self._end_reply()
            escalation = {"reason": event.get("reason"), "emergency": bool(event.get("emergency")),
                          "red_flags": list(event.get("red_flags") or []),
                          "turn": event.get("turn"), "at": datetime.now(UTC).isoformat()}
            self._escalations.append(escalation)
            self._put(lambda: self._notes(escalation))
        elif kind == "draft_ready":
            self._put(lambda: self._notes(None))
        elif kind == "ended":
            self._end_reply()
            self.ended = True
            reason = str(event.get("reason") or self.end_reason)
            self._put(lambda: self._close(reason))
            self._queue.put_nowait(None)  # the drain stops after the close

    def _hear_reply(self, phrase: str, turn: object) -> None:
        # The assistant speaks a reply phrase by phrase; the record keeps one line a reply.
        if self._reply and turn != self._reply_turn:
            self._end_reply()
        if not self._reply:
            self._reply_turn, self._reply_at = turn, datetime.now(UTC)
        self._reply.append(phrase)

    def _end_reply(self) -> None:
        if self._reply:
            text, said_at = " ".join(self._reply), self._reply_at
            self._reply = []
            self._put(lambda: self._turn("assistant", text, said_at))
            self._put(lambda: self._notes(None))

    def _put(self, step: Callable[[], Awaitable[None]]) -> None:
        # A step is made into a coroutine only when its turn comes (none is left un-awaited).
        self._queue.put_nowait(step)

    async def _turn(self, role: str, text: str, said_at: datetime) -> None:
        # The vault's tokenisation runs in a thread: it is the Redactor's (same tokens).
        tokens = await asyncio.to_thread(self._source.tokenize, text)
        await self._sink.turn(self.id, role, text, tokens, said_at)

    def _record(self) -> dict[str, Any]:
        record = {**self._source.clinical_record(), "escalations": list(self._escalations)}
        if self._appointment_id is not None:
            held = self._source.held_as if isinstance(self._source, HeldSource) else "audio"
            record["visit"] = {"appointment_id": self._appointment_id, "mode": held}
        return record

    async def _notes(self, escalation: dict[str, Any] | None) -> None:
        await self._sink.notes(self.id, self._record(), escalation)

    async def _close(self, reason: str) -> None:
        await self._sink.close(self.id, reason, self._record())

    async def _drain(self) -> None:
        while (step := await self._queue.get()) is not None:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A failed write must not end the record; the log names no patient words.
                log.error("consultation %s: record write failed (%s)", self.id,
                          type(exc).__name__)


class Recorders:
    """A recorder for each signed-in patient's consultation held by this process.

    Args:
        registry: the live consultations (their owners and live sessions).
        sink: where records go.
        background: the server's background tasks (the drains run there).
    """

    def __init__(self, registry: ConsultationRegistry, sink: RecordSink,
                 background: Background) -> None:
        self._registry, self._sink, self._background = registry, sink, background
        self._open: dict[str, Recorder] = {}

    def __len__(self) -> int:
        return len(self._open)

    def on_event(self, consultation_id: str, event: dict[str, Any]) -> None:
        """See an event a consultation sent; the first one of a signed-in call opens its record
        (for the consultation's patient: the caller, or the dependent it is for).

        Guest consultations (no owner) are not recorded.
        """
        recorder = self._open.get(consultation_id)
        if recorder is None:
            if event.get("type") == "ended" or consultation_id not in self._registry:
                return
            consultation = self._registry.get(consultation_id)
            patient = consultation.patient
            if consultation.owner is None or patient is None or consultation.live is None:
                return
            visit = consultation.visit
            recorder = Recorder(consultation_id, patient, consultation.live, self._sink,
                                self._background,
                                opened_by=consultation.owner if patient != consultation.owner
                                else None,
                                appointment_id=visit.appointment_id if visit else None)
            self._open[consultation_id] = recorder
        recorder.on_event(event)
        if recorder.ended:
            del self._open[consultation_id]

    def shutting_down(self) -> None:
        """The server is stopping: the consultations it hangs up end for that reason."""
        for recorder in self._open.values():
            recorder.end_reason = SHUTDOWN
