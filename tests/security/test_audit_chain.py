"""Issue 14 row 12: the audit trail holds no PHI, and whoever holds only the database can neither
re-seal the chain nor cut its end off unseen (the exported anchor keeps the head)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.cli import main
from dhanvantri.http.principal import Role
from dhanvantri.platform import consultations
from dhanvantri.platform.audit import ANCHOR_FILE, read_anchors, verify_trail
from dhanvantri.platform.bootstrap import Services, bootstrap
from dhanvantri.platform.db import create_schema_if_needed, make_engine, migrate
from dhanvantri.platform.domain.audit import (
    GENESIS_HASH,
    Anchor,
    AuditEvent,
    LegacyVerifier,
    canonical_json,
)
from dhanvantri.platform.domain.consultations import TurnRole, record_id
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.tables.audit import audit_events, audit_head
from dhanvantri.platform.web import install
from dhanvantri.platform.web.consultation_routes import CIPHER
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import PIN, call, key, lab, pay_by_sandbox, pharmacy, released
from tests.platform.helpers import (
    DRAFT,
    SAFE,
    Person,
    login_patient,
    make_staff,
    run_sql,
    staff_events,
)
from tests.support.waiting import wait_until_async

ABHA = "91-2345-6789-0123"
PHI = {"abha": "91234567890123", "abha_dashed": ABHA, "dob": "1984-03-17",
       "name": "Kavitha Raghunathan", "condition": "HIV positive", "allergy": "Sulfonamide",
       "medicine": "Dolutegravir", "address": "221B Residency Road", "phone": "9876501234",
       "diagnosis": "Viral fever", "prescribed": "Dolo 650", "said": "Kavitha"}


# ------------------------------------------------------------------ helpers
async def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DHANVANTRI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DHANVANTRI_DATABASE_SCHEMA", settings.database_schema)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["audit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def _reseal_from(services: Services, seq: int, change: dict[str, Any]) -> None:
    """The attacker: edit event ``seq`` and recompute every later seal as plain SHA-256 (all the
    old chain was), moving the head along, so the chain is self-consistent again."""
    async with services.uow() as uow:
        events = list(await uow.audit.events())
        prev = events[seq - 2].hash if seq > 1 else GENESIS_HASH
        for event in events[seq - 1:]:
            if event.seq == seq:
                event.new_values = {**(event.new_values or {}), **change}
            event.prev_hash = prev
            event.hash = prev = event.legacy_hash()
        await uow.commit()  # nothing recorded: the attacker bypasses the trail
    await run_sql(services, "UPDATE audit_head SET hash = :hash", hash=prev)


# ------------------------------------------------------------------ (1) a re-sealed chain
async def test_a_resealed_chain_is_caught(services: Services, settings: Settings,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    await staff_events(services, 5)
    await _reseal_from(services, 1, {"role": "admin"})
    async with services.uow() as uow:
        forged = list(await uow.audit.events())
        head_seq, head_seal = await uow.audit.head()
    # The plain SHA-256 chain `audit verify` checked before the fix accepts the forgery whole.
    legacy = LegacyVerifier(b"")
    assert not any(legacy.feed(e) for e in forged)
    assert legacy.finish(head_seq, head_seal) is None and forged[0].new_values["role"] == "admin"
    # The HMAC chain names the first re-sealed event, in the library and on the command line.
    _, broken = await verify_trail(services.uow())
    assert broken is not None and broken.seq == 1 and "re-sealed" in broken.reason
    code, out, err = await _cli(settings, monkeypatch, capsys, "verify", "--json")
    assert code == 1 and json.loads(out) == {"intact": False, "checked": 1, "broken_at": {
        "seq": 1, "reason": "content does not match its seal (altered or re-sealed)"}}
    assert "BROKEN at event 1" in err
    await services.close()


# ------------------------------------------------------------------ (2) a cut-off end
async def test_removing_the_last_events_is_caught_by_the_anchor(
        services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    await staff_events(services, 5)
    anchors = tmp_path / "shipped" / "anchors.jsonl"
    anchors.parent.mkdir()
    code, out, err = await _cli(settings, monkeypatch, capsys, "anchor", "--out", str(anchors))
    assert code == 0 and out == "" and f"event 5 appended to {anchors}" in err
    # The attacker cuts events 4 and 5 and moves the head back: a shorter, consistent chain.
    async with services.uow() as uow:
        third = (await uow.audit.events(after_seq=2, limit=1))[0]
    await run_sql(services, "DELETE FROM audit_events WHERE seq > 3")
    await run_sql(services, "UPDATE audit_head SET seq = 3, hash = :hash", hash=third.hash)
    assert await verify_trail(services.uow()) == (3, None)  # the chain alone cannot tell
    code, out, _ = await _cli(settings, monkeypatch, capsys, "verify", "--json")
    assert code == 0 and json.loads(out) == {"intact": True, "checked": 3}
    code, out, err = await _cli(settings, monkeypatch, capsys, "verify", "--json", "--anchor",
                                str(anchors))
    assert code == 1 and json.loads(out) == {
        "intact": False, "checked": 3, "anchors_checked": 1, "broken_at": {
            "seq": 4, "reason": "chain ends at 3 but an anchor holds event 5 (events removed)"}}
    await services.close()


async def test_an_anchor_catches_a_chain_rewritten_from_the_start(
        services: Services, tmp_path: Path) -> None:
    # Whoever could seal (the server itself, at an upgrade) still cannot change an anchored seal.
    await staff_events(services, 3)
    async with services.uow() as uow:
        anchor_seal = (await uow.audit.head())[1]
    anchor = Anchor(3, anchor_seal, datetime.now(UTC))
    async with services.uow() as uow:
        events = list(await uow.audit.events())
        events[0].new_values = {"role": "admin"}
        prev = GENESIS_HASH
        for event in events:
            event.seal(event.seq, prev, services.audit_keys.chain)
            prev = event.hash
        await uow.commit()
    await run_sql(services, "UPDATE audit_head SET hash = :hash", hash=prev)
    assert await verify_trail(services.uow()) == (3, None)
    _, broken = await verify_trail(services.uow(), [anchor])
    assert broken is not None and broken.seq == 3 and "anchor" in broken.reason
    await services.close()


# ------------------------------------------------------------------ (3) no PHI in the trail
async def _broad_flow(client: TestClient, services: Services, outbox: OutboxNotifier
                      ) -> tuple[Person, Person]:
    """Patients, profile, prescriptions, orders, labs, payments, a consultation's close."""
    patient = await login_patient(client, outbox, phone=PHI["phone"])
    await call(client, "PATCH", "/me/patient-profile", patient, json={
        "full_name": PHI["name"], "abha_number": PHI["abha_dashed"],
        "date_of_birth": PHI["dob"], "conditions": [PHI["condition"]],
        "allergies": [PHI["allergy"]], "medicines": [PHI["medicine"]]})
    await call(client, "PATCH", "/me/patient-profile", patient, json={"full_name": PHI["name"]})
    admin = await make_staff(client, services, Role.ADMIN)
    rx_id = await released(client, services, outbox, patient)  # drafted, approved, signed ...
    # A physician confirms what the patient said in the call into the profile.
    doctor = await make_staff(client, services, Role.PHYSICIAN, phone="9123456781")
    stated = {**DRAFT, "consultation": {"end_reason": "hangup", "intake": {
        "conditions": ["tuberculosis"], "allergies": ["latex"]}}}
    review_id = await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id, stated,
                                        SAFE, False)
    await call(client, "POST", f"/prescriptions/{review_id}/profile", doctor,
               json={"conditions": ["tuberculosis"], "allergies": ["latex"]})
    await call(client, "POST", f"/prescriptions/{review_id}/reject", doctor,
               json={"reason": "Patient Kavitha needs an in-person visit"})
    # An order, paid at the gateway; a lab booking paid from the wallet.
    _, shop_id = await pharmacy(client, services, admin, {"DOLO-650": 10})
    cart = await call(client, "POST", "/carts/from-prescription", patient,
                      json={"prescription_id": str(rx_id), "pin_code": PIN})
    items = [{"medicine_id": line["item"]["id"], "quantity": line["quantity"]}
             for line in cart["lines"] if line["item"]]
    order = await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop_id, "pin_code": PIN, "address": PHI["address"], "items": items,
        "prescription_id": str(rx_id)})
    started = await call(client, "POST", f"/orders/{order['id']}/pay", patient, 201,
                         headers=key(), json={"method": "gateway"})
    await pay_by_sandbox(client, patient, started)
    _, _, slot_id = await lab(client, services, admin)
    topup = await call(client, "POST", "/wallet/topup", patient, 201, headers=key(),
                       json={"amount": "500.00"})
    await pay_by_sandbox(client, patient, topup)
    booking = await call(client, "POST", "/lab-bookings", patient, 201, json={
        "slot_id": slot_id, "tests": ["complete-blood-count"], "address": PHI["address"]})
    await call(client, "POST", f"/lab-bookings/{booking['id']}/pay", patient, 201,
               headers=key(), json={"method": "wallet"})
    # A consultation recorded turn by turn and closed into the review queue.
    cipher = client.app[CIPHER]
    cid = record_id(uuid.uuid4().hex)
    assert await consultations.open_record(services.uow(), cid, patient.user_id, "en")
    await consultations.add_turn(services.uow(), cipher, cid, TurnRole.PATIENT,
                                 f"I am {PHI['name']} and I am {PHI['condition']}",
                                 "I am <PERSON_1>", datetime.now(UTC))
    await consultations.update_notes(services.uow(), cipher, cid, {
        "intake": {"complaint": "fever", "conditions": [PHI["condition"]]}, "red_flags": [],
        "draft": None, "physician_notes": [], "escalations": []})
    assert await consultations.close_record(services.uow, cipher, services.safety, cid,
                                            "hangup")
    return patient, admin


