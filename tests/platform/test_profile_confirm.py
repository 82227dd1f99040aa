"""Facts a patient stated in the consultation are offered beside the profile on the review
record, and a physician confirms them into the profile (audited, idempotent, physicians only)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft

from .helpers import DRAFT, SAFE, Person, login_patient, make_staff

API = "/api/v1"
# As a consultation's close queues it: what the patient said sits under consultation.intake.
INTAKE = {"complaint": "fever", "allergies": ["Penicillin", "sulfa", "SULFA"],
          "medications": ["metformin", "Paracetamol"], "conditions": ["asthma"]}
RECORD: dict[str, Any] = {**DRAFT, "consultation": {"end_reason": "hangup", "intake": INTAKE}}


async def _setup(client: TestClient, services: Services, outbox: OutboxNotifier,
                 profile: dict[str, Any] | None = None) -> tuple[Person, Person, uuid.UUID]:
    patient = await login_patient(client, outbox)
    response = await client.patch(f"{API}/me/patient-profile", headers=patient.headers, json=(
        {"allergies": ["penicillin"], "medicines": ["Metformin"]} if profile is None else profile))
    assert response.status == 200, await response.text()
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id, RECORD, SAFE,
                                    False)
    return patient, doctor, rx_id


async def _confirm(client: TestClient, who: Person, rx_id: uuid.UUID, body: Any) -> Any:
    return await client.post(f"{API}/prescriptions/{rx_id}/profile", headers=who.headers,
                             json=body)


async def _profile(client: TestClient, patient: Person) -> dict[str, Any]:
    return (await (await client.get(f"{API}/me", headers=patient.headers)).json())["patient"]


async def test_view_offers_what_the_profile_lacks(client: TestClient, services: Services,
                                                  outbox: OutboxNotifier) -> None:
    _, doctor, rx_id = await _setup(client, services, outbox)
    view = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=doctor.headers)).json()
    # Case-insensitive: "Penicillin" and "metformin" are in the profile already; "SULFA" is
    # "sulfa" said twice.
    assert view["stated"] == {"allergies": ["sulfa"], "medicines": ["Paracetamol"],
                              "conditions": ["asthma"]}
    assert view["patient"]["allergies"] == ["penicillin"]


async def test_confirm_adds_audits_and_repeats_harmlessly(client: TestClient, services: Services,
                                                          outbox: OutboxNotifier) -> None:
    patient, doctor, rx_id = await _setup(client, services, outbox)
    response = await _confirm(client, doctor, rx_id, {"allergies": ["Sulfa"],
                                                      "conditions": ["asthma"]})
    assert response.status == 200, await response.text()
    body = await response.json()
    # Stored as the patient said it; what is confirmed is no longer offered.
    assert body["patient"]["allergies"] == ["penicillin", "sulfa"]
    assert body["patient"]["conditions"] == ["asthma"]
    assert body["stated"] == {"allergies": [], "medicines": ["Paracetamol"], "conditions": []}
    profile = await _profile(client, patient)
    assert profile["allergies"] == ["penicillin", "sulfa"] and profile["conditions"] == ["asthma"]

    admin = await make_staff(client, services, Role.ADMIN)
    query = {"entity_type": "user", "entity_id": str(patient.user_id)}

    async def confirmations() -> list[dict[str, Any]]:
        events = (await (await client.get(f"{API}/audit/events", params=query,
                                          headers=admin.headers)).json())["items"]
        return [e for e in events if e["action"] == "patient_profile_confirmed"]

    [event] = await confirmations()
    assert event["actor_id"] == str(doctor.user_id) and event["actor_role"] == "physician"
    # What changed and from where, without the facts themselves (keyed hashes, README Security).
    assert set(event["old_values"]) == {"allergies", "conditions"}
    assert event["new_values"]["prescription_id"] == str(rx_id)
    assert event["new_values"]["allergies"]["changed"] is True
    assert "sulfa" not in str(event) and "asthma" not in str(event)

    # The same request again (or an already stored fact) changes nothing and audits nothing.
    again = await _confirm(client, doctor, rx_id, {"allergies": ["sulfa"], "medicines": [
        "metformin"]})
    assert again.status == 200, await again.text()
    assert (await again.json())["patient"] == body["patient"]
    assert len(await confirmations()) == 1
    chain = await (await client.get(f"{API}/audit/verify", headers=admin.headers)).json()
    assert chain["intact"] is True


async def test_bad_input_names_the_field(client: TestClient, services: Services,
                                         outbox: OutboxNotifier) -> None:
    patient, doctor, rx_id = await _setup(client, services, outbox)
    cases = [({"allergies": ["sulfa", "latex"]}, "allergies.1"),  # not said in the call
             ({}, "allergies"),  # nothing to confirm
             ({"allergies": "sulfa"}, "allergies"),
             ({"allergies": [""]}, "allergies.0"),
             ({"allergies": ["sulfa"], "weight": 60}, "weight")]
    for body, field in cases:
        response = await _confirm(client, doctor, rx_id, body)
        assert response.status == 422, (body, await response.text())
        error = (await response.json())["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert field in [d["field"] for d in error["details"]], (body, error)
    bad_json = await client.post(f"{API}/prescriptions/{rx_id}/profile", headers=doctor.headers,
                                 data=b"{", )
    assert bad_json.status == 422 and (await bad_json.json())["error"]["code"] == "INVALID_JSON"
    assert (await _profile(client, patient))["allergies"] == ["penicillin"]  # nothing half-done

    unknown = await _confirm(client, doctor, uuid.uuid4(), {"allergies": ["sulfa"]})
    assert unknown.status == 404 and (await unknown.json())["error"]["code"] == "NOT_FOUND"
    not_uuid = await client.post(f"{API}/prescriptions/nope/profile", headers=doctor.headers,
                                 json={"allergies": ["sulfa"]})
    assert not_uuid.status == 422
    assert (await not_uuid.json())["error"]["details"][0]["field"] == "id"


async def test_only_physicians_and_only_while_under_review(client: TestClient,
                                                           services: Services,
                                                           outbox: OutboxNotifier) -> None:
    patient, doctor, rx_id = await _setup(client, services, outbox)
    pharmacy = await make_staff(client, services, Role.PHARMACY)
    admin = await make_staff(client, services, Role.ADMIN)
    for who in (patient, pharmacy, admin):
        response = await _confirm(client, who, rx_id, {"allergies": ["sulfa"]})
        assert response.status == 403, (who.role, await response.text())
        assert (await response.json())["error"]["code"] == "FORBIDDEN"
    anonymous = await client.post(f"{API}/prescriptions/{rx_id}/profile",
                                  json={"allergies": ["sulfa"]})
    assert anonymous.status == 401

    approved = await client.post(f"{API}/prescriptions/{rx_id}/approve", headers=doctor.headers)
    assert approved.status == 200, await approved.text()
    late = await _confirm(client, doctor, rx_id, {"allergies": ["sulfa"]})
    assert late.status == 409
    error = (await late.json())["error"]
    assert error["code"] == "INVALID_STATE" and error["details"] == {"status": "approved"}
    assert (await _profile(client, patient))["allergies"] == ["penicillin"]


async def test_the_gate_counts_stated_facts_before_and_after_confirming(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    # Nothing in the profile: the penicillin allergy is known only from the call.
    _, doctor, rx_id = await _setup(client, services, outbox, profile={"allergies": []})
    view = await (await client.get(f"{API}/prescriptions/{rx_id}", headers=doctor.headers)).json()
    assert view["stated"]["allergies"] == ["Penicillin", "sulfa"]
    content = {**view["content"], "medications": [
        {"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"}]}

    async def blocked() -> bool:
        response = await client.put(f"{API}/prescriptions/{rx_id}", json=content,
                                    headers=doctor.headers)
        assert response.status == 200, await response.text()
        return bool((await response.json())["safety"]["blocked"])

    assert await blocked() is True
    confirmed = await _confirm(client, doctor, rx_id, {"allergies": ["penicillin"]})
    assert (await confirmed.json())["patient"]["allergies"] == ["Penicillin"]
    assert await blocked() is True
