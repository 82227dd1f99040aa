"""Appointments as an iCalendar (RFC 5545) file, for the patient's or the physician's calendar.

A calendar file leaves the server for whatever calendar service its owner uses, so what it
carries is the minimum: the physician's name is on the patient's events, and the physician's
events say only "Teleconsultation" with a link, never the patient's name or reason. Events keep
the appointment's id as their UID and count reschedules in SEQUENCE, so an imported calendar
updates in place, and a cancelled appointment arrives as STATUS:CANCELLED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event

from ...http.principal import Role
from ..domain.appointments import Appointment, AppointmentStatus
from ..domain.audit import Actor
from ..uow import UnitOfWork

PRODID = "-//Dhanvantri//Appointments//EN"
# A physician's feed: from a month back to the furthest a patient may book.
PAST, AHEAD = timedelta(days=31), timedelta(days=366)
_STATUS = {AppointmentStatus.BOOKED: "CONFIRMED", AppointmentStatus.COMPLETED: "CONFIRMED",
           AppointmentStatus.NO_SHOW: "CONFIRMED", AppointmentStatus.CANCELLED: "CANCELLED"}


async def feed(uow: UnitOfWork, actor: Actor, base_url: str) -> bytes:
    """The actor's appointments (a patient's own, or a physician's) as one calendar."""
    assert actor.user_id is not None
    async with uow:
        if actor.role == Role.PHYSICIAN.value:
            now = uow.clock()
            found = await uow.appointments.of_physician(actor.user_id, now - PAST, now + AHEAD)
            uow.record(actor, "calendar_exported", "appointment_calendar", actor.user_id)
            await uow.commit()
            return render(found, {}, base_url.rstrip("/") + "/physician", for_patient=False)
        found = await uow.appointments.of_patient(actor.user_id, 500, 0)
        people = await uow.appointments.people([a.physician_id for a in found])
        return render(found, people, base_url.rstrip("/") + "/care", for_patient=True)


def render(appointments: list[Appointment], people: dict[Any, Any], link: str, *,
           for_patient: bool) -> bytes:
    """The calendar file."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for appointment in appointments:
        calendar.add_component(_event(appointment, people, link, for_patient))
    return calendar.to_ical()


def _event(appointment: Appointment, people: dict[Any, Any], link: str,
           for_patient: bool) -> Event:
    event = Event()
    event.add("uid", f"{appointment.id}@dhanvantri")
    event.add("dtstamp", appointment.updated_at or appointment.starts_at)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    if for_patient:
        physician = people.get(appointment.physician_id)
        name = physician.full_name if physician is not None else "your physician"
        event.add("summary", f"Video consultation with {name}")
    else:
        event.add("summary", "Teleconsultation")
    event.add("description", f"Details: {link}")
    event.add("url", link)
    event.add("status", _STATUS[appointment.status])
    event.add("sequence", appointment.reschedules
              + (1 if appointment.status == AppointmentStatus.CANCELLED else 0))
    if appointment.status == AppointmentStatus.BOOKED:
        event.add_component(_alarm())
    return event


def _alarm(before: timedelta = timedelta(minutes=15)) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Video consultation soon")
    alarm.add("trigger", -before)
    return alarm


