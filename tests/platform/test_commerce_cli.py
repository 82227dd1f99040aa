"""``dhanvantri commerce seed`` loads the catalogue into a fresh installation, twice safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dhanvantri.cli import main


def test_seed_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DHANVANTRI_DATABASE_URL", raising=False)
    assert main(["commerce", "seed", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["medicines"] >= 20 and first["lab_tests"] == 28
    assert main(["commerce", "seed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["intact"] is True
