"""Appointments: physicians' hours and leave, open slots, booking, the visit's outcome, payment
and the iCalendar feed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import time, timedelta
from decimal import Decimal

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.permissions import Perm
from ...http.principal import Role
from ...settings import Settings
from .. import sms
from ..bootstrap import SERVICES
from ..domain.appointments import CancellationPolicy, Window
from ..notifier import ConsoleNotifier, Messenger
from ..scheduling import availability, bookings, calendar_export, reminders, slots, sweep
from . import idempotent
from .appointment_schemas import (
    AppointmentBookIn,
    AppointmentListQuery,
    AppointmentOut,
    AppointmentPaymentOut,
    AppointmentRescheduleIn,
    AppointmentSlotQuery,
    AppointmentSlotsOut,
    AppointmentsOut,
    FeePayIn,
    HoursIn,
    HoursListOut,
    HoursOut,
    PhysicianLeaveIn,
    PhysicianLeaveListOut,
    PhysicianLeaveOut,
    ScheduleRangeQuery,
)
from .common import actor_for, services

# A physician's calendar without a range: from a day ago to four weeks ahead.
CALENDAR_BACK, CALENDAR_AHEAD = timedelta(days=1), timedelta(days=28)


def policy(settings: Settings) -> CancellationPolicy:
    """The cancellation policy the settings describe."""
    return CancellationPolicy(settings.appointment_full_refund_hours,
                              settings.appointment_late_refund_percent)


async def list_physicians(request: web.Request) -> web.Response:
    return ok({"items": await availability.physicians(services(request).uow())})


async def physician_hours(request: web.Request) -> web.Response:
    return ok(await availability.hours_of(services(request).uow(), path_uuid(request)))


async def set_hours(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, HoursIn)
    windows = [Window(w.weekday, time.fromisoformat(w.start), time.fromisoformat(w.end))
               for w in body.weekly]
    return ok(await availability.set_hours(
        services(request).uow(), actor_for(request, principal), body.physician_id,
        body.time_zone, body.slot_minutes, Decimal(body.fee), windows))


async def add_leave(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, PhysicianLeaveIn)
    return ok(await availability.add_leave(
        services(request).uow(), actor_for(request, principal), body.physician_id,
        body.starts_at, body.ends_at), status=201)


async def list_leave(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, ScheduleRangeQuery)
    slots.check_range(query.from_, query.to)
    return ok({"items": await availability.leave_of(
        services(request).uow(), actor_for(request, principal), query.physician_id,
        query.from_, query.to)})


async def remove_leave(request: web.Request) -> web.Response:
    principal = caller(request)
    await availability.remove_leave(services(request).uow(), actor_for(request, principal),
                                    path_uuid(request))
    return web.Response(status=204)


async def open_slots(request: web.Request) -> web.Response:
    query = parse_query(request, AppointmentSlotQuery)
    svc = services(request)
    return ok({"items": await slots.open_slots(
        svc.uow(), query.from_, query.to, physician_id=query.physician_id, limit=query.limit,
        horizon_days=svc.settings.appointment_booking_days)})


async def book(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, AppointmentBookIn)
    svc = services(request)
    return ok(await bookings.book(
        svc.uow(), actor_for(request, principal), body.physician_id, body.starts_at,
        source=body.source, consultation_id=body.consultation_id, patient_id=body.patient_id,
        horizon_days=svc.settings.appointment_booking_days), status=201)


async def list_appointments(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, AppointmentListQuery)
    actor, uow = actor_for(request, principal), services(request).uow()
    if principal.role == Role.PATIENT:
        return ok({"items": await bookings.mine(uow, actor, query.limit, query.offset)})
    start = query.from_ or uow.clock() - CALENDAR_BACK
    end = query.to or start + CALENDAR_AHEAD
    slots.check_range(start, end)
    return ok({"items": await bookings.calendar(uow, actor, query.physician_id, start, end)})


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await bookings.view(
        svc.uow(), actor_for(request, principal), path_uuid(request), policy(svc.settings),
        timedelta(minutes=svc.settings.appointment_payment_hold_minutes)))


async def reschedule(request: web.Request) -> web.Response:
    principal = caller(request)
    appointment_id = path_uuid(request)
    body = await parse_body(request, AppointmentRescheduleIn)
    svc = services(request)
    return ok(await bookings.reschedule(svc.uow(), actor_for(request, principal), appointment_id,
                                        body.starts_at, svc.settings.appointment_booking_days))


async def cancel(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    return ok(await bookings.cancel(svc.uow(), svc.cashier, policy(svc.settings),
                                    actor_for(request, principal), path_uuid(request)))


async def no_show(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await bookings.no_show(services(request).uow(), actor_for(request, principal),
                                     path_uuid(request)))


async def complete(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await bookings.complete(services(request).uow(), actor_for(request, principal),
                                      path_uuid(request)))


async def pay(request: web.Request) -> web.Response:
    principal = caller(request)
    appointment_id = path_uuid(request)
    body = await parse_body(request, FeePayIn)
    actor, svc = actor_for(request, principal), services(request)
    return await idempotent.respond(
        request, principal, "appointment_pay",
        {"appointment": str(appointment_id), "method": body.method},
        lambda uow: bookings.pay(uow, svc.cashier, actor, appointment_id, body.method))


async def ics(request: web.Request) -> web.Response:
    principal = caller(request)
    svc = services(request)
    data = await calendar_export.feed(svc.uow(), actor_for(request, principal),
                                      svc.settings.public_base_url or request.host)
    return web.Response(body=data, content_type="text/calendar", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="appointments.ics"',
        "Cache-Control": "no-store"})


async def reminder_sweep(app: web.Application) -> AsyncIterator[None]:
    """Expire unpaid bookings and send reminders in the background while the server runs (a
    cleanup context, added after the one that migrates the database)."""
    svc = app[SERVICES]
    settings = svc.settings
    if not settings.appointment_reminder_interval_s:
        yield
        return
    console = svc.notifier if isinstance(svc.notifier, Messenger) else ConsoleNotifier()
    link = (settings.public_base_url or f"http://{settings.host}:{settings.port}") + "/care"
    task = asyncio.create_task(sweep.run(
        svc.uow, sms.messenger(settings, console),
        reminders.leads(settings.appointment_reminder_minutes), link,
        timedelta(minutes=settings.appointment_payment_hold_minutes),
        settings.appointment_reminder_interval_s))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


TAG = "appointments"
_STATE = {409: "not allowed in the appointment's state"}
ENDPOINTS = [
    Endpoint("GET", "/physicians", list_physicians,
             "Physicians taking appointments: registration, fee, hours", TAG, None,
             responses={200: "physicians"}, response=HoursListOut),
    Endpoint("GET", "/physicians/{id}/hours", physician_hours,
             "A physician's registration, fee and weekly hours", TAG, None,
             responses={200: "hours"}, response=HoursOut),
    Endpoint("PUT", "/availability", set_hours, "Set weekly hours, slot length, zone and fee",
             TAG, Perm.AVAILABILITY_WRITE, HoursIn, responses={200: "hours"}, response=HoursOut,
             description="Hours are wall-clock times in the physician's time zone (IST by "
                         "default); slots are stored and served as UTC instants."),
    Endpoint("POST", "/availability/leave", add_leave, "Add leave (no slots in it)", TAG,
             Perm.AVAILABILITY_WRITE, PhysicianLeaveIn, responses={201: "leave"},
             response=PhysicianLeaveOut),
    Endpoint("GET", "/availability/leave", list_leave, "Leave in a range", TAG,
             Perm.AVAILABILITY_WRITE, query=ScheduleRangeQuery, responses={200: "leave"},
             response=PhysicianLeaveListOut),
    Endpoint("DELETE", "/availability/leave/{id}", remove_leave, "Remove leave", TAG,
             Perm.AVAILABILITY_WRITE, responses={204: "removed"}),
    Endpoint("GET", "/appointment-slots", open_slots,
             "Free slots in a range (one physician, or the first free of any)", TAG, None,
             query=AppointmentSlotQuery, responses={200: "slots"},
             response=AppointmentSlotsOut),
    Endpoint("POST", "/appointments", book, "Book a slot", TAG, Perm.APPOINTMENTS_BOOK,
             AppointmentBookIn,
             responses={201: "booked", 409: "the slot is taken"}, response=AppointmentOut,
             description="Of concurrent bookings of one slot exactly one succeeds; the others "
                         "get 409 SLOT_TAKEN."),
    Endpoint("GET", "/appointments", list_appointments,
             "The patient's appointments, or a physician's calendar", TAG,
             Perm.APPOINTMENTS_READ, query=AppointmentListQuery, responses={200: "appointments"},
             response=AppointmentsOut),
    Endpoint("GET", "/appointments/calendar.ics", ics, "Appointments as iCalendar", TAG,
             Perm.APPOINTMENTS_READ, responses={200: "iCalendar (RFC 5545)"},
             content_type="text/calendar"),
    Endpoint("GET", "/appointments/{id}", get_one, "One appointment", TAG,
             Perm.APPOINTMENTS_READ, responses={200: "appointment"}, response=AppointmentOut),
    Endpoint("POST", "/appointments/{id}/reschedule", reschedule, "Move to another free slot",
             TAG, Perm.APPOINTMENTS_BOOK, AppointmentRescheduleIn,
             responses={200: "rescheduled", **_STATE}, response=AppointmentOut),
    Endpoint("POST", "/appointments/{id}/cancel", cancel,
             "Cancel; a paid fee is refunded per the policy", TAG, Perm.APPOINTMENTS_BOOK,
             responses={200: "cancelled", **_STATE}, response=AppointmentOut,
             body_optional=True),
    Endpoint("POST", "/appointments/{id}/no-show", no_show, "The patient did not come", TAG,
             Perm.APPOINTMENTS_ATTEND, responses={200: "no-show", **_STATE},
             response=AppointmentOut),
    Endpoint("POST", "/appointments/{id}/complete", complete, "The visit took place", TAG,
             Perm.APPOINTMENTS_ATTEND, responses={200: "completed", **_STATE},
             response=AppointmentOut),
    Endpoint("POST", "/appointments/{id}/pay", pay, "Pay the fee (gateway or wallet)", TAG,
             Perm.SHOP, FeePayIn, responses={201: "payment", **_STATE},
             response=AppointmentPaymentOut, headers=(idempotent.HEADER,)),
]
