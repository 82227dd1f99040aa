"""The back office announces committed changes to the users they concern, ids and states only.

A listener stands in for the live-updates socket (tests/realtime/test_me_events.py drives that):
the unit of work announces when it closes, so by the time an API call has answered, what it
changed has been heard.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.changes import Change
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import PIN, call, key, lab, pay_by_sandbox, pharmacy
from .helpers import Person, login_patient, make_staff

OTC = {"DOLO-650": 4}
Heard = dict[str, list[tuple[str, str, str]]]


def listen(services: Services) -> Heard:
    """What each user is told, as (kind, id, status), in order."""
    heard: Heard = defaultdict(list)

    async def listener(change: Change) -> None:
        message = change.message()
        assert set(message) == {"type", "kind", "id", "status"}  # no patient words travel
        for user in change.users:
            heard[user].append((message["kind"], message["id"], message["status"]))

    services.changes.listen(listener)
    return heard


def told(heard: Heard, person: Person) -> list[tuple[str, str, str]]:
    """What ``person`` has been told since the last call (and forget it)."""
    said = list(heard[str(person.user_id)])
    heard[str(person.user_id)].clear()
    return said


async def _order(client: TestClient, patient: Person, shop: str) -> dict[str, Any]:
    found = await call(client, "GET", "/medicines", params={"q": "dolo"})
    medicine = next(m for m in found["items"] if m["sku"] == "DOLO-650")
    return await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "items": [{"medicine_id": medicine["id"], "quantity": 2}]})


async def test_an_order_is_told_to_its_patient_and_its_pharmacy(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9988776655")
    admin = await make_staff(client, services, Role.ADMIN)
    owner, shop = await pharmacy(client, services, admin, OTC)
    heard = listen(services)

    order = await _order(client, patient, shop)
    placed = ("order", order["id"], "placed")
    assert told(heard, patient) == [placed]
    assert told(heard, owner) == [placed]
    # Reading changes nothing: no announcement (a page refetching on a change must not loop).
    await call(client, "GET", f"/orders/{order['id']}", patient)
    await call(client, "GET", f"/orders/{order['id']}", owner)
    assert told(heard, patient) == told(heard, owner) == []

    topup = await call(client, "POST", "/wallet/topup", patient, 201, headers=key(),
                       json={"amount": "100"})
    payment = topup["payment"]["id"]
    assert told(heard, patient) == [("payment", payment, "created")]
    await pay_by_sandbox(client, patient, topup)
    assert told(heard, patient) == [("payment", payment, "captured"),
                                    ("wallet", str(patient.user_id), "credited")]

    paid = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                      headers=key(), json={"method": "wallet"})
    order_paid = ("order", order["id"], "paid")
    assert sorted(told(heard, patient)) == sorted([
        order_paid, ("payment", paid["payment"]["id"], "captured"),
        ("wallet", str(patient.user_id), "debited")])
    assert told(heard, owner) == [order_paid]  # the pharmacy hears of the order, not the money

    await call(client, "POST", f"/orders/{order['id']}/pack", owner)
    await call(client, "POST", f"/orders/{order['id']}/ship", owner)
    steps = [("order", order["id"], "packed"), ("order", order["id"], "shipped")]
    assert told(heard, patient) == steps
    assert told(heard, owner) == steps
    assert told(heard, other) == []
    assert told(heard, admin) == []  # an admin acting is not concerned by it


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_transfer_is_told_to_both_wallets_and_a_refusal_to_nobody(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    mother = await login_patient(client, outbox)
    son = await login_patient(client, outbox, phone="9988776655")
    await pay_by_sandbox(client, mother, await call(
        client, "POST", "/wallet/topup", mother, 201, headers=key(), json={"amount": "50"}))
    asked = await call(client, "POST", "/wallet/family", mother, 202,
                       json={"phone": "9988776655"})
    await call(client, "POST", "/wallet/family/confirm", mother, 201, json={
        "challenge_id": asked["challenge_id"], "code": outbox.last_code("+919988776655")})
    heard = listen(services)

    await call(client, "POST", "/wallet/transfer", mother, 201, headers=key(),
               json={"member_id": str(son.user_id), "amount": "20"})
    assert told(heard, mother) == [("wallet", str(mother.user_id), "debited")]
    assert told(heard, son) == [("wallet", str(son.user_id), "credited")]
    # Refused, so rolled back: nothing happened and nothing is announced.
    await call(client, "POST", "/wallet/transfer", mother, 409, headers=key(),
               json={"member_id": str(son.user_id), "amount": "31"})
    assert told(heard, mother) == told(heard, son) == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_lab_booking_is_told_to_its_patient_and_its_lab(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    owner, _lab, slot = await lab(client, services, admin)
    patient = await login_patient(client, outbox)
    heard = listen(services)
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot, "tests": ["hba1c"], "address": "12 MG Road"})
    started = await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/collected", owner)
    steps = [("lab_booking", booking["id"], status)
             for status in ("placed", "paid", "sample_collected")]
    assert [c for c in told(heard, patient) if c[0] == "lab_booking"] == steps
    assert told(heard, owner) == steps


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_failing_listener_fails_nothing(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    admin = await make_staff(client, services, Role.ADMIN)
    _owner, shop = await pharmacy(client, services, admin, OTC)

    async def broken(change: Change) -> None:
        raise ConnectionError("the bus is down")

    services.changes.listen(broken)
    order = await _order(client, patient, shop)  # logged, not raised: the order stands
    assert (await call(client, "GET", f"/orders/{order['id']}", patient))["status"] == "placed"
