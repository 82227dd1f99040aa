"""The emergency card through the API: the patient chooses its fields, a bystander's view shows
only those (no sign-in, never cached), every view is audited, a new card or a revoke kills the
old link, and the public view is rate-limited per address."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import call
from .helpers import login_patient

API = "/api/v1"
CARD = {"fields": ["blood_group", "allergies", "contacts"], "blood_group": "O+",
        "contacts": [{"name": "Asha Rao", "relation": "sister", "phone": "9811122233"}]}


def token_of(card: dict[str, Any]) -> str:
    url = card["url"]
    assert "/emergency#" in url and "?" not in url  # the token rides in the fragment
    return url.split("#", 1)[1]


async def view(client: TestClient, token: str, expect: int = 200) -> tuple[Any, Any]:
    response = await client.post(f"{API}/emergency-card/view", json={"token": token})
    assert response.status == expect, await response.text()
    return await response.json(), response.headers


async def audit_actions(services: Services, card_id: str) -> list[str]:
    async with services.uow() as uow:
        events = await uow.audit.events(entity_type="emergency_card", entity_id=card_id)
        return [e.action for e in events]


async def test_card_shows_only_chosen_fields_and_dies_when_revoked(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient, json={
        "full_name": "Meera Iyer", "allergies": ["Penicillin"], "conditions": ["Asthma"],
        "medicines": ["Salbutamol inhaler"]})
    card = await call(client, "PUT", "/emergency-card", patient, 201, json=CARD)
    assert card["qr_svg"].startswith("<svg") and card["fields"] == CARD["fields"]
    token = token_of(card)
    assert len(token) == 43

    shown, headers = await view(client, token)
    assert shown == {"blood_group": "O+", "allergies": ["Penicillin"],
                     "contacts": CARD["contacts"]}  # no name, conditions or medicines
    assert headers["Cache-Control"] == "no-store"
    assert "noindex" in headers["X-Robots-Tag"]
    # The profile is read at view time: the card never goes stale.
    await call(client, "PATCH", "/me/patient-profile", patient,
               json={"allergies": ["Penicillin", "Sulfa drugs"]})
    assert (await view(client, token))[0]["allergies"] == ["Penicillin", "Sulfa drugs"]
    # The patient sees the card without its link (only its digest is kept).
    mine = await call(client, "GET", "/emergency-card", patient)
    assert "url" not in mine and mine["id"] == card["id"]

    response = await client.post(f"{API}/emergency-card/revoke", headers=patient.headers)
    assert response.status == 204
    gone, _ = await view(client, token, 410)
    assert gone["error"]["code"] == "CARD_REVOKED"
    await call(client, "GET", "/emergency-card", patient, 404)
    assert await audit_actions(services, card["id"]) == [
        "emergency_card_created", "emergency_card_viewed", "emergency_card_viewed",
        "emergency_card_revoked", "emergency_card_view_refused"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_new_card_replaces_old_and_bad_input_names_the_field(
        client: TestClient, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    first = await call(client, "PUT", "/emergency-card", patient, 201,
                       json={"fields": ["name"]})
    second = await call(client, "PUT", "/emergency-card", patient, 201,
                        json={"fields": ["medicines"]})
    assert (await view(client, token_of(first), 410))[0]["error"]["code"] == "CARD_REVOKED"
    assert (await view(client, token_of(second)))[0] == {"medicines": []}
    # A field chosen without its value, an unknown field, a malformed or unknown token.
    for body, field in [({"fields": ["blood_group"]}, "blood_group"),
                        ({"fields": ["contacts"]}, "contacts"),
                        ({"fields": ["aadhaar"]}, "fields.0"),
                        ({"fields": ["blood_group"], "blood_group": "Z+"}, "blood_group"),
                        ({"fields": ["contacts"], "contacts": [
                            {"name": "Asha", "phone": "<script>"}]}, "contacts.0.phone")]:
        refused = await call(client, "PUT", "/emergency-card", patient, 422, json=body)
        assert refused["error"]["details"][0]["field"] == field
    assert (await view(client, token_of(second)))[0] == {"medicines": []}  # nothing lost
    await view(client, "short", 422)
    missing, _ = await view(client, "A" * 43, 404)
    assert missing["error"]["code"] == "NOT_FOUND"
    await call(client, "GET", "/emergency-card", None, 401)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_public_view_is_rate_limited_per_address(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    card = await call(client, "PUT", "/emergency-card", patient, 201, json={"fields": ["name"]})
    limit = int(services.settings.emergency_card_rate_limit.split("/")[0])
    for _ in range(limit):
        await view(client, token_of(card))
    limited, headers = await view(client, token_of(card), 429)
    assert limited["error"]["code"] == "RATE_LIMITED" and headers["Retry-After"].isdigit()
