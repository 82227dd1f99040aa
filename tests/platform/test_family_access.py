"""Family access: the authorisation matrix (level by action, allowed or denied, through the API
and as the rule itself), consent by code, dependents, leaving and revoking, all audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.sharing.domain import Action, Level, permits
from dhanvantri.settings import Settings

from .commerce_setup import call
from .helpers import Person, login_patient

API = "/api/v1"
PHONES = {"owner": "9876543210", "manager": "9988776655", "viewer": "9876501234",
          "stranger": "9123400001", "revoked": "9123400002", "left": "9123400003",
          "other_owner": "9123400004"}

# The rule: what each level may do for a family's dependents.
RULE = [(Level.OWNER, Action.READ_RECORD, True), (Level.OWNER, Action.START_CONSULTATION, True),
        (Level.OWNER, Action.MANAGE_FAMILY, True),
        (Level.MANAGER, Action.READ_RECORD, True),
        (Level.MANAGER, Action.START_CONSULTATION, True),
        (Level.MANAGER, Action.MANAGE_FAMILY, False),
        (Level.VIEWER, Action.READ_RECORD, True),
        (Level.VIEWER, Action.START_CONSULTATION, False),
        (Level.VIEWER, Action.MANAGE_FAMILY, False),
        (Level.DEPENDENT, Action.READ_RECORD, False),
        (Level.DEPENDENT, Action.START_CONSULTATION, False),
        (Level.DEPENDENT, Action.MANAGE_FAMILY, False),
        (None, Action.READ_RECORD, False), (None, Action.START_CONSULTATION, False),
        (None, Action.MANAGE_FAMILY, False)]

# Through the API, on the owner's dependent: who gets which status for each action.
# 404: no relation (a revoked or departed member has none); 403: a level that may not.
MATRIX = {
    "owner": {"read": 200, "consult": 200, "manage": 200},
    "manager": {"read": 200, "consult": 200, "manage": 403},
    "viewer": {"read": 200, "consult": 403, "manage": 403},
    "stranger": {"read": 404, "consult": 404, "manage": 404},
    "revoked": {"read": 404, "consult": 404, "manage": 404},
    "left": {"read": 404, "consult": 404, "manage": 404},
    "other_owner": {"read": 404, "consult": 404, "manage": 404},
}


@pytest.fixture
def settings(database: dict[str, str], tmp_path: Any) -> Settings:
    """Seven patients sign in from one address: more code requests than the default allows."""
    return Settings(data_dir=tmp_path / "data", otp_rate_limit="100/minute", **database)


@pytest.mark.parametrize(("level", "action", "allowed"), RULE)
def test_rule(level: Level | None, action: Action, allowed: bool) -> None:
    assert permits(level, action) is allowed


async def join(client: TestClient, outbox: OutboxNotifier, owner: Person, member: Person,
               level: str) -> dict[str, Any]:
    """Invite ``member``; they accept with the code sent to their phone."""
    await call(client, "POST", "/family/invitations", owner, 202,
               json={"phone": member.phone, "level": level})
    code = outbox.last_code(member.phone)
    invitation = (await call(client, "GET", "/family", member))["invitations"][0]
    return await call(client, "POST", f"/family/invitations/{invitation['id']}/accept", member,
                      json={"code": code})


async def dependent(client: TestClient, owner: Person, name: str) -> dict[str, Any]:
    return await call(client, "POST", "/family/dependents", owner, 201, json={
        "full_name": name, "date_of_birth": "2018-04-02", "sex": "female",
        "relation": "daughter"})


async def attempt(client: TestClient, who: Person, action: str, dependent_id: str,
                  viewer_row: str) -> int:
    if action == "read":
        response = await client.get(f"{API}/family/people/{dependent_id}/record",
                                    headers=who.headers)
    elif action == "consult":
        response = await client.post(
            f"{API}/family/people/{dependent_id}/consultations/authorise", headers=who.headers)
    else:  # a harmless change: the viewer's level set to what it is
        response = await client.patch(f"{API}/family/members/{viewer_row}",
                                      headers=who.headers, json={"level": "viewer"})
    return response.status


async def audit(services: Services, entity_type: str, entity_id: str) -> list[Any]:
    async with services.uow() as uow:
        return list(await uow.audit.events(entity_type=entity_type, entity_id=entity_id))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_matrix_through_the_api(client: TestClient, services: Services,
                                      outbox: OutboxNotifier) -> None:
    people = {name: await login_patient(client, outbox, phone) for name, phone in PHONES.items()}
    owner = people["owner"]
    child = await dependent(client, owner, "Anu Iyer")
    await join(client, outbox, owner, people["manager"], "manager")
    viewer_row = (await join(client, outbox, owner, people["viewer"], "viewer"))["id"]
    revoked_row = (await join(client, outbox, owner, people["revoked"], "manager"))["id"]
    left_row = (await join(client, outbox, owner, people["left"], "viewer"))["id"]
    response = await client.post(f"{API}/family/members/{revoked_row}/revoke",
                                 headers=owner.headers)
    assert response.status == 204
    response = await client.post(f"{API}/family/members/{left_row}/leave",
                                 headers=people["left"].headers)
    assert response.status == 204
    # Another family, whose manager is our manager too: being a manager there gives nothing here.
    await dependent(client, people["other_owner"], "Ravi Kumar")
    await join(client, outbox, people["other_owner"], people["manager"], "manager")

    seen = {name: {action: await attempt(client, people[name], action, child["member_id"],
                                         viewer_row) for action in ("read", "consult", "manage")}
            for name in MATRIX}
    assert seen == MATRIX
    # Every decision, allowed or not, is in the trail on the dependent (or the family).
    decisions = [e.action for e in await audit(services, "family_access", child["member_id"])]
    assert decisions.count("family_read_record_allowed") == 3
    assert decisions.count("family_read_record_denied") == 4
    assert decisions.count("family_start_consultation_denied") == 5


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_named_edges(client: TestClient, services: Services,
                           outbox: OutboxNotifier) -> None:
    a_owner = await login_patient(client, outbox, PHONES["owner"])
    b_owner = await login_patient(client, outbox, PHONES["other_owner"])
    manager = await login_patient(client, outbox, PHONES["manager"])
    a_child = await dependent(client, a_owner, "Anu Iyer")
    b_child = await dependent(client, b_owner, "Ravi Kumar")
    await join(client, outbox, a_owner, manager, "manager")
    # A manager of A reads A's dependent, not B's; nor A's own (adult) record.
    await call(client, "GET", f"/family/people/{a_child['member_id']}/record", manager)
    await call(client, "GET", f"/family/people/{b_child['member_id']}/record", manager, 404)
    await call(client, "GET", f"/family/people/{a_owner.user_id}/record", manager, 404)
    # Nor does the owner read the manager's record: joining shares dependents, not oneself.
    await call(client, "GET", f"/family/people/{manager.user_id}/record", a_owner, 404)
    # A guessed id says nothing: unknown and malformed alike get nowhere.
    await call(client, "GET", f"/family/people/{uuid.uuid4()}/record", manager, 404)
    bad = await call(client, "GET", "/family/people/not-a-uuid/record", manager, 422)
    assert bad["error"]["details"][0]["field"] == "id"
    # Staff have no family permission at all.
    response = await client.get(f"{API}/family")
    assert response.status == 401


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_consent_by_code_and_what_each_side_sees(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    owner = await login_patient(client, outbox, PHONES["owner"])
    member = await login_patient(client, outbox, PHONES["manager"])
    # A number with no patient gets the same answer, and nobody is texted.
    sent = len(outbox.sent)
    nobody = await call(client, "POST", "/family/invitations", owner, 202,
                        json={"phone": "9000012345", "level": "viewer"})
    assert len(outbox.sent) == sent
    real = await call(client, "POST", "/family/invitations", owner, 202,
                      json={"phone": member.phone, "level": "manager"})
    assert set(real) == set(nobody) == {"message", "expires_at"}
    assert real["message"] == nobody["message"]
    # The owner sees no pending invitation (that would reveal the number is a patient's).
    assert (await call(client, "GET", "/family", owner))["members"] == []
    mine = await call(client, "GET", "/family", member)
    [invitation] = mine["invitations"]
    assert invitation["level"] == "manager" and invitation["status"] == "invited"
    code = outbox.last_code(member.phone)
    # Only the invitee may accept; a wrong code counts and is audited.
    await call(client, "POST", f"/family/invitations/{invitation['id']}/accept", owner, 404,
               json={"code": code})
    wrong = "000000" if code != "000000" else "111111"
    refused = await call(client, "POST", f"/family/invitations/{invitation['id']}/accept",
                         member, 401, json={"code": wrong})
    assert refused["error"]["code"] == "OTP_INVALID"
    bad = await call(client, "POST", f"/family/invitations/{invitation['id']}/accept", member,
                     422, json={"code": "12ab"})
    assert bad["error"]["details"][0]["field"] == "code"
    joined = await call(client, "POST", f"/family/invitations/{invitation['id']}/accept",
                        member, json={"code": code})
    assert joined["status"] == "active" and joined["consented_at"]
    events = [(e.action, e.actor_id) for e in await audit(services, "family_member",
                                                           invitation["id"])]
    assert events == [("family_member_invited", owner.user_id),
                      ("family_invite_failed", member.user_id),
                      ("family_invite_accepted", member.user_id)]
    # Now the owner sees the member by name hint; the member sees the family.
    [listed] = (await call(client, "GET", "/family", owner))["members"]
    assert listed["level"] == "manager" and listed["phone_hint"].endswith("6655")
    assert (await call(client, "GET", "/family", member))["memberships"][0]["owner_id"] == str(
        owner.user_id)
    # A level change by the owner only; the member leaves, and the membership is gone.
    changed = await call(client, "PATCH", f"/family/members/{listed['id']}", owner,
                         json={"level": "viewer"})
    assert changed["level"] == "viewer"
    await call(client, "PATCH", f"/family/members/{listed['id']}", owner, 422,
               json={"level": "owner"})
    response = await client.post(f"{API}/family/members/{listed['id']}/leave",
                                 headers=member.headers)
    assert response.status == 204
    assert (await call(client, "GET", "/family", owner))["members"] == []
    assert (await call(client, "GET", "/family", member))["memberships"] == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_dependents(client: TestClient, outbox: OutboxNotifier) -> None:
    owner = await login_patient(client, outbox, PHONES["owner"])
    child = await dependent(client, owner, "Anu Iyer")
    assert child["level"] == "dependent" and child["phone_hint"] is None
    record = await call(client, "GET", f"/family/people/{child['member_id']}/record", owner)
    assert record["patient"]["full_name"] == "Anu Iyer"
    assert record["patient"]["date_of_birth"] == "2018-04-02"
    for body, field in [({"full_name": "X", "date_of_birth": "2999-01-01"}, "date_of_birth"),
                        ({"full_name": "", "date_of_birth": "2018-01-01"}, "full_name"),
                        ({"full_name": "Anu", "date_of_birth": "2018-01-01", "sex": "?"}, "sex")]:
        refused = await call(client, "POST", "/family/dependents", owner, 422, json=body)
        assert refused["error"]["details"][0]["field"] == field
    # A dependent stays in the family that created them.
    conflict = await client.post(f"{API}/family/members/{child['id']}/revoke",
                                 headers=owner.headers)
    assert conflict.status == 409
    assert len((await call(client, "GET", "/family", owner))["members"]) == 1
