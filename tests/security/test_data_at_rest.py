"""Issue 14 row 4: PHI and TOTP seeds are sealed at rest, the data files are owner-only, and
data keys rotate without losing a row."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import JSON, Boolean, DateTime, LargeBinary, Uuid, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from dhanvantri.cli import main
from dhanvantri.http.principal import Role
from dhanvantri.platform import db
from dhanvantri.platform.bootstrap import Services, bootstrap
from dhanvantri.platform.data_cipher import DataKeyError
from dhanvantri.platform.domain.accounts import PatientProfile, User
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.prescriptions import create_from_draft
from dhanvantri.platform.tables.prescriptions import prescription_documents
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import PIN, call, pharmacy
from tests.platform.conftest import _reachable, postgres_url
from tests.platform.helpers import DRAFT, SAFE, login_patient, make_staff

PHONE = "9876543210"
NAME = "Kavya Raghunathan"
ABHA = "12345678901234"
DOB = "1987-03-14"
CONDITION = "HIV positive"
ALLERGY = "Sulfonamide rash"
ADDRESS = "Flat 7, Lakshmi Nivas, 14th Cross, Malleswaram"
SAID = "I have been taking zidovudine since March"
REASONING = "Known retroviral disease on therapy; fever needs review"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The default install: SQLite in the data folder, nothing configured."""
    return Settings(data_dir=tmp_path / "data", public_base_url="https://rx.example.test",
                    database_url="", database_schema="")


def _raw(settings: Settings) -> bytes:
    """The database file and its write-ahead log, byte for byte, as a thief would copy them."""
    path = settings.resolved_data_dir() / "dhanvantri.sqlite3"
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_raw_database_holds_no_phi_and_is_owner_only(
        client: TestClient, services: Services, outbox: OutboxNotifier,
        settings: Settings) -> None:
    patient = await login_patient(client, outbox, phone=PHONE)
    await call(client, "PATCH", "/me/patient-profile", patient, json={
        "full_name": NAME, "abha_number": "12-3456-7890-1234", "date_of_birth": DOB,
        "conditions": [CONDITION], "allergies": [ALLERGY]})
    admin = await make_staff(client, services, Role.ADMIN)
    assert admin.totp_secret
    draft = {**DRAFT, "ai_reasoning": REASONING,
             "transcript": [{"role": "patient", "text": SAID}]}
    await create_from_draft(services.uow(), uuid.uuid4(), patient.user_id, draft, SAFE, False)
    _owner, shop = await pharmacy(client, services, admin, {"DOLO-650": 2})
    found = await call(client, "GET", "/medicines", params={"q": "dolo"})
    medicine = next(m for m in found["items"] if m["sku"] == "DOLO-650")
    await call(client, "POST", "/orders", patient, 201, json={
        "pharmacy_id": shop, "pin_code": PIN, "address": ADDRESS,
        "items": [{"medicine_id": medicine["id"], "quantity": 1}]})

    # The API still gives it all back to those allowed to see it ...
    me = await call(client, "GET", "/me", patient)
    assert me["phone"] == f"+91{PHONE}" and me["full_name"] == NAME
    assert me["patient"]["conditions"] == [CONDITION]
    again = await login_patient(client, outbox, phone=PHONE)  # found by its blind index
    assert again.user_id == patient.user_id

    # ... while the files hold none of it (the plain catalogue shows the grep can find text).
    raw = _raw(settings)
    assert b"DOLO-650" in raw
    secrets = [PHONE, f"+91{PHONE}", NAME, ABHA, DOB, CONDITION, ALLERGY, ADDRESS, SAID,
               REASONING, admin.totp_secret, admin.email]
    leaked = [value for value in secrets if value and value.encode() in raw]
    assert leaked == []

    data = settings.resolved_data_dir()
    assert _mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("dhanvantri.sqlite3")]
    assert {p.name for p in files} >= {"dhanvantri.sqlite3", "dhanvantri.sqlite3-wal"}
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_older_install_is_made_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("dhanvantri.sqlite3", "dhanvantri.sqlite3-wal"):
        (data / name).touch()
        (data / name).chmod(0o644)
    engine = db.make_engine(Settings(data_dir=data))
    asyncio.run(engine.dispose())
    assert _mode(data) == 0o700
    assert {p.name: _mode(p) for p in data.iterdir()
            if p.name.startswith("dhanvantri")} == {"dhanvantri.sqlite3": 0o600,
                                                   "dhanvantri.sqlite3-wal": 0o600}


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def _add_patient(settings: Settings) -> uuid.UUID:
    services = bootstrap(settings)
    try:
        await services.start()
        async with services.uow() as uow:
            user = User(role=Role.PATIENT, phone=f"+91{PHONE}", full_name=NAME)
            profile = PatientProfile(id=user.id, abha_number=ABHA, conditions=[CONDITION])
            for item in (user, profile):
                item.touch(uow.clock())
                uow.users.add(item)
                await uow.flush()  # the profile's foreign key needs the user row first
            await uow.commit()
        return user.id
    finally:
        await services.close()


