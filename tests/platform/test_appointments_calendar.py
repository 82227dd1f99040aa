"""iCalendar export for both sides: the patient's events name the physician, the physician's
name no patient; cancellations and reschedules update events in place (UID, SEQUENCE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from icalendar import Calendar

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier

from .appointments_setup import at, iso, physician
from .commerce_setup import API, call
from .helpers import Person, login_patient

SLOT = datetime(2026, 10, 30, 3, 30, tzinfo=UTC)


async def feed(client: TestClient, person: Person) -> tuple[bytes, Calendar]:
    response = await client.get(f"{API}/appointments/calendar.ics", headers=person.headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.read()
    return body, Calendar.from_ical(body)


async def test_both_sides_export_their_appointments(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient, json={"full_name": "Asha Rao"})
    kept = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    dropped = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(days=1))})
    await call(client, "POST", f"/appointments/{kept['id']}/reschedule", patient,
               json={"starts_at": iso(SLOT + timedelta(hours=1))})
    await call(client, "POST", f"/appointments/{dropped['id']}/cancel", patient)

    _, calendar = await feed(client, patient)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{kept['id']}@dhanvantri", f"{dropped['id']}@dhanvantri"}
    moved = events[f"{kept['id']}@dhanvantri"]
    assert moved.decoded("DTSTART") == SLOT + timedelta(hours=1)
    assert moved.decoded("DTEND") == SLOT + timedelta(hours=1, minutes=30)
    assert str(moved["SUMMARY"]) == "Video consultation with Test Physician"
    assert str(moved["STATUS"]) == "CONFIRMED" and int(moved["SEQUENCE"]) == 1
    assert [a["TRIGGER"].dt for a in moved.walk("VALARM")] == [-timedelta(minutes=15)]
    gone = events[f"{dropped['id']}@dhanvantri"]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 1

    body, calendar = await feed(client, doctor)
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {"Teleconsultation"}
    assert len(calendar.walk("VEVENT")) == 2
    assert b"Asha" not in body and b"Rao" not in body
    async with services.engine.connect() as conn:
        exported = (await conn.exec_driver_sql(
            "SELECT count(*) FROM audit_events WHERE action = 'calendar_exported'")).scalar()
    assert exported == 1
