"""Lab results flagged against the knowledge base's ranges; slots fill up; labs see their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.errors import ValidationFailed
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce.lab_tests import code_for, flag_results
from dhanvantri.platform.domain.labs import flag
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import PIN, call, key, lab, pay_by_sandbox
from .helpers import login_patient, make_staff


def test_flags_use_the_range_for_the_patients_sex() -> None:
    cbc = [code_for("Complete blood count")]
    value = [{"analyte": "Haemoglobin", "value": 12.5}]
    assert flag_results(cbc, value, "female")[0]["flag"] == "normal"  # women: 12.0 and up
    assert flag_results(cbc, value, "male")[0]["flag"] == "low"  # men: 13.0 and up
    tlc = flag_results(cbc, [{"analyte": "total leucocyte count", "value": 11.5}], None)[0]
    assert (tlc["flag"], tlc["low"], tlc["high"], tlc["unit"]) == ("high", 4.0, 11.0, "10^3/uL")
    with pytest.raises(ValidationFailed):
        flag_results(cbc, [{"analyte": "ldl cholesterol", "value": 90}], None)
    assert (flag(3, 4, None), flag(4, 4, 5), flag(6, None, 5)) == ("low", "normal", "high")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_full_slot_refunds_the_late_payer(client: TestClient, services: Services,
                                                outbox: OutboxNotifier) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    owner, lab_id, _slot = await lab(client, services, admin)
    single = await call(client, "POST", f"/labs/{lab_id}/slots", owner, 201, json={
        "pin_code": PIN, "starts_at": (services.clock() + timedelta(days=2)).isoformat(),
        "capacity": 1})
    first = await login_patient(client, outbox)
    second = await login_patient(client, outbox, phone="9988776655")
    bookings = []
    for patient in (first, second):
        bookings.append(await call(client, "POST", "/lab-bookings", patient, 201, json={
            "slot_id": single["id"], "tests": ["hba1c"], "address": "12 MG Road"}))
    # Both start a gateway payment; the first to pay gets the slot, the second is refunded.
    started = [await call(client, "POST", f"/lab-bookings/{b['id']}/pay", p, 201,
                          headers=key(), json={"method": "gateway"})
               for b, p in zip(bookings, (first, second), strict=True)]
    won = await pay_by_sandbox(client, first, started[0])
    lost = await pay_by_sandbox(client, second, started[1])
    assert won["status"] == "captured"
    assert (lost["status"], lost["refunded"]) == ("refunded", "550.00")
    late = await call(client, "GET", f"/lab-bookings/{bookings[1]['id']}", second)
    assert late["status"] == "refunded"
    slots = await call(client, "GET", "/lab-slots", params={"pin_code": PIN})
    assert single["id"] not in [s["id"] for s in slots["items"]]
    # Another lab cannot see or report on this lab's booking.
    rival = await make_staff(client, services, Role.LAB)
    await call(client, "POST", "/labs", admin, 201, json={
        "name": "Rival Labs", "user_id": str(rival.user_id), "pin_codes": [PIN]})
    await call(client, "GET", f"/lab-bookings/{bookings[0]['id']}", rival, 404)
    await call(client, "POST", f"/lab-bookings/{bookings[0]['id']}/collected", rival, 404)
    unknown = await call(client, "POST", "/lab-bookings", first, 422, json={
        "slot_id": single["id"], "tests": ["not-a-test"], "address": "12 MG Road"})
    assert unknown["error"]["details"][0]["field"] == "tests"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_second_payment_for_a_paid_booking_is_refunded_alone(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    owner, lab_id, _slot = await lab(client, services, admin)
    slot = await call(client, "POST", f"/labs/{lab_id}/slots", owner, 201, json={
        "pin_code": PIN, "starts_at": (services.clock() + timedelta(days=2)).isoformat(),
        "capacity": 2})
    patient = await login_patient(client, outbox)
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot["id"], "tests": ["hba1c"], "address": "12 MG Road"})
    # Two checkouts opened (two tabs): both reach the gateway, the second one after the first.
    started = [await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
                          headers=key(), json={"method": "gateway"}) for _ in range(2)]
    first = await pay_by_sandbox(client, patient, started[0])
    second = await pay_by_sandbox(client, patient, started[1])
    assert first["status"] == "captured"
    assert (second["status"], second["refunded"]) == ("refunded", "550.00")
    kept = await call(client, "GET", f"/lab-bookings/{booking['id']}", patient)
    assert (kept["status"], kept["payment_id"]) == ("paid", started[0]["payment"]["id"])
    # One place taken: the slot still offers its second place.
    slots = await call(client, "GET", "/lab-slots", params={"pin_code": PIN})
    assert slot["id"] in [s["id"] for s in slots["items"]]
