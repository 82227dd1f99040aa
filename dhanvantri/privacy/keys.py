"""The vault key: from settings, or generated once into the data directory."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dhanvantri.settings import Settings

KEY_FILE = "vault.key"


def vault_key_from_settings(settings: Settings) -> bytes:
    """The 32-byte AES-GCM key for PHI vaults.

    ``settings.vault_key`` (base64) wins. Without it, a key is generated on first use into
    ``<data_dir>/vault.key`` (mode 0600) and read from there afterwards.

    Raises:
        ValueError: The configured or stored key is not base64 for 32 bytes.
    """
    if settings.vault_key is not None:
        return _decode(settings.vault_key.get_secret_value(), "DHANVANTRI_VAULT_KEY")
    path = settings.resolved_data_dir() / KEY_FILE
    if not path.exists():
        _create(path)
    return _decode(path.read_text("ascii").strip(), str(path))


def _create(path: Path) -> None:
    encoded = base64.b64encode(os.urandom(32))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; use theirs
    with os.fdopen(fd, "wb") as fh:
        fh.write(encoded + b"\n")


def _decode(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: vault key is not valid base64") from None
    if len(key) != 32:
        raise ValueError(f"{where}: vault key must decode to 32 bytes, got {len(key)}")
    return key
