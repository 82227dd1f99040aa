"""Helpers for back-office API tests: log people in with real tokens."""

from __future__ import annotations

import base64
import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.users import NewStaff, create_staff

PASSWORD = "long enough passphrase 42"


@dataclass
class Person:
    """A logged-in user."""

    user_id: uuid.UUID
    role: Role
    access: str
    refresh: str
    email: str | None = None
    phone: str | None = None
    totp_secret: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.access}"}


async def login_patient(client: TestClient, outbox: OutboxNotifier, phone: str = "9876543210"
                        ) -> Person:
    """OTP login through the API (the code is read from the outbox, never the response)."""
    response = await client.post("/api/v1/auth/otp/request", json={"phone": phone})
    assert response.status == 202, await response.text()
    body = await response.json()
    assert set(body) == {"challenge_id", "expires_at"}
    code = outbox.last_code()
    response = await client.post("/api/v1/auth/otp/verify",
                                 json={"challenge_id": body["challenge_id"], "code": code})
    assert response.status == 200, await response.text()
    tokens = await response.json()
    me = await (await client.get("/api/v1/me", headers=_bearer(tokens))).json()
    return Person(uuid.UUID(me["id"]), Role.PATIENT, tokens["access_token"],
                  tokens["refresh_token"], phone=me["phone"])


async def make_staff(client: TestClient, services: Services, role: Role, *,
                     email: str | None = None, **extra: Any) -> Person:
    """Create a staff account (as the command line does) and log in through the API."""
    email = email or f"{role.value}-{uuid.uuid4().hex[:6]}@clinic.example"
    if role == Role.PHYSICIAN:
        extra.setdefault("registration_number", "KMC-123456")
        extra.setdefault("council", "Karnataka Medical Council")
        extra.setdefault("qualification", "MBBS, MD")
    result = await create_staff(services.uow(), Actor(None, "cli"), NewStaff(
        email=email, password=PASSWORD, role=role, full_name=f"Test {role.value.title()}",
        **extra))
    secret = None
    body: dict[str, Any] = {"email": email, "password": PASSWORD}
    if result["totp_uri"]:
        secret = pyotp.parse_uri(result["totp_uri"]).secret
        body["totp_code"] = pyotp.TOTP(secret).at(services.clock())
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status == 200, await response.text()
    tokens = await response.json()
    return Person(uuid.UUID(result["user"]["id"]), role, tokens["access_token"],
                  tokens["refresh_token"], email=email, phone=result["user"]["phone"],
                  totp_secret=secret)


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def signature_png() -> str:
    """A tiny real PNG (a drawn stroke) as a data URL."""
    width, height = 4, 2
    rows = b"".join(b"\x00" + bytes([0, 0, 0, 255] * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


DRAFT: dict[str, Any] = {
    "diagnosis": "Viral fever",
    "diagnosis_confidence": "HIGH",
    "medications": [
        {"name": "Paracetamol", "dose": "500 mg", "frequency": "TDS", "duration": "5 days",
         "route": "oral"},
        {"name": "Cetirizine", "dose": "10 mg", "frequency": "OD", "duration": "3 days",
         "instructions": "at night if needed"},
    ],
    "lab_tests": ["CBC"],
    "lifestyle_advice": ["Rest", "Oral fluids"],
    "red_flags": ["Breathlessness", "Fever beyond 5 days"],
    "follow_up_days": 5,
    "ai_reasoning": "Fever three days with body ache, no red flags reported.",
    "transcript": [{"role": "avatar", "text": "How can I help?"},
                   {"role": "patient", "text": "Fever since three days with body ache."}],
}
SAFE = {"blocked": False, "issues": []}


async def staff_events(services: Services, count: int) -> None:
    """Start the services and write ``count`` audited staff creations."""
    await services.start()
    for i in range(count):
        await create_staff(services.uow(), Actor(None, "cli"), NewStaff(
            email=f"staff{i}@clinic.example", password=PASSWORD, role=Role.SUPPORT,
            full_name=f"Support {i}"))


async def run_sql(services: Services, statement: str, **params: object) -> None:
    """Run raw SQL on the database, as someone holding the file would."""
    async with services.engine.begin() as conn:
        await conn.execute(text(statement), params)
