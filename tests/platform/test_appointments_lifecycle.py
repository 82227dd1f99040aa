"""After booking: paying the fee, rescheduling, cancelling with the policy's refund, no-shows and
completed visits, each audited; cancelled and moved appointments free their slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.ledger import GATEWAY, SYSTEM_OWNER, WALLET, Leg
from dhanvantri.platform.scheduling import bookings

from .appointments_setup import START, at, iso, patients, physician, refresh
from .commerce_setup import API, call, key
from .helpers import Person

SLOT = datetime(2026, 10, 30, 3, 30, tzinfo=UTC)  # 09:00 IST, two days after START


async def fund(services: Services, person: Person, amount: str) -> None:
    async with services.uow() as uow:
        await uow.ledger.post("topup", "test", [
            Leg(GATEWAY, SYSTEM_OWNER, -Decimal(amount)),
            Leg(WALLET, str(person.user_id), Decimal(amount))], uow.clock())
        await uow.commit()


async def balance(services: Services, person: Person) -> Decimal:
    async with services.uow() as uow:
        return await uow.ledger.owner_balance(WALLET, str(person.user_id))


async def actions(services: Services, appointment_id: str) -> list[str]:
    async with services.engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT action FROM audit_events WHERE entity_type = 'appointment' AND "
            "entity_id = :id ORDER BY seq"), {"id": appointment_id})
        return [row[0] for row in rows]


async def book(client: TestClient, patient: Person, doctor: Person, when: datetime,
               expect: int = 201) -> dict[str, object]:
    return await call(client, "POST", "/appointments", patient, expect, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(when)})


async def paid(client: TestClient, services: Services, patient: Person, doctor: Person,
               when: datetime) -> str:
    booking = await book(client, patient, doctor, when)
    result = await call(client, "POST", f"/appointments/{booking['id']}/pay", patient, 201,
                        json={"method": "wallet"}, headers=key())
    assert result["payment"]["status"] == "captured" and result["appointment"]["paid"]
    return str(booking["id"])


async def test_cancel_refunds_per_policy_and_frees_the_slot(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)  # fee 300.00, 24 h for a full refund
    patient, other = await patients(services, 2)
    await fund(services, patient, "900.00")

    early = await paid(client, services, patient, doctor, SLOT)  # 51.5 h ahead
    assert await balance(services, patient) == Decimal("600.00")
    cancelled = await call(client, "POST", f"/appointments/{early}/cancel", patient)
    assert cancelled["status"] == "cancelled" and cancelled["refunded"] == "300.00"
    assert await balance(services, patient) == Decimal("900.00")
    assert await actions(services, early) == ["appointment_booked", "appointment_paid",
                                              "appointment_cancelled"]
    await book(client, other, doctor, SLOT)  # the cancelled appointment's slot is free again

    late = await paid(client, services, patient, doctor, SLOT + timedelta(minutes=30))
    clock.advance(hours=40)  # 12 h before: half back
    refresh(services, patient, doctor)
    cancelled = await call(client, "POST", f"/appointments/{late}/cancel", patient)
    assert cancelled["refunded"] == "150.00"
    assert await balance(services, patient) == Decimal("750.00")

    by_doctor = await paid(client, services, patient, doctor, SLOT + timedelta(hours=1))
    cancelled = await call(client, "POST", f"/appointments/{by_doctor}/cancel", doctor)
    assert cancelled["refunded"] == "300.00"  # the physician's cancellation: all of it
    assert await balance(services, patient) == Decimal("750.00")
    response = await client.post(f"{API}/appointments/{by_doctor}/cancel",
                                 headers=patient.headers)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "INVALID_STATE"


async def test_reschedule_moves_to_a_free_slot_only(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient, other = await patients(services, 2)
    mine = await book(client, patient, doctor, SLOT)
    await book(client, other, doctor, SLOT + timedelta(minutes=30))

    response = await client.post(f"{API}/appointments/{mine['id']}/reschedule",
                                 headers=patient.headers,
                                 json={"starts_at": iso(SLOT + timedelta(minutes=30))})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "SLOT_TAKEN"
    moved = await call(client, "POST", f"/appointments/{mine['id']}/reschedule", patient,
                       json={"starts_at": iso(SLOT + timedelta(hours=1))})
    assert moved["starts_at"] == iso(SLOT + timedelta(hours=1)) and moved["reschedules"] == 1
    await book(client, other, doctor, SLOT)  # the old time is free
    response = await client.post(f"{API}/appointments/{mine['id']}/reschedule",
                                 headers=other.headers, json={"starts_at": iso(SLOT)})
    assert response.status == 404  # not theirs
    assert await actions(services, str(mine["id"])) == ["appointment_booked",
                                                        "appointment_rescheduled"]


async def test_no_show_and_completion_only_once_the_time_has_come(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient, other = await patients(services, 2)
    missed = await book(client, patient, doctor, SLOT)
    visit = await book(client, other, doctor, SLOT + timedelta(minutes=30))
    response = await client.post(f"{API}/appointments/{missed['id']}/no-show",
                                 headers=doctor.headers)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "APPOINTMENT_NOT_STARTED"
    response = await client.post(f"{API}/appointments/{missed['id']}/no-show",
                                 headers=patient.headers)
    assert response.status == 403  # patients cannot mark themselves

    clock.now = SLOT + timedelta(minutes=10)
    refresh(services, patient, other, doctor)
    assert (await call(client, "POST", f"/appointments/{missed['id']}/no-show",
                       doctor))["status"] == "no_show"
    response = await client.post(f"{API}/appointments/{missed['id']}/cancel",
                                 headers=patient.headers)
    assert response.status == 409  # too late to cancel a missed visit for a refund
    assert (await call(client, "POST", f"/appointments/{visit['id']}/complete",
                       doctor))["status"] == "completed"
    calendar = (await call(client, "GET", "/appointments", doctor, params={
        "from": iso(START), "to": iso(START + timedelta(days=7))}))["items"]
    assert [(a["id"], a["status"]) for a in calendar] == [
        (missed["id"], "no_show"), (visit["id"], "completed")]
    assert await actions(services, str(missed["id"])) == ["appointment_booked",
                                                         "appointment_no_show"]


async def test_an_unpaid_booking_gives_its_slot_back_after_the_hold(
        client: TestClient, services: Services, clock: ManualClock) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient, other = await patients(services, 2)
    unpaid = await book(client, patient, doctor, SLOT)
    follow_up = await call(client, "POST", "/appointments", doctor, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(hours=1)),
        "patient_id": str(patient.user_id), "source": "follow_up"})
    hold = timedelta(minutes=15)
    assert await bookings.expire_unpaid(services.uow(), hold) == 0
    clock.advance(minutes=16)
    refresh(services, patient, other, doctor)
    assert await bookings.expire_unpaid(services.uow(), hold) == 1
    mine = {a["id"]: a["status"] for a in (await call(client, "GET", "/appointments",
                                                     patient))["items"]}
    # The physician's follow-up is not held to the patient's payment window.
    assert mine == {unpaid["id"]: "cancelled", follow_up["id"]: "booked"}
    response = await client.post(f"{API}/appointments/{unpaid['id']}/pay", headers={
        **patient.headers, **key()}, json={"method": "wallet"})
    assert response.status == 409
    await book(client, other, doctor, SLOT)  # offered again
    assert await actions(services, str(unpaid["id"])) == ["appointment_booked",
                                                         "appointment_expired"]
