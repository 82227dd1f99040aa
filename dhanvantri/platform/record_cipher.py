"""Sealing consultation text at rest: AES-GCM, one key for the record, one for tokenised text.

Each sealed value is bound (as associated data) to the record, the field and the turn it
belongs to, so a sealed value copied into another row or field does not open.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..settings import Settings
from . import keys

_VERSION = b"\x01"  # a key or format change later is told apart by this first byte
_NONCE = 12


class SealError(ValueError):
    """A sealed value does not open: wrong key, altered, or from another place."""


class RecordCipher:
    """Seals and opens a consultation's text.

    Args:
        record_key: 32 bytes for the words as said and the clinical notes.
        tokens_key: 32 bytes for the tokenised text (a use that needs only tokens holds only
            this key).
    """

    def __init__(self, record_key: bytes, tokens_key: bytes) -> None:
        self._record = AESGCM(record_key)
        self._tokens = AESGCM(tokens_key)

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordCipher:
        """The cipher with the keys derived from the server secret."""
        return cls(keys.consultation_record_key(settings), keys.consultation_tokens_key(settings))

    def _aead(self, field: str) -> AESGCM:
        return self._tokens if field == "tokens" else self._record

    def seal(self, text: str, record: uuid.UUID, field: str, seq: int = -1) -> bytes:
        """``text`` sealed for ``field`` ("text", "tokens" or "notes") of one record/turn."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead(field).encrypt(
            nonce, text.encode("utf-8"), _context(record, field, seq))

    def open(self, sealed: bytes, record: uuid.UUID, field: str, seq: int = -1) -> str:
        """The text sealed by :meth:`seal` with the same place; raises :class:`SealError`."""
        if not sealed or sealed[:1] != _VERSION:
            raise SealError("not a sealed value")
        nonce, body = sealed[1:1 + _NONCE], sealed[1 + _NONCE:]
        try:
            plain = self._aead(field).decrypt(nonce, body, _context(record, field, seq))
        except InvalidTag:
            raise SealError("sealed value does not open here") from None
        return plain.decode("utf-8")

    def seal_json(self, value: dict[str, Any], record: uuid.UUID) -> bytes:
        """A JSON document (the clinical notes) sealed under the record key."""
        return self.seal(json.dumps(value, sort_keys=True, default=str), record, "notes")

    def open_json(self, sealed: bytes | None, record: uuid.UUID) -> dict[str, Any]:
        """The notes sealed by :meth:`seal_json` ({} when there are none)."""
        if not sealed:
            return {}
        value = json.loads(self.open(sealed, record, "notes"))
        return value if isinstance(value, dict) else {}


def _context(record: uuid.UUID, field: str, seq: int) -> bytes:
    return f"dhanvantri/consultation/{record}/{field}/{seq}".encode()
