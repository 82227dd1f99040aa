"""Booking a physician through the API: open slots, no double booking under 100 concurrent
requests, time zones over a month boundary, and each change in the audit trail."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.changes import Change
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.tables.scheduling import appointments

from .appointments_setup import START, at, iso, patients, physician
from .commerce_setup import API, call
from .helpers import login_patient, make_staff

CALLS = 100


async def count(services: Services, sql: str, **params: object) -> int:
    async with services.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_patient_books_the_next_slot_and_both_sides_see_it(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    listed = await call(client, "GET", "/physicians")
    shown = next(p for p in listed["items"] if p["physician_id"] == str(doctor.user_id))
    assert shown["physician"]["registration_number"] == "KMC-123456"
    assert shown["physician"]["council"] == "Karnataka Medical Council"
    assert shown["fee"] == "300.00" and shown["time_zone"] == "Asia/Kolkata"

    # "See a doctor within 24 hours": the first free slots of anyone, earliest first.
    params = {"from": iso(START), "to": iso(START + timedelta(hours=24)), "limit": "3"}
    slots = (await call(client, "GET", "/appointment-slots", params=params))["items"]
    assert [s["starts_at"] for s in slots] == [  # 09:00 IST is 03:30 UTC
        "2026-10-28T03:30:00+00:00", "2026-10-28T04:00:00+00:00", "2026-10-28T04:30:00+00:00"]
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": slots[0]["physician_id"], "starts_at": slots[0]["starts_at"],
        "source": "intake"})
    assert booked["status"] == "booked" and booked["fee"] == "300.00" and not booked["paid"]

    again = (await call(client, "GET", "/appointment-slots", params=params))["items"]
    assert slots[0]["starts_at"] not in [s["starts_at"] for s in again]
    mine = (await call(client, "GET", "/appointments", patient))["items"]
    assert [a["id"] for a in mine] == [booked["id"]]
    one = await call(client, "GET", f"/appointments/{booked['id']}", patient)
    assert one["cancellation_policy"] == {"full_refund_hours": 24, "late_refund_percent": "50"}
    assert one["pay_by"] == iso(START + timedelta(minutes=15))  # the fee holds the slot so long
    assert mine[0]["physician_name"] == "Test Physician"
    desk = (await call(client, "GET", "/appointments", doctor))["items"]
    assert [(a["id"], a["patient_name"]) for a in desk] == [(booked["id"], "")]
    assert await count(services, "SELECT count(*) FROM audit_events WHERE action = "
                       "'appointment_booked' AND entity_id = :id", id=booked["id"]) == 1


async def test_bad_bookings_are_refused_naming_the_field(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    slot = datetime(2026, 10, 29, 3, 30, tzinfo=UTC)
    cases = [
        ({"starts_at": iso(slot + timedelta(minutes=10))}, 422, "starts_at"),  # between slots
        ({"starts_at": iso(START - timedelta(days=1))}, 422, "starts_at"),  # the past
        ({"starts_at": iso(START + timedelta(days=90))}, 422, "starts_at"),  # too far
        ({"starts_at": "2026-10-29T03:30:00"}, 422, "starts_at"),  # no zone
        ({"physician_id": str(patient.user_id)}, 422, "physician_id"),  # not a physician
    ]
    for change, status, field in cases:
        body = {"physician_id": str(doctor.user_id), "starts_at": iso(slot), **change}
        response = await client.post(f"{API}/appointments", json=body, headers=patient.headers)
        error = (await response.json())["error"]
        assert response.status == status, (change, error)
        assert error["details"][0]["field"] == field, (change, error)
    far = {"from": iso(START + timedelta(days=61)), "to": iso(START + timedelta(days=62))}
    assert (await call(client, "GET", "/appointment-slots", params=far))["items"] == []
    await call(client, "POST", "/appointments", patient, 201,
               json={"physician_id": str(doctor.user_id), "starts_at": iso(slot)})
    # Leave over the next slot: it is no longer offered nor bookable.
    await call(client, "POST", "/availability/leave", doctor, 201, json={
        "starts_at": iso(slot + timedelta(minutes=30)), "ends_at": iso(slot + timedelta(hours=1))})
    response = await client.post(f"{API}/appointments", headers=patient.headers, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(slot + timedelta(minutes=30))})
    assert response.status == 422
    assert await count(services, "SELECT count(*) FROM appointments") == 1


async def test_100_concurrent_bookings_of_one_slot_one_wins(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    people = await patients(services, CALLS)
    body = {"physician_id": str(doctor.user_id), "starts_at": "2026-10-30T03:30:00+00:00"}

    async def one(index: int) -> tuple[int, dict[str, object]]:
        response = await client.post(f"{API}/appointments", json=body,
                                     headers=people[index].headers)
        return response.status, await response.json()

    answers = await asyncio.gather(*(one(i) for i in range(CALLS)))
    assert Counter(status for status, _ in answers) == {201: 1, 409: CALLS - 1}
    for status, answer in answers:
        if status == 409:
            assert answer["error"]["code"] == "SLOT_TAKEN"
            assert answer["error"]["details"] == [{"field": "starts_at",
                                                   "message": "already booked"}]
    assert await count(services, "SELECT count(*) FROM appointments") == 1
    assert await count(services, "SELECT count(*) FROM audit_events WHERE action = "
                       "'appointment_booked'") == 1


async def test_ist_and_london_physicians_book_across_the_month_and_clock_change(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock, datetime(2026, 10, 20, tzinfo=UTC))
    india = await physician(client, services)
    london = await physician(client, services, zone="Europe/London", minutes=60,
                             weekly=[{"weekday": d, "start": "09:00", "end": "11:00"}
                                     for d in range(7)])
    patient = await login_patient(client, outbox)

    async def first_slot(doctor_id: str, day: datetime) -> str:
        found = await call(client, "GET", "/appointment-slots", params={
            "from": iso(day), "to": iso(day + timedelta(days=1)), "physician_id": doctor_id})
        return found["items"][0]["starts_at"]

    expected = [
        (india, datetime(2026, 10, 31, tzinfo=UTC), "2026-10-31T03:30:00+00:00"),
        (india, datetime(2026, 11, 1, tzinfo=UTC), "2026-11-01T03:30:00+00:00"),
        (london, datetime(2026, 10, 24, tzinfo=UTC), "2026-10-24T08:00:00+00:00"),  # BST
        (london, datetime(2026, 10, 31, tzinfo=UTC), "2026-10-31T09:00:00+00:00"),  # GMT
        (london, datetime(2026, 11, 1, tzinfo=UTC), "2026-11-01T09:00:00+00:00"),
    ]
    for doctor, day, starts_at in expected:
        assert await first_slot(str(doctor.user_id), day) == starts_at
        booked = await call(client, "POST", "/appointments", patient, 201, json={
            "physician_id": str(doctor.user_id), "starts_at": starts_at})
        assert booked["starts_at"] == starts_at
        assert booked["ends_at"] == iso(datetime.fromisoformat(starts_at) + timedelta(
            minutes=30 if doctor is india else 60))
    listed = (await call(client, "GET", "/appointments", patient))["items"]
    assert sorted(a["starts_at"] for a in listed) == sorted(s for _, _, s in expected)


async def test_the_database_refuses_a_second_booked_row_and_frees_a_cancelled_one(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    # Past the use case: the partial unique index itself is what holds a slot.
    at(clock)
    doctor = await physician(client, services)
    first, second, third = await patients(services, 3)
    slot = datetime(2026, 10, 30, 3, 30, tzinfo=UTC)

    def row(patient_id: object, status: str) -> dict[str, object]:
        return {"patient_id": patient_id, "physician_id": doctor.user_id, "starts_at": slot,
                "ends_at": slot + timedelta(minutes=30), "status": status, "source": "direct",
                "fee": Decimal("0"), "refunded": Decimal("0"), "reschedules": 0,
                "reminders_sent": 0, "created_at": START, "updated_at": START,
                "id": uuid.uuid4()}

    async with services.engine.begin() as conn:
        await conn.execute(insert(appointments), row(first.user_id, "cancelled"))
        await conn.execute(insert(appointments), row(second.user_id, "booked"))
    with pytest.raises(IntegrityError):
        async with services.engine.begin() as conn:
            await conn.execute(insert(appointments), row(third.user_id, "booked"))


async def test_leave_and_hours_belong_to_their_physician(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    other = await physician(client, services)
    admin = await make_staff(client, services, Role.ADMIN)
    patient = await login_patient(client, outbox)
    day = {"from": iso(START), "to": iso(START + timedelta(days=1)),
           "physician_id": str(doctor.user_id)}
    before = len((await call(client, "GET", "/appointment-slots", params=day))["items"])
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": "2026-10-28T04:00:00+00:00"})
    leave = await call(client, "POST", "/availability/leave", doctor, 201, json={
        "starts_at": "2026-10-28T03:30:00+00:00", "ends_at": "2026-10-28T05:30:00+00:00"})
    assert leave["booked_in_leave"] == [booked["id"]]  # left for the physician to move
    during = (await call(client, "GET", "/appointment-slots", params=day))["items"]
    assert len(during) == before - 4  # two hours of half-hour slots
    listed = (await call(client, "GET", "/availability/leave", doctor, params=day))["items"]
    assert [item["id"] for item in listed] == [leave["id"]]

    # Another physician can neither see nor remove it; an admin sets anyone's hours.
    response = await client.delete(f"{API}/availability/leave/{leave['id']}",
                                   headers=other.headers)
    assert response.status == 404
    response = await client.put(f"{API}/availability", headers=other.headers, json={
        "physician_id": str(doctor.user_id), "fee": "1.00", "weekly": []})
    assert response.status == 404
    changed = await call(client, "PUT", "/availability", admin, json={
        "physician_id": str(doctor.user_id), "time_zone": "Asia/Kolkata", "slot_minutes": 30,
        "fee": "450.00", "weekly": [{"weekday": 2, "start": "09:00", "end": "13:00"}]})
    assert changed["fee"] == "450.00"
    response = await client.put(f"{API}/availability", headers=admin.headers, json={
        "fee": "1.00", "weekly": []})
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "physician_id"

    response = await client.delete(f"{API}/availability/leave/{leave['id']}",
                                   headers=doctor.headers)
    assert response.status == 204
    after = (await call(client, "GET", "/appointment-slots", params=day))["items"]
    assert len(after) == before - 1  # only the booked slot is taken now


async def test_booking_and_cancelling_are_announced_to_patient_and_physician(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    heard: list[Change] = []

    async def listener(change: Change) -> None:
        heard.append(change)

    services.changes.listen(listener)
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": "2026-10-29T03:30:00+00:00"})
    await call(client, "POST", f"/appointments/{booked['id']}/cancel", patient)
    mine = [(c.status, c.users) for c in heard if c.kind == "appointment"]
    both = frozenset({str(patient.user_id), str(doctor.user_id)})
    assert mine == [("booked", both), ("cancelled", both)]
    assert all(set(c.message()) == {"type", "kind", "id", "status"} for c in heard)
