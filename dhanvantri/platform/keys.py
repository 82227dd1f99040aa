"""Secrets from settings, or generated once into the data directory with owner-only permissions."""

from __future__ import annotations

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