async def test_no_phi_value_in_the_trail_or_the_admin_api(
        client: TestClient, services: Services, outbox: OutboxNotifier) -> None:
    patient, admin = await _broad_flow(client, services, outbox)
    async with services.uow() as uow:
        stored = list(await uow.audit.events())
    api = (await call(client, "GET", "/audit/events", admin, params={"limit": 500}))["items"]
    assert [e["seq"] for e in api] == [e.seq for e in stored]
    actions = {e.action for e in stored}
    assert {"patient_profile_updated", "patient_profile_confirmed", "prescription_signed",
            "prescription_rejected", "order_placed", "payment_captured", "lab_booked",
            "consultation_closed"} <= actions, actions
    for where, dump in (("table", canonical_json([e.payload() for e in stored])),
                        ("api", canonical_json(api))):
        for name, value in PHI.items():
            assert value.casefold() not in dump.casefold(), f"{name} in the {where}"
        for word in ("tuberculosis", "latex", "in-person"):
            assert word not in dump, f"{word} in the {where}"

    # What an auditor still sees: states as values, PHI as keyed hashes comparable for equality.
    profile = [e for e in api if e["action"] == "patient_profile_updated"]
    first, second = profile[0]["new_values"], profile[1]["new_values"]
    assert set(first["abha_number"]) == {"changed", "hash"} and first["abha_number"]["changed"]
    assert second["full_name"]["hash"] == first["full_name"]["hash"]  # the same name again
    assert first["date_of_birth"]["hash"] != first["abha_number"]["hash"]
    rejected = next(e for e in api if e["action"] == "prescription_rejected")
    assert rejected["old_values"]["status"] == "pending_review"
    assert rejected["new_values"]["status"] == "rejected"
    assert rejected["new_values"]["rejection_reason"]["changed"] is True
    assert any(e["new_values"].get("amount") == "500.00" for e in api if e["new_values"])
    assert (await call(client, "GET", "/audit/verify", admin))["intact"] is True
    mine = [e for e in api if e["entity_id"] == str(patient.user_id)]
    assert {"patient_profile_updated", "patient_profile_confirmed"} <= {e["action"] for e in mine}


