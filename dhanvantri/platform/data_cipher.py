"""PHI at rest: AES-GCM column sealing under a keyring, and keyed blind indexes for lookups.

A sealed value is ``base64(version | key id | nonce | ciphertext+tag)`` stored as text, so the
columns stay text on SQLite and PostgreSQL alike. The key id names the key that sealed it: rows
sealed under an old key still open while that key is listed in ``DHANVANTRI_DATA_KEYS_OLD``, and
``dhanvantri db rotate-keys`` re-seals them under the current one. The column's name is the
associated data, so a value copied into another column does not open.

The column types (``tables/types.py``) find the cipher through the engine's dialect, which
``db.make_engine`` registers: several apps with different secrets in one process never share one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import weakref
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..settings import Settings
from . import keys

VERSION = 1
_KEY_ID = 4  # bytes: enough to pick one of a handful of keys, too short to say anything
_NONCE = 12
_HEADER = 1 + _KEY_ID + _NONCE


class DataKeyError(ValueError):
    """A sealed value does not open: unknown key, altered, or from another column."""


def key_id(key: bytes) -> bytes:
    """The short public name of a data key (a hash of it, never the key)."""
    return hashlib.sha256(b"dhanvantri/data-key-id\x00" + key).digest()[:_KEY_ID]


_NORMALIZE = {
    "email": lambda value: value.strip().lower(),  # as accounts.normalize_email
    "phone": lambda value: re.sub(r"[\s()-]", "", value),  # E.164 as stored, separators off
}


class DataCipher:
    """Seals and opens column values; computes blind indexes.

    Args:
        current: the 32-byte key new values are sealed with.
        old: keys that still open values sealed before a rotation.
        index_key: the HMAC key of blind indexes (kept apart from the data keys, so a data key
            rotation leaves every index valid).
    """

    def __init__(self, current: bytes, old: Sequence[bytes] = (), *, index_key: bytes) -> None:
        self.current_id = key_id(current)
        self._keys = {key_id(key): AESGCM(key) for key in (*old, current)}
        self._index_key = index_key

    @classmethod
    def from_settings(cls, settings: Settings) -> DataCipher:
        """The keyring of ``DHANVANTRI_DATA_KEY`` (default: derived from the server secret)
        and ``DHANVANTRI_DATA_KEYS_OLD`` (base64 keys, or ``derived`` for that default)."""
        old_text = settings.data_keys_old.get_secret_value() if settings.data_keys_old else ""
        # "derived" names the default key, so a first rotation away from it needs no key export.
        old = [keys.derived_data_key(settings) if part.strip() == "derived"
               else keys.decode_key(part) for part in old_text.split(",") if part.strip()]
        return cls(keys.data_key(settings), old, index_key=keys.blind_index_key(settings))

    def seal(self, plain: bytes, field: str) -> str:
        """``plain`` sealed for the column ``field`` (e.g. ``"users.phone"``)."""
        nonce = os.urandom(_NONCE)
        header = bytes([VERSION]) + self.current_id + nonce
        body = self._keys[self.current_id].encrypt(nonce, plain, field.encode())
        return base64.b64encode(header + body).decode("ascii")

    def open(self, sealed: str, field: str) -> bytes:
        """The bytes sealed by :meth:`seal` for ``field``; raises :class:`DataKeyError`."""
        raw = _decode(sealed)
        aead = self._keys.get(raw[1:1 + _KEY_ID])
        if aead is None:
            raise DataKeyError(f"{field}: sealed under a key not in the keyring")
        try:
            return aead.decrypt(raw[1 + _KEY_ID:_HEADER], raw[_HEADER:], field.encode())
        except InvalidTag:
            raise DataKeyError(f"{field}: sealed value does not open") from None

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is under the current key (rotation skips it)."""
        return _decode(sealed)[1:1 + _KEY_ID] == self.current_id

    def blind_index(self, value: str, field: str) -> str:
        """A keyed hash of ``value`` normalised as ``field`` (``"email"`` or ``"phone"``):
        equal inputs give equal indexes, so a unique constraint and lookups work on it."""
        normal = _NORMALIZE[field](value)
        message = f"{field}\x00{normal}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


def _decode(sealed: str) -> bytes:
    try:
        raw = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) <= _HEADER or raw[0] != VERSION:
        raise DataKeyError("not a sealed value")
    return raw


# One cipher per engine, found through its dialect (what a column type is handed).
_CIPHERS: weakref.WeakKeyDictionary[Any, DataCipher] = weakref.WeakKeyDictionary()


def attach(engine: Any, cipher: DataCipher) -> None:
    """Let sealed columns on ``engine`` (sync or async) use ``cipher``."""
    _CIPHERS[engine.dialect] = cipher


def for_dialect(dialect: Any) -> DataCipher:
    """The cipher attached to the engine of ``dialect``; raise ``LookupError`` if none."""
    try:
        return _CIPHERS[dialect]
    except KeyError:
        raise LookupError("no data cipher on this engine: create it with db.make_engine") from None
