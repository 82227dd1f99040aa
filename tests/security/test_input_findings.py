"""Issue 14 row 18: money amounts above zero, dates of birth that can be true, names without
invisible or markup characters (on the API and on the signed PDF), login codes only to numbers
of the server's region."""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dhanvantri.http.errors import ValidationFailed
from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.pdf import PdfFacts, render
from dhanvantri.platform.web import install
from dhanvantri.settings import Settings
from tests.platform.commerce_setup import call, key, pay_by_sandbox
from tests.platform.helpers import login_patient, make_staff

SQLITE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
API = "/api/v1"
# Right-to-left override, first-strong isolate, zero-width space, word joiner, a BOM, a NUL.
HIDDEN = "\u202e\u2068\u200b\u2060\ufeff\x00"


def field_of(body: dict[str, object]) -> str:
    return body["error"]["details"][0]["field"]  # type: ignore[index]


@SQLITE
@pytest.mark.parametrize("amount", ["0", "0.00", "0.0"])
async def test_no_payment_of_nothing(client: TestClient, services: Services,
                                     outbox: OutboxNotifier, amount: str) -> None:
    patient = await login_patient(client, outbox)
    son = await login_patient(client, outbox, phone="9988776655")
    zero = await call(client, "POST", "/wallet/topup", patient, 422, headers=key(),
                      json={"amount": amount})
    assert field_of(zero) == "amount"
    zero = await call(client, "POST", "/wallet/transfer", patient, 422, headers=key(),
                      json={"member_id": str(son.user_id), "amount": amount})
    assert field_of(zero) == "amount"
    # A refund of nothing is refused as input too.
    paid = await pay_by_sandbox(client, patient, await call(
        client, "POST", "/wallet/topup", patient, 201, headers=key(), json={"amount": "10"}))
    admin = await make_staff(client, services, Role.ADMIN)
    zero = await call(client, "POST", f"/payments/{paid['id']}/refund", admin, 422, headers=key(),
                      json={"amount": amount, "reason": "test"})
    assert field_of(zero) == "amount"
    assert (await call(client, "GET", "/wallet", patient))["balance"] == "10.00"
    # The domain refuses it too, whoever calls it.
    with pytest.raises(ValidationFailed) as refused:
        async with services.uow() as uow:
            await services.cashier.start(uow, Actor(patient.user_id, "patient"), "wallet_topup",
                                         None, Decimal(amount), "gateway")
    assert refused.value.details == [{"field": "amount", "message": "must be more than zero"}]


@SQLITE
@pytest.mark.parametrize(("dob", "status"), [
    ("2999-01-01", 422), ("1899-12-31", 422), ("1990-05-01", 200), ("1900-01-01", 200)])
async def test_a_date_of_birth_must_be_possible(client: TestClient, outbox: OutboxNotifier,
                                                dob: str, status: int) -> None:
    patient = await login_patient(client, outbox)
    body = await call(client, "PATCH", "/me/patient-profile", patient, status,
                      json={"date_of_birth": dob})
    if status == 422:
        assert field_of(body) == "date_of_birth"
    else:
        assert body["patient"]["date_of_birth"] == dob


@SQLITE
async def test_the_day_after_tomorrow_is_not_a_birthday(
        client: TestClient, outbox: OutboxNotifier, services: Services) -> None:
    patient = await login_patient(client, outbox)
    now = services.clock()
    later = (now + timedelta(days=2)).date().isoformat()
    body = await call(client, "PATCH", "/me/patient-profile", patient, 422,
                      json={"date_of_birth": later})
    assert field_of(body) == "date_of_birth"
    # A newborn, also one born after midnight in India while it is still yesterday in UTC.
    for born in (now.date(), (now + timedelta(hours=5, minutes=30)).date()):
        await call(client, "PATCH", "/me/patient-profile", patient,
                   json={"date_of_birth": born.isoformat()})


