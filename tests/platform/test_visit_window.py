"""Who may join an appointment's video visit, and when: the patient, their family manager and
the booked physician, from ten minutes before the slot to its end; nobody else, never else.
Ending the visit completes the appointment, audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.errors import Conflict, Forbidden, NotFound
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.scheduling import visit
from dhanvantri.platform.sharing import family

from .appointments_setup import at, iso, patients, physician, refresh
from .commerce_setup import call
from .helpers import make_staff

SLOT = datetime(2026, 10, 28, 3, 30, tzinfo=UTC)  # 09:00 IST, a 30-minute slot


def actor(person: object) -> Actor:
    return Actor(person.user_id, person.role.value)  # type: ignore[attr-defined]


async def code_of(services: Services, who: Actor, appointment_id: str) -> str:
    """The refusal's code (or "admitted")."""
    try:
        admitted = await visit.admit(services.uow(), who, uuid.UUID(appointment_id))
    except (Conflict, NotFound, Forbidden) as exc:
        return exc.code
    assert admitted.appointment_id == uuid.UUID(appointment_id)
    return "admitted"


async def test_only_the_patient_and_the_booked_physician_join_inside_the_window(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    other_doctor = await physician(client, services)
    admin = await make_staff(client, services, Role.ADMIN)
    patient, stranger = await patients(services, 2)
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    appointment = booked["id"]

    clock.now = SLOT - timedelta(minutes=11)
    assert await code_of(services, actor(patient), appointment) == "VISIT_NOT_OPEN"
    refresh(services, patient)
    listed = (await call(client, "GET", "/appointments", patient))["items"][0]
    assert listed["visit"] == {"opens_at": iso(SLOT - timedelta(minutes=10)),
                               "closes_at": iso(SLOT + timedelta(minutes=30)), "open": False}

    clock.now = SLOT - timedelta(minutes=10)
    assert await code_of(services, actor(patient), appointment) == "admitted"
    assert await code_of(services, actor(doctor), appointment) == "admitted"
    assert await code_of(services, actor(stranger), appointment) == "NOT_FOUND"
    assert await code_of(services, actor(other_doctor), appointment) == "NOT_FOUND"
    assert await code_of(services, actor(admin), appointment) == "FORBIDDEN"
    refresh(services, patient, doctor)
    assert (await call(client, "GET", f"/appointments/{appointment}", patient))["visit"]["open"]
    desk = (await call(client, "GET", "/appointments", doctor))["items"]
    assert [(a["id"], a["visit"]["open"]) for a in desk] == [(appointment, True)]

    clock.now = SLOT + timedelta(minutes=29, seconds=59)
    assert await code_of(services, actor(patient), appointment) == "admitted"
    clock.now = SLOT + timedelta(minutes=30)
    assert await code_of(services, actor(patient), appointment) == "VISIT_CLOSED"
    assert await code_of(services, actor(doctor), appointment) == "VISIT_CLOSED"

    async with services.uow() as uow:
        joined = [e for e in await uow.audit.events(entity_type="appointment",
                                                    entity_id=appointment)
                  if e.action == "appointment_visit_joined"]
    assert [e.actor_id for e in joined] == [patient.user_id, doctor.user_id, patient.user_id]


async def test_a_family_manager_joins_a_dependents_visit(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    parent, = await patients(services, 1)
    child = await family.add_dependent(services.uow(), actor(parent), "Meera Rao",
                                       "2019-05-01", "female", "daughter")
    booked = await call(client, "POST", "/appointments", parent, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT),
        "patient_id": child["member_id"]})
    clock.now = SLOT
    admitted = await visit.admit(services.uow(), actor(parent), uuid.UUID(booked["id"]))
    assert (admitted.patient_id, admitted.physician_id) == (
        uuid.UUID(child["member_id"]), doctor.user_id)


async def test_ending_the_visit_completes_the_appointment_once(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient, = await patients(services, 1)
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    appointment = uuid.UUID(booked["id"])
    clock.now = SLOT - timedelta(minutes=20)
    with pytest.raises(Conflict) as early:
        await visit.finish(services.uow(), actor(doctor), appointment)
    assert early.value.code == "VISIT_NOT_OPEN"

    clock.now = SLOT + timedelta(minutes=35)  # a visit may overrun its slot
    done = await visit.finish(services.uow(), actor(doctor), appointment)
    assert done["status"] == "completed"
    with pytest.raises(Conflict) as again:
        await visit.finish(services.uow(), actor(doctor), appointment)
    assert again.value.code == "INVALID_STATE"
    # Completed: nobody joins it any more.
    assert await code_of(services, actor(patient), str(appointment)) == "INVALID_STATE"
    async with services.uow() as uow:
        events = await uow.audit.events(entity_type="appointment", entity_id=str(appointment))
    completed = [e for e in events if e.action == "appointment_completed"]
    assert [e.actor_id for e in completed] == [doctor.user_id]
