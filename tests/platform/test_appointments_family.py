"""A family manager books for a dependent (a child without a phone): the family access check
decides, the appointment is the dependent's, and its reminder reaches the manager's phone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.domain.consultations import Consultation, ConsultationStatus
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.scheduling import reminders
from dhanvantri.platform.sharing import family

from .appointments_setup import at, iso, physician
from .commerce_setup import API, call
from .helpers import login_patient

SLOT = datetime(2026, 10, 30, 3, 30, tzinfo=UTC)


async def child_intake(services: Services, child_id: uuid.UUID) -> str:
    """A finished consultation of the child (started by the parent)."""
    async with services.uow() as uow:
        now = uow.clock()
        item = Consultation(patient_id=child_id, started_at=now, ended_at=now,
                            status=ConsultationStatus.COMPLETED, escalated=True)
        item.touch(now)
        uow.consultations.add(item)
        await uow.commit()
        return str(item.id)


async def test_a_parent_books_cancels_and_is_reminded_for_a_child(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    parent = await login_patient(client, outbox)
    stranger = await login_patient(client, outbox, phone="9988776655")
    child = await family.add_dependent(services.uow(), Actor(parent.user_id, "patient"),
                                       "Meera Rao", "2019-05-01", "female", "daughter")
    child_id = child["member_id"]

    booked = await call(client, "POST", "/appointments", parent, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT), "patient_id": child_id})
    assert booked["patient_id"] == child_id
    mine = (await call(client, "GET", "/appointments", parent))["items"]
    assert [(a["id"], a["patient_name"]) for a in mine] == [(booked["id"], "Meera Rao")]
    desk = (await call(client, "GET", "/appointments", doctor))["items"]
    assert desk[0]["patient_name"] == "Meera Rao"

    response = await client.post(f"{API}/appointments", headers=stranger.headers, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(minutes=30)),
        "patient_id": child_id})
    assert response.status == 404  # no relation: nothing said about who exists

    # The child's own intake ended "see a doctor": booking from it books for the child.
    intake = await child_intake(services, uuid.UUID(child_id))
    response = await client.post(f"{API}/appointments", headers=stranger.headers, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(minutes=30)),
        "consultation_id": intake, "source": "intake"})
    assert response.status == 404
    from_intake = await call(client, "POST", "/appointments", parent, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(minutes=30)),
        "consultation_id": intake, "source": "intake"})
    assert (from_intake["patient_id"], from_intake["consultation_id"]) == (child_id, intake)
    await call(client, "POST", f"/appointments/{from_intake['id']}/cancel", parent)
    response = await client.get(f"{API}/appointments/{booked['id']}", headers=stranger.headers)
    assert response.status == 404

    clock.now = SLOT - timedelta(hours=2)
    assert await reminders.send_due(services.uow, outbox, reminders.leads("1440,60"),
                                    "https://rx.example.test/care") == 1
    assert outbox.messages[-1].destination == parent.phone

    parent.access = services.tokens.access_token(parent.user_id, parent.role)
    cancelled = await call(client, "POST", f"/appointments/{booked['id']}/cancel", parent)
    assert cancelled["status"] == "cancelled"
    async with services.engine.connect() as conn:
        checks = (await conn.exec_driver_sql(
            "SELECT action FROM audit_events WHERE action LIKE 'family_start_consultation%' "
            "ORDER BY seq")).scalars().all()
    assert checks == ["family_start_consultation_allowed", "family_start_consultation_denied",
                      "family_start_consultation_denied", "family_start_consultation_allowed"]
    assert uuid.UUID(child_id)
