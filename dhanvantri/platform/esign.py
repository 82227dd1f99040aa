"""E-signature providers. The interface follows Aadhaar eSign's shape: start a session for a
document hash (the provider sends an OTP to the signer), complete it with the OTP, get a signature.

``LocalSigner`` is the built-in provider: our own OTP to the physician, then an Ed25519 signature
with the server's prescription key. An Aadhaar eSign (ESP) adapter implements the same protocol.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..http.errors import Unauthorized
from .domain.accounts import OtpPurpose
from .notifier import Notifier
from .otp import OtpIssuer
from .uow import UnitOfWork


@dataclass(frozen=True)
class SignRequest:
    """A document to sign: its id, the SHA-256 of its canonical bytes, and who signs it."""

    document_id: uuid.UUID
    document_sha256: str
    signer_id: uuid.UUID
    signer_name: str
    signer_contact: str  # where the OTP goes
    purpose: str = "Medical prescription"


@dataclass(frozen=True)
class SignSession:
    """A started signing session awaiting the signer's OTP."""

    session_id: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedDocument:
    """What a provider returns; stored on the prescription as ``signature``."""

    provider: str
    algorithm: str
    key_id: str
    public_key: str  # base64, raw key bytes
    signature: str  # base64
    document_sha256: str
    signed_at: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"provider": self.provider, "algorithm": self.algorithm, "key_id": self.key_id,
                "public_key": self.public_key, "signature": self.signature,
                "document_sha256": self.document_sha256,
                "signed_at": self.signed_at.isoformat()}


class ESignProvider(Protocol):
    """An e-sign service (local Ed25519, or an Aadhaar eSign service provider)."""

    name: str

    async def initiate(self, uow: UnitOfWork, request: SignRequest) -> SignSession:
        """Start signing ``request``; the provider delivers an OTP to the signer."""
        ...

    async def complete(self, uow: UnitOfWork, session_id: str, otp: str,
                       request: SignRequest) -> SignedDocument:
        """Check the OTP and sign; raises ``Unauthorized`` for a wrong or expired OTP."""
        ...

    def verify(self, document_sha256: str, signature: dict[str, Any]) -> bool:
        """Whether ``signature`` is this provider's valid signature over the document hash."""
        ...


def key_id(public: Ed25519PublicKey) -> str:
    """Short fingerprint of a public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class LocalSigner:
    """OTP to the physician, then Ed25519 over the document hash with the server's key."""

    name = "local-ed25519"

    def __init__(self, key: Ed25519PrivateKey, otps: OtpIssuer, notifier: Notifier) -> None:
        self._key = key
        self._public = key.public_key()
        self.key_id = key_id(self._public)
        self._otps = otps
        self._notifier = notifier

    async def initiate(self, uow: UnitOfWork, request: SignRequest) -> SignSession:
        challenge, code = self._otps.issue(OtpPurpose.ESIGN, request.signer_contact,
                                           subject_id=request.document_id)
        uow.credentials.add(challenge)
        await self._notifier.send_code(request.signer_contact, code, "prescription e-sign")
        return SignSession(str(challenge.id), challenge.expires_at)

    async def complete(self, uow: UnitOfWork, session_id: str, otp: str,
                       request: SignRequest) -> SignedDocument:
        try:
            challenge = await uow.credentials.otp(uuid.UUID(session_id))
        except ValueError:
            challenge = None
        if (challenge is None or challenge.purpose != OtpPurpose.ESIGN
                or challenge.subject_id != request.document_id
                or challenge.destination != request.signer_contact):
            raise Unauthorized("unknown signing session", code="OTP_INVALID")
        self._otps.check(challenge, otp)
        signature = self._key.sign(bytes.fromhex(request.document_sha256))
        raw = self._public.public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
        return SignedDocument(
            provider=self.name, algorithm="Ed25519", key_id=self.key_id,
            public_key=base64.b64encode(raw).decode(),
            signature=base64.b64encode(signature).decode(),
            document_sha256=request.document_sha256, signed_at=self._otps.clock())

    def verify(self, document_sha256: str, signature: dict[str, Any]) -> bool:
        # Trust only our own key: a tamperer who swaps in their key and signature must fail.
        if signature.get("provider") != self.name or signature.get("key_id") != self.key_id:
            return False
        if signature.get("document_sha256") != document_sha256:
            return False
        try:
            self._public.verify(base64.b64decode(signature["signature"], validate=True),
                                bytes.fromhex(document_sha256))
        except (InvalidSignature, ValueError, KeyError, TypeError):
            return False
        return True