# ------------------------------------------------------------------ (4) the command line
async def test_cli_exit_codes_and_json(services: Services, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    await staff_events(services, 4)
    async with services.uow() as uow:
        head_seq, head_seal = await uow.audit.head()
    code, out, _ = await _cli(settings, monkeypatch, capsys, "anchor", "--json")
    anchor = json.loads(out)
    assert code == 0 and anchor == {"seq": 4, "seal": head_seal, "at": anchor["at"]}
    assert head_seq == 4 and datetime.fromisoformat(anchor["at"]).tzinfo is not None
    code, out, _ = await _cli(settings, monkeypatch, capsys, "anchor")
    assert code == 0 and out.startswith(f"audit head: event 4 seal {head_seal} at ")
    shipped = tmp_path / "anchors.jsonl"
    code, out, _ = await _cli(settings, monkeypatch, capsys, "anchor", "--json", "--out",
                              str(shipped))
    assert code == 0 and json.loads(out)["seq"] == 4
    assert [a.seq for a in read_anchors(shipped)] == [4]

    code, out, _ = await _cli(settings, monkeypatch, capsys, "verify", "--json")
    assert (code, json.loads(out)) == (0, {"intact": True, "checked": 4})
    code, out, _ = await _cli(settings, monkeypatch, capsys, "verify", "--json", "--anchor",
                              str(shipped))
    assert (code, json.loads(out)) == (0, {"intact": True, "checked": 4, "anchors_checked": 1})
    code, out, _ = await _cli(settings, monkeypatch, capsys, "verify")
    assert (code, out) == (0, "audit trail intact: 4 events\n")

    # Bad input: exit 2, nothing on stdout.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    for argv, says in ((["verify", "--anchor", str(tmp_path / "missing")], "cannot read"),
                       (["verify", "--json", "--anchor", str(bad)], "bad.jsonl:1"),
                       (["verify", "--anchor", str(empty)], "no anchor"),
                       (["anchor", "--out", str(tmp_path / "no" / "dir" / "a")], "cannot write")):
        code, out, err = await _cli(settings, monkeypatch, capsys, *argv)
        assert (code, out) == (2, ""), argv
        assert says in err, (argv, err)

    await run_sql(services, "UPDATE audit_events SET actor_role = 'admin' WHERE seq = 3")
    code, out, _ = await _cli(settings, monkeypatch, capsys, "verify", "--json")
    assert code == 1 and json.loads(out)["broken_at"]["seq"] == 3
    await services.close()