async def _read_patient(settings: Settings) -> tuple[str | None, list[str]]:
    services = bootstrap(settings)
    try:
        async with services.uow() as uow:
            user = await uow.users.by_phone(f"+91{PHONE}")
            assert user is not None
            profile = await uow.users.patient(user.id)
            assert profile is not None
            return profile.abha_number, profile.conditions
    finally:
        await services.close()


def test_rotation_keeps_old_rows_open_and_rotate_keys_retires_the_old_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    key_a, key_b = _key(), _key()
    data = tmp_path / "data"
    under_a = Settings(data_dir=data, data_key=key_a)
    asyncio.run(_add_patient(under_a))
    assert asyncio.run(_read_patient(under_a)) == (ABHA, [CONDITION])

    # B is current, A listed as old: rows written under A still open.
    rotating = Settings(data_dir=data, data_key=key_b, data_keys_old=key_a)
    assert asyncio.run(_read_patient(rotating)) == (ABHA, [CONDITION])
    # Without A they do not: the rows really are sealed under A.
    only_b = Settings(data_dir=data, data_key=key_b)
    with pytest.raises(DataKeyError):
        asyncio.run(_read_patient(only_b))

    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(data))
    monkeypatch.delenv("DHANVANTRI_DATABASE_URL", raising=False)
    monkeypatch.setenv("DHANVANTRI_DATA_KEY", key_b)
    monkeypatch.setenv("DHANVANTRI_DATA_KEYS_OLD", key_a)
    assert main(["db", "rotate-keys", "--json"]) == 0
    resealed = json.loads(capsys.readouterr().out)["resealed"]
    assert resealed >= 4  # the user's name and phone, the ABHA number, the conditions, ...
    assert main(["db", "rotate-keys", "--json"]) == 0  # nothing left under A
    assert json.loads(capsys.readouterr().out) == {"resealed": 0}

    # A can go now.
    assert asyncio.run(_read_patient(only_b)) == (ABHA, [CONDITION])


def test_a_fresh_install_rotates_away_from_the_derived_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(_add_patient(Settings(data_dir=data)))  # nothing configured
    new = _key()
    with pytest.raises(DataKeyError):
        asyncio.run(_read_patient(Settings(data_dir=data, data_key=new)))
    rotating = Settings(data_dir=data, data_key=new, data_keys_old="derived")
    assert asyncio.run(_read_patient(rotating)) == (ABHA, [CONDITION])


