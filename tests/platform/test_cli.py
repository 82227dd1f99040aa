"""``dhanvantri users create-staff`` and ``dhanvantri audit verify`` from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyotp
import pytest

from dhanvantri.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DHANVANTRI_DATABASE_URL", raising=False)
    return tmp_path


def test_create_admin_then_verify(env: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin passphrase\n"))
    code = main(["users", "create-staff", "--email", "Root@Clinic.example", "--role", "admin",
                 "--full-name", "Root", "--json"])
    out = capsys.readouterr().out
    result = json.loads(out)
    assert code == 0 and result["user"]["email"] == "root@clinic.example"
    assert pyotp.parse_uri(result["totp_uri"]).secret  # TOTP enrolled for admins
    assert "a long admin passphrase" not in out
    assert (env / "dhanvantri.sqlite3").exists()
    assert main(["audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"intact": True, "checked": 1}


def test_bad_input_exits_2(env: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DHANVANTRI_STAFF_PASSWORD", "short")
    code = main(["users", "create-staff", "--email", "doc@clinic.example", "--role",
                 "physician", "--full-name", "Doc", "--registration-number", "R1",
                 "--council", "NMC"])
    assert code == 2
    assert "password" in capsys.readouterr().err
    monkeypatch.setenv("DHANVANTRI_STAFF_PASSWORD", "a long enough passphrase")
    code = main(["users", "create-staff", "--email", "doc@clinic.example", "--role",
                 "physician", "--full-name", "Doc"])
    assert code == 2
    assert "registration_number" in capsys.readouterr().err


def test_verify_without_database_fails(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 1
    assert "cannot read the audit trail" in capsys.readouterr().err