@SQLITE
async def test_names_lose_invisible_characters_and_refuse_markup(
        client: TestClient, outbox: OutboxNotifier) -> None:
    patient = await login_patient(client, outbox)
    body = await call(client, "PATCH", "/me/patient-profile", patient,
                      json={"full_name": f"Ra{HIDDEN}vi\u202d Kumar"})
    assert body["full_name"] == "Ravi Kumar"
    for name in ("<b>Ravi</b>", "Ravi <img src=x onerror=alert(1)>"):
        refused = await call(client, "PATCH", "/me/patient-profile", patient, 422,
                             json={"full_name": name})
        assert field_of(refused) == "full_name"
    # The joiners that shape Indic conjuncts (after a virama) stay: they are part of the name.
    indic = "\u0915\u094d\u200d\u0937\u093f\u0924\u093f\u091c"  # Kshitij with a ZWJ half-form
    body = await call(client, "PATCH", "/me/patient-profile", patient, json={"full_name": indic})
    assert body["full_name"] == indic
    # Free text in lists loses them too.
    body = await call(client, "PATCH", "/me/patient-profile", patient,
                      json={"allergies": [f"peni{HIDDEN}cillin"]})
    assert body["patient"]["allergies"] == ["penicillin"]


def drawn(pdf: bytes) -> list[str]:
    """The strings the PDF's pages draw (``(text) Tj``)."""
    found = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found += re.findall(r"\((.*?)\) Tj", zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue  # an image
    return found


def test_the_pdf_draws_no_invisible_characters() -> None:
    # Records stored before the input was cleaned, and AI drafts, reach the PDF unchecked.
    facts = PdfFacts(
        prescription_id=str(uuid.uuid4()), issued_at=datetime(2026, 1, 2, 10, tzinfo=UTC),
        physician_name=f"Asha{HIDDEN} Rao", qualification="MBBS", registration_number="KMC-1",
        council="Karnataka Medical Council", patient_name="\u202eRavi\u200b Kumar",
        patient_abha=None, patient_sex="male", patient_dob="1990-01-01",
        content={"diagnosis": f"Viral{HIDDEN} fever", "medications": [
            {"name": "Para\u200bcetamol", "dose": "500 mg", "frequency": "TDS"}],
            "advice": ["Rest\u2066 well"]},
        verify_url="https://rx.example.test/api/v1/prescriptions/x/verify")
    lines = drawn(render(facts))
    text = "\n".join(lines)
    for expected in ("Asha Rao", "Ravi Kumar", "Viral fever", "Paracetamol", "Rest well"):
        assert expected in text, expected
    assert "?" not in text  # the core fonts print what they cannot draw as "?"


@pytest.fixture
async def nepal(tmp_path: Path) -> AsyncIterator[tuple[TestClient, OutboxNotifier]]:
    """A server whose patients have Nepali numbers."""
    target = tmp_path / "np.sqlite3"
    outbox = OutboxNotifier()
    app = web.Application()
    install(app, Settings(data_dir=tmp_path / "data", database_url=f"sqlite+aiosqlite:///{target}",
                          phone_region="NP"), notifier=outbox)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, outbox


@SQLITE
@pytest.mark.parametrize("phone", ["+14155552671", "+447911123456", "+9779841234567"])
async def test_login_codes_go_only_to_numbers_of_the_region(
        client: TestClient, outbox: OutboxNotifier, phone: str) -> None:
    response = await client.post(f"{API}/auth/otp/request", json={"phone": phone})
    assert response.status == 422
    assert field_of(await response.json()) == "phone"
    assert outbox.sent == []
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "+919876543210"})
    assert response.status == 202
    assert [m.destination for m in outbox.sent] == ["+919876543210"]


async def test_the_region_is_a_setting(nepal: tuple[TestClient, OutboxNotifier]) -> None:
    client, outbox = nepal
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "9841234567"})
    assert response.status == 202, await response.text()
    response = await client.post(f"{API}/auth/otp/request", json={"phone": "+919876543210"})
    assert response.status == 422
    assert [m.destination for m in outbox.sent] == ["+9779841234567"]
