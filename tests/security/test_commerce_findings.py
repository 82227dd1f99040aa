"""Issue 14 rows 11 and 13: adding a family member reveals nobody and needs the member's
consent; pharmacies and labs see only the prescriptions their own orders or bookings name."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from tests.platform.commerce_setup import PIN, call, key, lab, pharmacy, released
from tests.platform.helpers import Person, login_patient, make_staff

FAMILY = "family_link"  # the purpose the member's code is sent for


def family_codes(outbox: OutboxNotifier) -> list[tuple[str, str]]:
    """(destination, code) of every family-link code sent so far."""
    return [(m.destination, m.code) for m in outbox.sent if m.purpose == FAMILY]


async def ask(client: TestClient, who: Person, phone: str) -> dict[str, Any]:
    """Ask to link ``phone``; the answer must be the same whoever the number belongs to."""
    body = await call(client, "POST", "/wallet/family", who, 202, json={"phone": phone})
    assert set(body) == {"challenge_id", "expires_at", "message"}, body
    assert body["message"] == "if this number belongs to a patient, they were sent a code"
    return body


async def test_asking_for_a_number_reveals_nobody(client: TestClient, services: Services,
                                                  outbox: OutboxNotifier) -> None:
    mother = await login_patient(client, outbox)
    await login_patient(client, outbox, phone="9988776655")  # a patient: the son
    await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    son = await ask(client, mother, "9988776655")
    nobody = await ask(client, mother, "9812345678")
    staff = await ask(client, mother, "9123456780")
    # Same shape, same words: no name, no "not found"; only the patient gets a code.
    assert {k for k in son if k not in ("challenge_id", "expires_at")} == {"message"}
    assert nobody["message"] == son["message"] == staff["message"]
    assert [d for d, _ in family_codes(outbox)] == ["+919988776655"]
    own = await call(client, "POST", "/wallet/family", mother, 422, json={"phone": "9876543210"})
    assert own["error"]["details"][0]["field"] == "phone"


async def test_the_link_exists_only_after_the_members_code(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    mother = await login_patient(client, outbox)
    son = await login_patient(client, outbox, phone="9988776655")
    stranger = await login_patient(client, outbox, phone="9876501234")
    asked = await ask(client, mother, "9988776655")
    [(_, code)] = family_codes(outbox)
    # Not linked yet: a transfer is refused.
    refused = await call(client, "POST", "/wallet/transfer", mother, 404, headers=key(),
                         json={"member_id": str(son.user_id), "amount": "1"})
    assert refused["error"]["code"] == "NOT_FOUND"
    # A wrong code, or the right code given by someone else, links nobody.
    wrong = "000000" if code != "000000" else "111111"
    bad = await call(client, "POST", "/wallet/family/confirm", mother, 401,
                     json={"challenge_id": asked["challenge_id"], "code": wrong})
    assert bad["error"]["code"] == "OTP_INVALID"
    theft = await call(client, "POST", "/wallet/family/confirm", stranger, 401,
                       json={"challenge_id": asked["challenge_id"], "code": code})
    assert theft["error"]["code"] == "OTP_INVALID"
    # The son reads his code out to his mother: now they are linked.
    linked = await call(client, "POST", "/wallet/family/confirm", mother, 201,
                        json={"challenge_id": asked["challenge_id"], "code": code})
    assert linked["member_id"] == str(son.user_id)
    again = await call(client, "POST", "/wallet/family/confirm", mother, 409,
                       json={"challenge_id": asked["challenge_id"], "code": code})
    assert again["error"]["code"] == "OTP_USED"
    # A number nobody has: no code was sent, so whatever is typed links nothing.
    ghost = await ask(client, mother, "9812345678")
    miss = await call(client, "POST", "/wallet/family/confirm", mother, 401,
                      json={"challenge_id": ghost["challenge_id"], "code": code})
    assert miss["error"]["code"] == "OTP_INVALID"
    # Asking, the wrong tries and the link are all in the audit trail.
    admin = await make_staff(client, services, Role.ADMIN)
    trail = await call(client, "GET", "/audit/events", admin,
                       params={"entity_type": "wallet", "entity_id": str(mother.user_id)})
    actions = [e["action"] for e in trail["items"]]
    assert actions.count("family_member_added") == 1
    assert actions.count("family_link_requested") == 2
    assert actions.count("family_link_failed") == 3  # wrong, used, no such member


async def listed(client: TestClient, who: Person) -> set[str]:
    return {rx["id"] for rx in (await call(client, "GET", "/prescriptions", who))["items"]}


async def test_merchants_see_only_prescriptions_their_orders_name(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    ravi = await login_patient(client, outbox)
    asha = await login_patient(client, outbox, phone="9988776655")
    ravi_rx = await released(client, services, outbox, ravi, doctor=doctor)
    asha_rx = await released(client, services, outbox, asha, doctor=doctor)
    shop_owner, shop = await pharmacy(client, services, admin, {"DOLO-650": 5})
    rival, _ = await pharmacy(client, services, admin, {"DOLO-650": 5}, name="Rival Medicals")
    lab_owner, _lab, slot = await lab(client, services, admin)
    # Before any order, no merchant sees any prescription.
    for merchant in (shop_owner, rival, lab_owner):
        assert await listed(client, merchant) == set()
        await call(client, "GET", f"/prescriptions/{ravi_rx}", merchant, 404)
    dolo = next(m for m in (await call(client, "GET", "/medicines", params={"q": "dolo"}))[
        "items"] if m["sku"] == "DOLO-650")
    await call(client, "POST", "/orders", ravi, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": "12 MG Road",
        "prescription_id": str(ravi_rx), "items": [{"medicine_id": dolo["id"], "quantity": 1}]})
    await call(client, "POST", "/lab-bookings", asha, 201, json={
        "slot_id": slot, "tests": ["hba1c"], "address": "4 Church Street",
        "prescription_id": str(asha_rx)})
    # Each sees the prescription its own order or booking names, and nothing else.
    assert await listed(client, shop_owner) == {str(ravi_rx)}
    assert await listed(client, lab_owner) == {str(asha_rx)}
    assert await listed(client, rival) == set()
    assert (await call(client, "GET", f"/prescriptions/{ravi_rx}", shop_owner))["id"] == str(
        ravi_rx)
    await call(client, "GET", f"/prescriptions/{asha_rx}", shop_owner, 404)
    await call(client, "GET", f"/prescriptions/{ravi_rx}", lab_owner, 404)
    await call(client, "GET", f"/prescriptions/{ravi_rx}", rival, 404)
    await call(client, "GET", f"/prescriptions/{ravi_rx}/pdf", rival, 404)
    # Physicians and the patients themselves see as before.
    assert await listed(client, ravi) == {str(ravi_rx)}
    assert {str(ravi_rx), str(asha_rx)} <= await listed(client, doctor)
