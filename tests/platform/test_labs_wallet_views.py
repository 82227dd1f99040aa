"""What the patient's care pages read: sex-specific result ranges, the tests a prescription
orders, the patient's bookings, the family members a wallet may pay, the top-up limit."""

from __future__ import annotations

import base64

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce.lab_tests import code_for, flag_results, ordered
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import call, key, lab, pay_by_sandbox, released, tiny_pdf
from .helpers import DRAFT, login_patient, make_staff


@pytest.mark.parametrize(("sex", "expected"), [
    ("female", {"haemoglobin": ("normal", 12.0), "HDL cholesterol": ("low", 50),
                "uric acid": ("normal", 2.4), "creatinine": ("high", 0.6)}),
    ("male", {"haemoglobin": ("low", 13.0), "HDL cholesterol": ("normal", 40),
              "uric acid": ("low", 3.4), "creatinine": ("normal", 0.7)}),
])
def test_ranges_that_differ_by_sex_are_the_patients_own(
        sex: str, expected: dict[str, tuple[str, float]]) -> None:
    tests = [code_for(n) for n in ("Complete blood count", "Lipid profile", "Serum uric acid",
                                   "Serum creatinine with eGFR")]
    values = [{"analyte": "Haemoglobin", "value": 12.5}, {"analyte": "hdl cholesterol",
                                                          "value": 45},
              {"analyte": "Uric acid", "value": 3.0}, {"analyte": "creatinine", "value": 1.2}]
    flagged = {r["analyte"]: r for r in flag_results(tests, values, sex)}
    assert {a: (r["flag"], r["low"]) for a, r in flagged.items()} == expected
    # "women" contains "men": a man is never given a women's (or pregnancy) row.
    word = "women" if sex == "female" else "men"
    assert all(word in r["population"].split() for r in flagged.values())
    assert not any("pregnant" in r["population"].split() for r in flagged.values())


def test_a_profile_without_sex_gets_a_row_for_everyone_where_there_is_one() -> None:
    cbc = [code_for("Complete blood count")]
    platelets = flag_results(cbc, [{"analyte": "platelet count", "value": 480}], None)[0]
    assert (platelets["flag"], platelets["population"]) == ("high", "adults")
    # Haemoglobin has no row for everyone: the first adult row, named so the reader knows.
    hb = flag_results(cbc, [{"analyte": "haemoglobin", "value": 12.5}], "other")[0]
    assert hb["population"] == "adult men"


def test_prescribed_names_resolve_to_catalogue_codes() -> None:
    codes, unmatched = ordered(["CBC", "lipid profile", "Hemogram", "Chest X-ray"])
    assert codes == ["complete-blood-count", "lipid-profile"]
    assert unmatched == ["Chest X-ray"]


async def test_book_the_prescribed_tests_and_read_flagged_results(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    admin = await make_staff(client, services, Role.ADMIN)
    owner, _lab_id, slot_id = await lab(client, services, admin)
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient, json={"sex": "female"})
    rx_id = await released(client, services, outbox, patient,
                           {**DRAFT, "lab_tests": ["CBC", "Lipid profile", "MRI brain"]})

    prescribed = await call(client, "GET", f"/prescriptions/{rx_id}/lab-tests", patient)
    assert [(t["code"], t["price"]) for t in prescribed["items"]] == [
        ("complete-blood-count", "350.00"), ("lipid-profile", "600.00")]
    assert prescribed["unmatched"] == ["MRI brain"]
    stranger = await login_patient(client, outbox, phone="9988776655")
    await call(client, "GET", f"/prescriptions/{rx_id}/lab-tests", stranger, 404)

    assert await call(client, "GET", "/lab-bookings", patient) == {"items": []}
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot_id, "tests": [t["code"] for t in prescribed["items"]],
        "address": "12 MG Road", "prescription_id": str(rx_id)})
    assert booking["total"] == "950.00"
    started = await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/collected", owner)
    await call(client, "POST", f"/lab-bookings/{booking['id']}/report", owner, json={
        "pdf_base64": base64.b64encode(tiny_pdf()).decode(),
        "results": [{"analyte": "haemoglobin", "value": 12.5},
                    {"analyte": "HDL cholesterol", "value": 45}]})

    listed = (await call(client, "GET", "/lab-bookings", patient))["items"]
    assert [(b["id"], b["status"], b["lab"], b["address"]) for b in listed] == [
        (booking["id"], "reported", "Koramangala Diagnostics", "12 MG Road")]
    assert listed[0]["results"] == []  # read one booking at a time: that access is audited
    assert await call(client, "GET", "/lab-bookings", stranger) == {"items": []}
    one = await call(client, "GET", f"/lab-bookings/{booking['id']}", patient)
    assert one["starts_at"] == listed[0]["starts_at"]
    assert one["prescription_id"] == str(rx_id)
    assert {r["analyte"]: r["flag"] for r in one["results"]} == {
        "haemoglobin": "normal", "HDL cholesterol": "low"}  # a woman's ranges


async def test_family_members_are_listed_for_their_owner_only(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    mother = await login_patient(client, outbox)
    son = await login_patient(client, outbox, phone="9988776655")
    await call(client, "PATCH", "/me/patient-profile", son, json={"full_name": "Arjun Rao"})
    assert await call(client, "GET", "/wallet/family", mother) == {"items": []}
    asked = await call(client, "POST", "/wallet/family", mother, 202,
                       json={"phone": "99887 76655"})
    await call(client, "POST", "/wallet/family/confirm", mother, 201, json={
        "challenge_id": asked["challenge_id"], "code": outbox.last_code("+919988776655")})
    members = (await call(client, "GET", "/wallet/family", mother))["items"]
    assert [(m["member_id"], m["full_name"], m["phone_hint"]) for m in members] == [
        (str(son.user_id), "Arjun Rao", "••••6655")]
    # One direction: the son has added nobody.
    assert await call(client, "GET", "/wallet/family", son) == {"items": []}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_top_up_above_the_limit_is_refused(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    limit = (await call(client, "GET", "/wallet", patient))["topup_max"]
    assert limit == "10000.00"
    await call(client, "POST", "/wallet/topup", patient, 201, headers=key(),
               json={"amount": limit})
    refused = await call(client, "POST", "/wallet/topup", patient, 422, headers=key(),
                         json={"amount": "10000.01"})
    assert refused["error"]["details"][0]["field"] == "amount"
