"""A family manager starts a live consultation for a dependent: the permission layer decides
(owner or manager: yes; viewer: 403; no relation: 404; a guest: 401), every decision is audited,
and the record, the review queue and the prescription are the dependent's (the whole server,
stand-in voice models, a real call over the WebSocket)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import SERVICES, Services
from dhanvantri.platform.domain.consultations import record_id
from dhanvantri.realtime.app import create_app
from dhanvantri.realtime.state import RUNTIME
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import call
from tests.platform.helpers import Person, make_staff
from tests.realtime.conftest import make_settings, stand_in_models, start
from tests.realtime.test_consultation_record import START, rows, speak_turns
from tests.support.codes import codes, new_code
from tests.support.patient import Patient
from tests.support.waiting import wait_until_async

API = "/api/v1"
LINK = "family_link"  # the purpose a family invitation's code is sent for
PHONES = {"owner": "9876543210", "manager": "9988776655", "viewer": "9876501234",
          "other_owner": "9123400004"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Four patients sign in from one address: more code requests than the default allows.
    return make_settings(tmp_path, require_auth=True, max_sessions=3,
                         otp_rate_limit="100/minute")


@pytest.fixture
async def client(settings: Settings, caplog: pytest.LogCaptureFixture
                 ) -> AsyncIterator[TestClient]:
    caplog.set_level("INFO", logger="dhanvantri.notify")
    test_client = await start(create_app(settings, models=stand_in_models(settings)))
    yield test_client
    await test_client.close()


async def sign_in(client: TestClient, caplog: pytest.LogCaptureFixture, phone: str) -> Person:
    """A patient signs in with the code the console notifier logged."""
    before = len(codes(caplog))
    challenge = await call(client, "POST", "/auth/otp/request", None, 202, json={"phone": phone})
    code = new_code(caplog, before)
    tokens = await call(client, "POST", "/auth/otp/verify", None,
                        json={"challenge_id": challenge["challenge_id"], "code": code})
    person = Person(uuid.uuid4(), Role.PATIENT, tokens["access_token"], tokens["refresh_token"],
                    phone=phone)
    me = await call(client, "GET", "/me", person)
    person.user_id = uuid.UUID(me["id"])
    return person


async def join(client: TestClient, caplog: pytest.LogCaptureFixture, owner: Person,
               member: Person, level: str) -> None:
    """``owner`` invites ``member``, who accepts with the code sent to their phone."""
    before = len(codes(caplog, LINK))
    await call(client, "POST", "/family/invitations", owner, 202,
               json={"phone": member.phone, "level": level})
    code = new_code(caplog, before, LINK)
    invitation = (await call(client, "GET", "/family", member))["invitations"][0]
    await call(client, "POST", f"/family/invitations/{invitation['id']}/accept", member,
               json={"code": code})


async def dependent(client: TestClient, owner: Person, name: str) -> str:
    body = await call(client, "POST", "/family/dependents", owner, 201, json={
        "full_name": name, "date_of_birth": "2018-04-02", "sex": "female",
        "relation": "daughter"})
    return str(body["member_id"])


async def family(client: TestClient, caplog: pytest.LogCaptureFixture
                 ) -> tuple[dict[str, Person], str, str]:
    """The owner's family (a manager, a viewer, a daughter) and another owner's daughter."""
    people = {role: await sign_in(client, caplog, phone) for role, phone in PHONES.items()}
    await join(client, caplog, people["owner"], people["manager"], "manager")
    await join(client, caplog, people["owner"], people["viewer"], "viewer")
    child = await dependent(client, people["owner"], "Anu Iyer")
    other_child = await dependent(client, people["other_owner"], "Meera Rao")
    return people, child, other_child


async def start_for(client: TestClient, who: Person | None, patient_id: str) -> Any:
    return await client.post(f"{API}/consultations", json={"patient_id": patient_id},
                             headers=who.headers if who else {})


async def decisions(services: Services, subject: str) -> list[tuple[str, str]]:
    """The permission layer's decisions on consulting for ``subject``: (action, actor)."""
    async with services.uow() as uow:
        events = await uow.audit.events(entity_type="family_access", entity_id=subject)
    return [(e.action, str(e.actor_id)) for e in events if "consultation" in e.action]