@pytest.mark.parametrize("backend",
                         ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_migration_seals_existing_rows_and_unseals_them_going_down(
        backend: str, tmp_path: Path) -> None:
    schema = ""
    url = ""
    if backend == "postgres":
        if not _reachable(postgres_url()):
            pytest.skip("PostgreSQL not reachable")
        url, schema = postgres_url(), f"t_{uuid.uuid4().hex[:16]}"
    settings = Settings(data_dir=tmp_path / "data", database_url=url, database_schema=schema)
    services = bootstrap(settings)
    engine = services.engine
    try:
        await db.create_schema_if_needed(engine, settings)
        await db.migrate(engine, "0004_lockouts")
        user_id, rx_id = uuid.uuid4(), uuid.uuid4()
        pdf = b"%PDF-1.4 \xff\xfe not text"
        async with engine.begin() as conn:
            await conn.execute(_old("users").insert().values(
                id=user_id, role="patient", full_name=NAME, phone=f"+91{PHONE}",
                mfa_enabled=False, is_active=True, created_at=NOW, updated_at=NOW))
            await conn.execute(_old("patients").insert().values(
                id=user_id, abha_number=ABHA, allergies=[ALLERGY], conditions=[CONDITION],
                medicines=[], created_at=NOW, updated_at=NOW))
            await conn.execute(_old("prescriptions").insert().values(
                id=rx_id, consultation_id=uuid.uuid4(), patient_id=user_id, status="pending_review",
                urgent=False, content={"diagnosis": CONDITION}, ai_draft={}, ai_reasoning=REASONING,
                transcript=[{"role": "patient", "text": SAID}], safety={}, version=1,
                created_at=NOW, updated_at=NOW))
            await conn.execute(_old("prescription_documents").insert().values(
                id=uuid.uuid4(), prescription_id=rx_id, sha256="0" * 64, content=pdf,
                created_at=NOW, updated_at=NOW))
        await db.migrate(engine)

        stored = ""
        async with engine.connect() as conn:
            for table in ("users", "patients", "prescriptions"):
                result = await conn.exec_driver_sql(f"SELECT * FROM {table}")
                stored += " ".join(str(value) for row in result.all() for value in row)
        assert [v for v in (NAME, PHONE, ABHA, CONDITION, ALLERGY, REASONING, SAID)
                if v in stored] == []
        async with services.uow() as uow:
            user = await uow.users.by_phone(f"+91{PHONE}")
            assert user is not None and user.full_name == NAME
            profile = await uow.users.patient(user_id)
            assert profile is not None and profile.conditions == [CONDITION]
            rx = await uow.prescriptions.get(rx_id)
            assert rx is not None and rx.transcript == [{"role": "patient", "text": SAID}]
        async with engine.connect() as conn:
            [document] = (await conn.execute(
                select(prescription_documents.c.content))).scalars().all()
        assert document == pdf

        await db.migrate(engine, "0004_lockouts", down=True)
        async with engine.connect() as conn:
            [user_row] = (await conn.execute(_old("users").select())).all()
            [patient_row] = (await conn.execute(_old("patients").select())).all()
            [document_row] = (await conn.execute(_old("prescription_documents").select())).all()
        assert (user_row.full_name, user_row.phone) == (NAME, f"+91{PHONE}")
        assert (patient_row.abha_number, patient_row.conditions) == (ABHA, [CONDITION])
        assert bytes(document_row.content) == pdf
    finally:
        if schema:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await services.close()


NOW = datetime(2026, 1, 1, tzinfo=UTC)
_OLD_TYPES: dict[str, Any] = {
    "id": Uuid(), "patient_id": Uuid(), "prescription_id": Uuid(), "consultation_id": Uuid(),
    "allergies": JSON(), "conditions": JSON(), "medicines": JSON(), "content": JSON(),
    "ai_draft": JSON(), "transcript": JSON(), "safety": JSON(), "mfa_enabled": Boolean(),
    "is_active": Boolean(), "urgent": Boolean(), "created_at": DateTime(timezone=True),
    "updated_at": DateTime(timezone=True)}


def _old(name: str) -> Any:
    """A table as revision 0004 has it (plain types), for writing and reading raw rows."""
    columns = {
        "users": ["id", "role", "full_name", "phone", "mfa_enabled", "is_active", "created_at",
                  "updated_at"],
        "patients": ["id", "abha_number", "allergies", "conditions", "medicines", "created_at",
                     "updated_at"],
        "prescriptions": ["id", "consultation_id", "patient_id", "status", "urgent", "content",
                          "ai_draft", "ai_reasoning", "transcript", "safety", "version",
                          "created_at", "updated_at"],
        "prescription_documents": ["id", "prescription_id", "sha256", "content", "created_at",
                                   "updated_at"],
    }[name]
    types = {**_OLD_TYPES, **({"content": LargeBinary()}
                              if name == "prescription_documents" else {})}
    return sa_table(name, *[sa_column(c, types.get(c)) for c in columns])