# ------------------------------------------------------------------ the server's anchors
async def test_the_server_writes_anchors_while_it_runs(settings: Settings, outbox: OutboxNotifier
                                                       ) -> None:
    fast = settings.model_copy(update={"audit_anchor_minutes": 0.002})  # every 0.12 s
    app = web.Application()
    services = install(app, fast, notifier=outbox)
    path = fast.resolved_data_dir() / ANCHOR_FILE
    async with TestClient(TestServer(app)) as test_client:
        await login_patient(test_client, outbox)

        async def head() -> tuple[int, str]:
            async with services.uow() as uow:
                return await uow.audit.head()

        seq, seal = await head()
        assert seq > 0
        line = await wait_until_async(
            lambda: path.exists() and [a for a in read_anchors(path) if a.seq == seq], 20,
            what="an anchor of the head in the data folder")
        assert line[0].seal == seal
        assert (await verify_trail(services.uow(), read_anchors(path)))[1] is None


# ------------------------------------------------------------------ upgrading an old chain
def _legacy_chain(values: list[dict[str, Any]], *, break_at: int | None = None
                  ) -> list[AuditEvent]:
    events, prev = [], GENESIS_HASH
    for seq, new in enumerate(values, 1):
        event = AuditEvent(action="patient_profile_updated", entity_type="user",
                           entity_id=str(uuid.uuid4()), new_values=new,
                           created_at=datetime(2026, 1, seq, tzinfo=UTC))
        event.seq, event.prev_hash = seq, prev
        event.hash = prev = event.legacy_hash()
        events.append(event)
    if break_at is not None:  # altered before the upgrade: must stay caught after it
        events[break_at - 1].new_values = {"status": "forged"}
    return events


@pytest.mark.parametrize("break_at", [None, 2])
async def test_upgrade_masks_and_reseals_an_old_chain(database: dict[str, str], tmp_path: Path,
                                                      break_at: int | None) -> None:
    if database["database_url"].startswith("sqlite"):  # a fresh file, not the migrated template
        database = {**database, "database_url": f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"}
    settings = Settings(data_dir=tmp_path / "data", **database)
    engine = make_engine(settings)
    await create_schema_if_needed(engine, settings)
    await migrate(engine, "0005_sealed")
    events = _legacy_chain([{"abha_number": PHI["abha"], "status": "ok"},
                            {"conditions": [PHI["condition"]]}, {"full_name": PHI["name"]}],
                           break_at=break_at)
    async with engine.begin() as conn:
        for e in events:
            await conn.execute(audit_events.insert().values(
                id=e.id, seq=e.seq, actor_id=None, actor_role=e.actor_role, action=e.action,
                entity_type=e.entity_type, entity_id=e.entity_id, old_values=None,
                new_values=e.new_values, request_id=None, created_at=e.created_at,
                prev_hash=e.prev_hash, hash=e.hash))
        await conn.execute(audit_head.update().values(seq=3, hash=events[-1].hash))
    await engine.dispose()

    services = bootstrap(settings)
    await services.start()  # migrates to head with this server's audit key
    count, broken = await verify_trail(services.uow())
    if break_at is None:
        assert (count, broken) == (3, None)
    else:
        assert broken is not None and broken.seq == break_at
    async with services.uow() as uow:
        stored = list(await uow.audit.events())
    dump = canonical_json([e.payload() for e in stored])
    assert PHI["abha"] not in dump and PHI["condition"] not in dump and PHI["name"] not in dump
    assert stored[0].new_values is not None and stored[0].new_values["status"] == "ok"
    await services.close()