async def test_a_manager_consults_for_a_dependent_and_the_record_is_hers(
        client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture, speech: Any
        ) -> None:
    services = client.app[SERVICES]
    people, child, _ = await family(client, caplog)
    manager = people["manager"]
    response = await start_for(client, manager, child)
    assert response.status == 201, await response.text()
    live = await response.json()

    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(live["ws_url"])
        await ws.send_json({**START, "access_token": manager.access})  # the caller joins
        patient = Patient(ws)
        await patient.wait_for(lambda e: e.get("type") == "ready", 10)
        await speak_turns(patient, speech, 1)
        # The manager may hang up: they started it.
        assert (await client.delete(f"{API}/consultations/{live['id']}",
                                    headers=manager.headers)).status == 204
        await patient.hang_up()

    cid = str(record_id(live["id"]))
    database = Path(str(settings.database_url).split("///", 1)[1])
    await wait_until_async(lambda: rows(database, "prescriptions"), 20,
                           what="the record to reach the review queue")
    record = await call(client, "GET", f"/family/people/{child}/record", manager)
    [held] = record["consultations"]
    assert held["id"] == cid and held["status"] == "completed" and held["turn_count"] >= 2
    assert held["prescription_id"]

    # The physician's queue and the prescription name the dependent, not the manager.
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456780")
    queue = (await call(client, "GET", "/prescriptions/queue", doctor))["items"]
    assert [(i["consultation_id"], i["patient"]["id"], i["patient"]["full_name"])
            for i in queue] == [(cid, child, "Anu Iyer")]
    rx = await call(client, "GET", f"/prescriptions/{held['prescription_id']}", doctor)
    assert rx["patient_id"] == child and rx["patient"]["date_of_birth"] == "2018-04-02"
    record = await call(client, "GET", f"/consultations/{live['id']}", doctor)
    assert record["patient_id"] == child
    assert ("patient", "I have a fever") in [(t["role"], t["text"]) for t in record["turns"]]

    # Not in the manager's own record; the audit names who opened the dependent's record.
    mine = await call(client, "GET", "/me/record", manager)
    assert cid not in {item["id"] for item in mine["items"]}
    async with services.uow() as uow:
        [opened] = [e for e in await uow.audit.events(entity_type="consultation",
                                                      entity_id=cid)
                    if e.action == "consultation_opened"]
    assert opened.actor_id == manager.user_id
    assert await decisions(services, child) == [
        ("family_start_consultation_allowed", str(manager.user_id))]


async def test_who_may_not_consult_for_a_dependent(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    services = client.app[SERVICES]
    registry = client.app[RUNTIME].registry
    people, child, other_child = await family(client, caplog)

    viewer = await start_for(client, people["viewer"], child)
    assert viewer.status == 403
    assert (await viewer.json())["error"]["details"] == {"level": "viewer",
                                                        "action": "start_consultation"}
    # A manager of one family finds no such person in another; nor is an adult theirs.
    assert (await start_for(client, people["manager"], other_child)).status == 404
    assert (await start_for(client, people["manager"], str(people["owner"].user_id))
            ).status == 404
    assert (await start_for(client, None, child)).status == 401
    bad = await start_for(client, people["manager"], "not-a-uuid")
    assert bad.status == 422
    assert [d["field"] for d in (await bad.json())["error"]["details"]] == ["patient_id"]
    assert len(registry) == 0  # no slot was taken by a refused try

    assert await decisions(services, child) == [
        ("family_start_consultation_denied", str(people["viewer"].user_id))]
    assert await decisions(services, other_child) == [
        ("family_start_consultation_denied", str(people["manager"].user_id))]

    # The owner may; one's own id is one's own consultation.
    assert (await start_for(client, people["owner"], child)).status == 201
    assert (await start_for(client, people["viewer"], str(people["viewer"].user_id))
            ).status == 201
