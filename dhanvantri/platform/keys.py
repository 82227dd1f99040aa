"""Secrets from settings, or generated once into the data directory with owner-only permissions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..settings import Settings


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite a key another process created a moment ago.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def jwt_secret(settings: Settings) -> bytes:
    """``DHANVANTRI_JWT_SECRET`` or ``<data dir>/jwt_secret`` (created on first use)."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode()
    path = settings.resolved_data_dir() / "jwt_secret"
    if not path.exists():
        try:
            _write_private(path, secrets.token_urlsafe(48).encode())
        except FileExistsError:
            pass
    return path.read_bytes().strip()


def derived_key(settings: Settings, label: str) -> bytes:
    """A key for one use only, derived from the server secret under ``label``.

    Each use gets its own key without anything new to configure, and a key leaked from one use
    (say, delivery codes) says nothing about the secret that signs tokens.
    """
    return hmac.new(jwt_secret(settings), label.encode(), hashlib.sha256).digest()


def delivery_code_key(settings: Settings) -> bytes:
    """The HMAC key of delivery codes."""
    return derived_key(settings, "dhanvantri/delivery-code")


def consultation_record_key(settings: Settings) -> bytes:
    """The AES-GCM key of consultation text as said and its clinical notes."""
    return derived_key(settings, "dhanvantri/consultation-record")


def consultation_tokens_key(settings: Settings) -> bytes:
    """The AES-GCM key of consultation text in tokenised form (a separate key: a use that needs
    only tokens never holds the key to the words as said)."""
    return derived_key(settings, "dhanvantri/consultation-tokens")


def decode_key(text: str) -> bytes:
    """A base64 32-byte key from settings; raise ``ValueError`` saying why otherwise."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("data key is not base64") from exc
    if len(key) != 32:
        raise ValueError("data key must be 32 bytes, base64-encoded")
    return key


def data_key(settings: Settings) -> bytes:
    """The AES-GCM key of PHI columns: ``DHANVANTRI_DATA_KEY``, else derived from the server
    secret (a fresh install needs no setup; set it before ever changing the server secret)."""
    if settings.data_key is not None:
        return decode_key(settings.data_key.get_secret_value())
    return derived_data_key(settings)


def derived_data_key(settings: Settings) -> bytes:
    """The default data key, derived from the server secret."""
    return derived_key(settings, "dhanvantri/data-at-rest")


def blind_index_key(settings: Settings) -> bytes:
    """The HMAC key of the lookup indexes (phone, e-mail). Derived from the server secret and
    not from the data key, so rotating data keys leaves every index valid."""
    return derived_key(settings, "dhanvantri/blind-index")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The Ed25519 prescription key: ``signing_key_path``, or a PEM generated in the data dir."""
    default = settings.resolved_data_dir() / "prescription_signing_key.pem"
    path = settings.signing_key_path or default
    if not path.exists():
        if settings.signing_key_path is not None:
            raise FileNotFoundError(f"signing key not found: {path}")
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        try:
            _write_private(path, pem)
        except FileExistsError:
            pass
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def audit_key(settings: Settings) -> bytes:
    """The secret the audit chain is sealed (and its PHI values hashed) under:
    ``DHANVANTRI_AUDIT_KEY``, else derived from the server secret under its own label. Either way
    it lives outside the database, so whoever holds only the database cannot re-seal the trail."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    return derived_key(settings, "dhanvantri/audit-chain")
