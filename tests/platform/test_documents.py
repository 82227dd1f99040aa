"""PDF contents, QR code, local e-signature, and secrets generated with owner-only permissions."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import uuid
import zlib
from datetime import UTC, datetime
from pathlib import Path

from dhanvantri.platform import keys
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.esign import LocalSigner
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.otp import OtpIssuer
from dhanvantri.platform.pdf import PdfFacts, render
from dhanvantri.settings import Settings


def _text(pdf: bytes) -> str:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            out.append(stream.decode("latin-1"))
    return "\n".join(out)


def test_pdf_carries_physician_registration_and_qr() -> None:
    facts = PdfFacts(
        prescription_id=str(uuid.uuid4()), issued_at=datetime(2026, 1, 2, 10, 0, tzinfo=UTC),
        physician_name="Asha Rao", qualification="MBBS, MD", registration_number="KMC-123456",
        council="Karnataka Medical Council", patient_name="Ravi", patient_abha="XX-XXXX-XXXX-1234",
        patient_sex="male", patient_dob="1990-01-01",
        content={"diagnosis": "Viral fever", "medications": [
            {"name": "Paracetamol", "dose": "500 mg", "frequency": "TDS", "duration": "5 days"}],
            "advice": ["Rest"]},
        verify_url="https://rx.example.test/api/v1/prescriptions/x/verify")
    pdf = render(facts)
    assert pdf.startswith(b"%PDF") and render(facts) == pdf  # deterministic
    text = _text(pdf)
    for expected in ("Asha Rao", "KMC-123456", "Karnataka Medical Council", "Paracetamol",
                     "XX-XXXX-XXXX-1234", "rx.example.test"):
        assert expected in text, expected
    assert b"/Subtype /Image" in pdf  # the QR code


async def test_local_signer_signs_digest_and_rejects_foreign_keys(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    signer = LocalSigner(keys.signing_key(settings),
                         OtpIssuer(b"k" * 32, ManualClock(), 300, 5), OutboxNotifier())
    digest = hashlib.sha256(b"document").hexdigest()
    other = LocalSigner(keys.signing_key(Settings(data_dir=tmp_path / "other")),
                        OtpIssuer(b"k" * 32, ManualClock(), 300, 5), OutboxNotifier())
    signature = {"provider": other.name, "key_id": other.key_id, "document_sha256": digest,
                 "signature": base64.b64encode(other._key.sign(bytes.fromhex(digest))).decode()}
    assert other.verify(digest, signature) is True
    assert signer.verify(digest, signature) is False  # a different key is not trusted


def test_secrets_generated_once_with_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = keys.jwt_secret(settings)
    assert keys.jwt_secret(settings) == first and len(first) >= 32
    key = keys.signing_key(settings)
    assert key.public_key() is not None
    for name in ("jwt_secret", "prescription_signing_key.pem"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, name
    explicit = Settings(data_dir=tmp_path, jwt_secret="from-the-environment")
    assert keys.jwt_secret(explicit) == b"from-the-environment"
