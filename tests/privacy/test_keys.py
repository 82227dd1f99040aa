"""vault_key_from_settings: configured key, or one generated once with 0600 permissions."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from dhanvantri.privacy import vault_key_from_settings
from dhanvantri.settings import Settings


def test_key_from_settings(tmp_path) -> None:
    raw = os.urandom(32)
    settings = Settings(data_dir=tmp_path, vault_key=base64.b64encode(raw).decode())
    assert vault_key_from_settings(settings) == raw
    assert not (tmp_path / "vault.key").exists()


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"16 bytes only...").decode()])
def test_bad_configured_key(tmp_path, bad: str) -> None:
    with pytest.raises(ValueError, match="DHANVANTRI_VAULT_KEY"):
        vault_key_from_settings(Settings(data_dir=tmp_path, vault_key=bad))


def test_generated_once_and_private(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = vault_key_from_settings(settings)
    path = tmp_path / "data" / "vault.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert vault_key_from_settings(settings) == first
