"""Appointment reminders: a sweep the server runs every minute sends each booked appointment
the reminder now due (a day before, an hour before, as the settings say) exactly once.

Each reminder is claimed in the database before it is sent (a compare-and-set on the count of
reminders sent), so two server processes sweeping at once do not both send it; a message that
fails is released and tried again on the next sweep. A booking made late gets only the latest
reminder due, not every one it missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...http.principal import Role
from ..domain.accounts import User
from ..domain.appointments import IST, Appointment
from ..domain.audit import SYSTEM
from ..notifier import Messenger
from ..uow import UnitOfWork
from .bookings import ENTITY

log = logging.getLogger(__name__)
PURPOSE = "appointment_reminder"
# Patients are told the time in India's zone (the service is India-first; a physician abroad
# keeps their own zone for their hours, the patient's reminder does not follow it).
PATIENT_ZONE = ZoneInfo(IST)


def leads(setting: str) -> list[timedelta]:
    """``"1440,60"`` as lead times, longest first."""
    return sorted((timedelta(minutes=int(m)) for m in setting.split(",") if m.strip()),
                  reverse=True)


def due(appointment: Appointment, now: datetime, ahead: list[timedelta]) -> int:
    """How many reminders should have gone out by ``now`` (0: none yet)."""
    return sum(1 for lead in ahead if appointment.starts_at - lead <= now)


def wording(appointment: Appointment, physician: str, link: str) -> str:
    """The reminder's text: when, with whom, where to see it. Nothing about the patient."""
    local = appointment.starts_at.astimezone(PATIENT_ZONE)
    return (f"Reminder: your video consultation with {physician} is at "
            f"{local:%H:%M} IST on {local:%a %d %b}. Details: {link}")


async def send_due(uows: Callable[[], UnitOfWork], messenger: Messenger,
                   ahead: list[timedelta], link: str) -> int:
    """Send every reminder due now; returns how many went out."""
    if not ahead:
        return 0
    async with uows() as uow:
        now = uow.clock()
        candidates = await uow.appointments.starting(now, now + ahead[0])
        pending = [(a, n) for a in candidates if (n := due(a, now, ahead)) > a.reminders_sent]
        people = await uow.appointments.people(
            [i for a, _ in pending for i in (a.patient_id, a.physician_id, a.booked_by) if i])
    sent = 0
    for appointment, count in pending:
        phone = _phone(people, appointment)
        if phone is None:
            log.info("appointment %s: no phone for its reminder", appointment.id)
            continue
        physician = people.get(appointment.physician_id)
        text = wording(appointment, physician.full_name if physician else "your physician",
                       link)
        if await _claim(uows(), appointment, count):
            try:
                await messenger.send_message(phone, text, PURPOSE)
            except Exception:
                log.exception("appointment %s: reminder not sent; retried next sweep",
                              appointment.id)
                await _release(uows(), appointment, count)
                continue
            sent += 1
    return sent


def _phone(people: dict[Any, User], appointment: Appointment) -> str | None:
    """The patient's phone; a dependent without one is reminded through who booked for them."""
    for who in (appointment.patient_id, appointment.booked_by):
        person = people.get(who)
        if person is not None and person.role == Role.PATIENT and person.phone:
            return person.phone
    return None


async def _claim(uow: UnitOfWork, appointment: Appointment, count: int) -> bool:
    async with uow:
        if not await uow.appointments.claim_reminder(appointment.id, count, uow.clock()):
            return False
        uow.record(SYSTEM, "appointment_reminder_sent", ENTITY, appointment.id,
                   new={"status": appointment.status.value, "reminder": count})
        await uow.commit()
        return True


async def _release(uow: UnitOfWork, appointment: Appointment, count: int) -> None:
    async with uow:
        await uow.appointments.release_reminder(appointment.id, count,
                                                appointment.reminders_sent)
        uow.record(SYSTEM, "appointment_reminder_failed", ENTITY, appointment.id,
                   new={"status": appointment.status.value, "reminder": count})
        await uow.commit()
