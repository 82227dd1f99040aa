"""Plain domain rules, no database: state machine, audit chain, safety gate, drafts, tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhanvantri.http.errors import Conflict, Forbidden, RateLimited, Unauthorized, ValidationFailed
from dhanvantri.http.principal import Role
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.domain.accounts import OtpPurpose, PatientProfile
from dhanvantri.platform.domain.audit import AuditEvent, verify_chain
from dhanvantri.platform.domain.prescriptions import Prescription, Status
from dhanvantri.platform.drafts import normalize_content
from dhanvantri.platform.otp import OtpIssuer
from dhanvantri.platform.safety import BasicSafetyGate
from dhanvantri.platform.tokens import TokenService

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _rx() -> Prescription:
    return Prescription(consultation_id=uuid.uuid4(), patient_id=uuid.uuid4(),
                        content={"medications": []}, safety={"blocked": False})


def test_prescription_happy_path_and_frozen_content() -> None:
    rx, doctor = _rx(), uuid.uuid4()
    rx.edit({"diagnosis": "x", "medications": []}, {"blocked": False}, NOW)
    rx.approve(doctor, NOW)
    with pytest.raises(Forbidden):
        rx.mark_signed(uuid.uuid4(), {"sig": "x"}, NOW)  # not the approving physician
    rx.mark_signed(doctor, {"sig": "x"}, NOW)
    with pytest.raises(Conflict) as locked:
        rx.edit({}, {}, NOW)
    assert locked.value.code == "PRESCRIPTION_LOCKED"
    with pytest.raises(Forbidden):
        rx.acknowledge(uuid.uuid4(), NOW)  # someone else's prescription
    rx.acknowledge(rx.patient_id, NOW)
    rx.release(NOW)
    assert rx.status == Status.RELEASED and rx.version == 2


def test_blocked_safety_prevents_approval_and_release_needs_acknowledgement() -> None:
    rx = _rx()
    rx.safety = {"blocked": True, "issues": [{"code": "ALLERGY_CONFLICT"}]}
    with pytest.raises(Conflict) as blocked:
        rx.approve(uuid.uuid4(), NOW)
    assert blocked.value.code == "SAFETY_BLOCKED"
    with pytest.raises(Conflict) as early:
        rx.release(NOW)
    assert early.value.code == "INVALID_STATE"


KEY = b"k" * 32


def _chain(n: int) -> list[AuditEvent]:
    events, prev = [], "0" * 64
    for i in range(1, n + 1):
        event = AuditEvent(action="a", entity_type="t", entity_id=str(i), created_at=NOW,
                           new_values={"i": i})
        event.seal(i, prev, KEY)
        prev = event.hash
        events.append(event)
    return events


def test_chain_verifier() -> None:
    events = _chain(4)
    assert verify_chain(events, 4, events[-1].hash, KEY) is None
    events[1].new_values = {"i": 99}
    broken = verify_chain(events, 4, events[-1].hash, KEY)
    assert broken is not None and broken.seq == 2
    events = _chain(4)
    broken = verify_chain(events[:2] + events[3:], 4, events[-1].hash, KEY)
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason
    broken = verify_chain(events[:3], 4, events[-1].hash, KEY)
    assert broken is not None and "removed" in broken.reason


async def test_safety_gate_blocks_allergy_and_controlled_drugs() -> None:
    patient = PatientProfile(allergies=["Penicillin"], medicines=["metformin"])
    content = normalize_content({"medications": [
        {"name": "Amoxicillin", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"},
        {"name": "Penicillin V", "dose": "250 mg", "frequency": "QID", "duration": "5 days"},
        {"name": "Tramadol", "dose": "50 mg", "frequency": "BD", "duration": "3 days"},
        {"name": "Metformin", "dose": "500 mg"}]})
    result = await BasicSafetyGate().check(content, patient)
    codes = {(i["code"], i["medication"]) for i in result["issues"]}
    assert result["blocked"] is True
    assert ("ALLERGY_CONFLICT", "Penicillin V") in codes
    assert ("NOT_PRESCRIBABLE_REMOTELY", "Tramadol") in codes
    assert ("ALREADY_TAKING", "Metformin") in codes
    assert ("INCOMPLETE_DIRECTIONS", "Metformin") in codes
    assert not any(m == "Amoxicillin" for c, m in codes if c == "ALLERGY_CONFLICT")
    clean = await BasicSafetyGate().check(normalize_content({"medications": [
        {"name": "Paracetamol", "dose": "500 mg", "frequency": "TDS", "duration": "3 days"}]}),
        patient)
    assert clean == {"blocked": False, "issues": [], "checked_by": "basic"}


def test_draft_validation_names_the_field() -> None:
    with pytest.raises(ValidationFailed) as error:
        normalize_content({"medications": [{"name": "ok"}, {"dose": "5 mg"}]})
    assert error.value.details == [{"field": "medications[1].name", "message": "required"}]
    with pytest.raises(ValidationFailed) as error:
        normalize_content({"followUpDays": 900})
    assert error.value.details[0]["field"] == "follow_up_days"


def test_otp_expiry_and_attempt_limit() -> None:
    clock = ManualClock(NOW)
    issuer = OtpIssuer(b"k" * 32, clock, ttl_seconds=60, max_attempts=2)
    challenge, code = issuer.issue(OtpPurpose.LOGIN, "+919876543210")
    assert code not in challenge.code_hash and len(code) == 6
    with pytest.raises(Unauthorized):
        issuer.check(challenge, "x")
    with pytest.raises(Unauthorized):
        issuer.check(challenge, "y")
    with pytest.raises(RateLimited):
        issuer.check(challenge, code)
    fresh, code = issuer.issue(OtpPurpose.LOGIN, "+919876543210")
    clock.advance(seconds=61)
    with pytest.raises(Unauthorized) as expired:
        issuer.check(fresh, code)
    assert expired.value.code == "OTP_EXPIRED"


def test_access_token_lifetime_and_tampering() -> None:
    clock = ManualClock(NOW)
    tokens = TokenService(b"s" * 32, clock, access_minutes=15, refresh_days=30)
    user = uuid.uuid4()
    token = tokens.access_token(user, Role.PHYSICIAN)
    assert tokens.principal(token).role == Role.PHYSICIAN
    head, payload, sig = token.split(".")
    with pytest.raises(Unauthorized):
        tokens.principal(f"{head}.{payload}.{sig[:-2]}AA")
    other = TokenService(b"t" * 32, clock, 15, 30)
    with pytest.raises(Unauthorized):
        other.principal(token)
    clock.now += timedelta(minutes=15)
    with pytest.raises(Unauthorized) as expired:
        tokens.principal(token)
    assert expired.value.code == "TOKEN_EXPIRED"


@given(length=st.integers(1, 8), data=st.data())
@settings(max_examples=40, deadline=None)
def test_any_single_change_is_caught_at_its_link(length: int, data: st.DataObject) -> None:
    events = _chain(length)
    head_hash = events[-1].hash
    assert verify_chain(events, length, head_hash, KEY) is None
    target = data.draw(st.integers(0, length - 1))
    change = data.draw(st.sampled_from(["action", "actor_role", "entity_id", "new_values",
                                        "created_at", "drop"]))
    if change == "drop":
        del events[target]
    elif change == "new_values":
        events[target].new_values = {"i": -1}
    elif change == "created_at":
        events[target].created_at = NOW + timedelta(microseconds=1)
    else:
        setattr(events[target], change, "forged")
    broken = verify_chain(events, length, head_hash, KEY)
    assert broken is not None and broken.seq == target + 1
