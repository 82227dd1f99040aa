"""The back office's side of the live consultation record: what the realtime recorder calls.

The realtime server names consultations by their live id; here each becomes its record's UUID
(``domain.consultations.record_id``) and goes to the use cases in ``consultations.py``. Each
record queued for review is announced on ``services.review`` (dashboards refresh on it).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from . import consultations
from .bootstrap import Services
from .domain.consultations import TurnRole, record_id
from .record_cipher import RecordCipher

log = logging.getLogger(__name__)


class RecordWriter:
    """Writes consultation records (a ``realtime.recorder.RecordSink``).

    Args:
        services: the back office's services (units of work, the safety gate).
        cipher: seals the text.
        language: the language consultations are held in.
    """

    def __init__(self, services: Services, cipher: RecordCipher, language: str) -> None:
        self._services, self._cipher, self._language = services, cipher, language

    async def open(self, consultation_id: str, patient_id: uuid.UUID, *,
                   opened_by: uuid.UUID | None = None) -> None:
        """Start the record of a signed-in patient's consultation (``opened_by``: the family
        member who started it for them)."""
        await consultations.open_record(self._services.uow(), record_id(consultation_id),
                                        patient_id, self._language, opened_by=opened_by)

    async def turn(self, consultation_id: str, role: str, text: str, tokens: str,
                   said_at: datetime) -> None:
        """Append one turn."""
        await consultations.add_turn(self._services.uow(), self._cipher,
                                     record_id(consultation_id), TurnRole(role), text, tokens,
                                     said_at)

    async def notes(self, consultation_id: str, notes: dict[str, Any],
                    escalation: dict[str, Any] | None) -> None:
        """Replace the clinical notes (and mark an escalation)."""
        await consultations.update_notes(self._services.uow(), self._cipher,
                                         record_id(consultation_id), notes, escalation)

    async def close(self, consultation_id: str, reason: str, notes: dict[str, Any]) -> None:
        """Close the record and queue it for review (once)."""
        svc = self._services
        rx_id = await consultations.close_record(svc.uow, self._cipher, svc.safety,
                                                 record_id(consultation_id), reason, notes=notes)
        if rx_id is not None:
            await self._announce(rx_id)

    async def recover(self) -> int:
        """Close as abandoned (and queue) the records a process left open; returns how many."""
        svc = self._services
        closed = await consultations.abandon_open(svc.uow, self._cipher, svc.safety)
        if closed:
            log.warning("%d consultation(s) left open by an earlier process closed as "
                        "abandoned", len(closed))
        for consultation_id in closed:
            async with svc.uow() as uow:
                record = await uow.consultations.get(consultation_id)
            if record is not None and record.prescription_id is not None:
                await self._announce(record.prescription_id)
        return len(closed)

    async def _announce(self, prescription_id: uuid.UUID) -> None:
        """Tell the physicians' dashboards that a record joined the review queue."""
        async with self._services.uow() as uow:
            rx = await uow.prescriptions.get(prescription_id)
        if rx is not None:
            await self._services.review.changed(rx.id, rx.status.value, rx.urgent)
