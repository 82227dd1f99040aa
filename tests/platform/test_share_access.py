"""Record shares through the API: a share's state by what a recipient does (the table), the
named edges (revoked, expired, three wrong codes, a second device), who may make and end
shares, and a prescription shared alone. Every open, wrong code and view is audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier

from .commerce_setup import call, released
from .helpers import Person, login_patient, make_staff

API = "/api/v1"
WHOLE = {"kind": "record", "minutes": 60}


def token_of(share: dict[str, Any]) -> str:
    assert "/shared#" in share["url"]
    return share["url"].split("#", 1)[1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def post(client: TestClient, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(API + path, json=body)
    assert response.headers.get("Cache-Control") == "no-store" or response.status >= 400
    return response.status, await response.json()


async def unlock(client: TestClient, share: dict[str, Any], code: str | None = None
                 ) -> tuple[int, Any]:
    return await post(client, "/shares/unlock",
                      {"token": token_of(share), "code": code or share["code"]})


async def make(client: TestClient, patient: Person, body: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    return await call(client, "POST", "/shares", patient, 201, json=body or WHOLE)


# A share's state, then what each recipient step answers (status, error code).
STATES = {
    "waiting": {"open": (200, None), "unlock": (200, None)},
    "revoked": {"open": (410, "SHARE_REVOKED"), "unlock": (410, "SHARE_REVOKED")},
    "expired": {"open": (410, "SHARE_EXPIRED"), "unlock": (410, "SHARE_EXPIRED")},
    "locked": {"open": (410, "SHARE_LOCKED"), "unlock": (410, "SHARE_LOCKED")},
    "opened": {"open": (409, "CONFLICT"), "unlock": (409, "CONFLICT")},
}

LISTED = {"waiting": "open", "revoked": "revoked", "expired": "expired", "locked": "locked",
          "opened": "open"}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("state", list(STATES))
async def test_recipient_steps_by_state(state: str, client: TestClient, clock: ManualClock,
                                        outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    share = await make(client, patient, {"kind": "record", "minutes": 5})
    if state == "revoked":
        await call(client, "POST", f"/shares/{share['id']}/revoke", patient)
    elif state == "expired":
        clock.advance(minutes=5)
    elif state == "locked":
        for _ in range(3):
            await unlock(client, share, wrong(share["code"]))
    elif state == "opened":
        assert (await unlock(client, share))[0] == 200
    for step, (status, code) in STATES[state].items():
        if step == "open":
            got, body = await post(client, "/shares/open", {"token": token_of(share)})
        else:
            got, body = await unlock(client, share)
        assert got == status, (step, body)
        assert (body.get("error") or {}).get("code") == code
    listed = {s["id"]: s["status"] for s in
              (await call(client, "GET", "/shares", patient))["items"]}
    assert listed[share["id"]] == LISTED[state]  # what the patient's list says afterwards


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_code_then_read_only_view_until_revoked(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    await call(client, "PATCH", "/me/patient-profile", patient,
               json={"full_name": "Meera Iyer", "allergies": ["Penicillin"]})
    share = await make(client, patient)
    assert share["status"] == "waiting" and len(share["code"]) == 6
    assert share["qr_svg"].startswith("<svg")
    status, link = await post(client, "/shares/open", {"token": token_of(share)})
    assert status == 200 and link == {"kind": "record", "expires_at": share["expires_at"],
                                      "attempts_left": 3}
    status, refused = await unlock(client, share, wrong(share["code"]))
    assert status == 401 and refused["error"]["details"] == {"attempts_left": 2}
    status, session = await unlock(client, share)
    assert status == 200
    status, shown = await post(client, "/shares/view", {"session": session["session"]})
    assert status == 200
    assert shown["content"]["patient"]["allergies"] == ["Penicillin"]
    assert shown["content"]["patient"]["full_name"] == "Meera Iyer"
    # The session is bound to this share and ends with it.
    clock.advance(minutes=10)
    assert (await post(client, "/shares/view", {"session": session["session"]}))[0] == 200
    await call(client, "POST", f"/shares/{share['id']}/revoke", patient)
    status, gone = await post(client, "/shares/view", {"session": session["session"]})
    assert status == 410 and gone["error"]["code"] == "SHARE_REVOKED"
    status, unknown = await post(client, "/shares/view", {"session": "A" * 43})
    assert status == 401 and unknown["error"]["code"] == "TOKEN_INVALID"
    async with services.uow() as uow:
        trail = [e.action for e in await uow.audit.events(entity_type="record_share",
                                                            entity_id=share["id"])]
    assert trail == ["record_share_created", "record_share_opened", "record_share_code_wrong",
                     "record_share_unlocked", "record_share_viewed", "record_share_viewed",
                     "record_share_revoked", "record_share_view_refused"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_session_ends_at_expiry_and_third_wrong_code_locks(
        client: TestClient, clock: ManualClock, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    share = await make(client, patient, {"kind": "record", "minutes": 5})
    session = (await unlock(client, share))[1]["session"]
    clock.advance(minutes=5)
    status, gone = await post(client, "/shares/view", {"session": session})
    assert status == 410 and gone["error"]["code"] == "SHARE_EXPIRED"

    locked = await make(client, patient)
    answers = [await unlock(client, locked, wrong(locked["code"])) for _ in range(3)]
    assert [(s, b["error"]["code"]) for s, b in answers] == [
        (401, "OTP_INVALID"), (401, "OTP_INVALID"), (410, "SHARE_LOCKED")]
    status, still = await unlock(client, locked)  # the right code, too late
    assert status == 410 and still["error"]["code"] == "SHARE_LOCKED"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_who_may_make_and_end_shares(client: TestClient, services: Services,
                                           outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, "9988776655")
    physician = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    rx_id = await released(client, services, outbox, patient, doctor=physician)
    # role by action: patients share their own; staff and strangers cannot.
    await call(client, "POST", "/shares", physician, 403, json=WHOLE)
    await call(client, "POST", "/shares", None, 401, json=WHOLE)
    one = await make(client, patient, {"kind": "prescription", "reference_id": str(rx_id),
                                       "minutes": 30})
    await call(client, "POST", "/shares", other, 404,
               json={"kind": "prescription", "reference_id": str(rx_id), "minutes": 30})
    await call(client, "POST", f"/shares/{one['id']}/revoke", other, 404)
    await call(client, "POST", f"/shares/{one['id']}/revoke", physician, 403)
    assert (await call(client, "GET", "/shares", other))["items"] == []
    # A prescription shared alone shows that prescription only.
    session = (await unlock(client, one))[1]["session"]
    status, shown = await post(client, "/shares/view", {"session": session})
    assert status == 200 and shown["kind"] == "prescription"
    assert shown["content"]["id"] == str(rx_id) and "patient" not in shown["content"]
    # Bad input names the field.
    for body, field in [({"kind": "record", "minutes": 1}, "minutes"),
                        ({"kind": "prescription", "minutes": 30}, "reference_id"),
                        ({"kind": "record", "reference_id": str(rx_id), "minutes": 30},
                         "reference_id"),
                        ({"kind": "x-ray", "minutes": 30}, "kind")]:
        refused = await call(client, "POST", "/shares", patient, 422, json=body)
        assert refused["error"]["details"][0]["field"] == field
    await call(client, "POST", "/shares", patient, 404,
               json={"kind": "lab_report", "reference_id": str(uuid.uuid4()), "minutes": 30})
